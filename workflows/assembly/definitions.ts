import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { AssemblyBid, AssemblyInputs, AssemblyResult } from '../../domain/assembly-result';
import type { LotteryCorrection, LotteryEntry } from '../../domain/assembly-record';
import type { GroupRules } from '../../domain/consortium-rules';
import type { AssemblyStatus, BidType, LotterySource } from '../../domain/consortium-statuses';

// One consortium group's monthly assembly (AGO, Lei 11.795 art. 18): the bidding window, the
// Loteria Federal result (entered, correctable until published), the draw and the contemplations
// the fund allows, the winning bids' payment, and a sealed audit record anyone can recompute.

export const assemblyWorkflowId = (tenantId: string, groupId: string, month: string) => `assembly:${tenantId}:${groupId}:${month}`;
// The group's Temporal Schedule; each firing starts openMonthlyAssembly, which starts this
// month's assembly once.
export const assemblyScheduleId = (tenantId: string, groupId: string) => `assembly-schedule:${tenantId}:${groupId}`;

export interface AssemblyOptions {
  // Tests: bidding closes this long after the workflow starts (the calendar's instant otherwise).
  biddingWindowMs?: number;
  // Tests: a winning bid's payment deadline, from its contemplation (the rules' business days otherwise).
  bidPaymentWindowMs?: number;
  // Tests: continue as new past this many history events (the server's suggestion otherwise).
  maxHistoryEvents?: number;
}

export interface AssemblyInput {
  tenantId: string;
  groupId: string;
  month: string; // YYYY-MM
  options?: AssemblyOptions;
  // What a run hands the next when it continues as new during bidding.
  resume?: AssemblyResume;
}

export interface AssemblyResume {
  assemblyId: string;
  bids: LiveBid[];
  lottery: LotteryEntry | null;
  corrections: LotteryCorrection[];
  biddingClosesAt: string;
}

export interface LiveBid {
  bidId: string;
  quotaId: string;
  quota: number;
  type: BidType;
  percent: number;
  amountCents: number;
  placedAt: string;
  actor: Actor;
}

// --- Updates (the API's and automations' calls) -------------------------------------------------

export interface PlaceBidRequest {
  quotaId: string;
  type: BidType;
  // One of the two: the share of the credit, or an amount (turned into its share).
  percent?: number;
  amountCents?: number;
  actor: Actor;
}
export interface PlacedBid {
  bidId: string;
  quota: number;
  type: BidType;
  percent: number;
  amountCents: number;
  // The bid of the same quota this one replaced.
  replacedBidId: string | null;
}
export const placeBidUpdate = defineUpdate<PlacedBid, [PlaceBidRequest]>('placeBid');

export interface WithdrawBidRequest {
  quotaId: string;
  actor: Actor;
}
export const withdrawBidUpdate = defineUpdate<{ bidId: string }, [WithdrawBidRequest]>('withdrawBid');

export interface LotteryResultRequest {
  contest: string | null; // the Loteria Federal's concurso number
  drawDate: string; // YYYY-MM-DD: must be the extraction the rules name
  prizes: string[]; // five 5-digit strings, in prize order
  source: LotterySource;
  actor: Actor;
  // A correction of an earlier entry says why (audited).
  reason?: string | null;
  // Publish at once (an automation reading Caixa's result); otherwise an operator publishes.
  publish?: boolean;
}
export const enterLotteryResultUpdate = defineUpdate<AssemblyView, [LotteryResultRequest]>('enterLotteryResult');

export interface PublishResultRequest {
  actor: Actor;
}
export const publishResultUpdate = defineUpdate<AssemblyView, [PublishResultRequest]>('publishResult');

export interface BidPaymentRequest {
  bidId: string;
  actor: Actor;
}
export const confirmBidPaymentUpdate = defineUpdate<AssemblyView, [BidPaymentRequest]>('confirmBidPayment');

// --- Query ------------------------------------------------------------------------------------

export interface AssemblyView {
  assemblyId: string;
  groupId: string;
  month: string;
  status: AssemblyStatus;
  assemblyDate: string;
  extractionDate: string;
  biddingClosesAt: string;
  ruleVersion: number;
  bids: LiveBid[];
  lottery: LotteryEntry | null;
  corrections: LotteryCorrection[];
  published: boolean;
  // After publication: the derivation so far (complete once every winning bid is settled).
  result: AssemblyResult | null;
  // Winning bids awaiting payment, with their deadlines.
  pendingPayments: { bidId: string; quota: number; dueAt: string }[];
  recordSha256: string | null;
  historyLength: number;
}
export const assemblyViewQuery = defineQuery<AssemblyView>('assemblyView');

// Typed refusals (ApplicationFailure types) the API maps to 409 with their pt-BR message.
export const ASSEMBLY_REFUSALS = {
  biddingClosed: 'BiddingClosed',
  invalidBid: 'InvalidBid',
  quotaNotEligible: 'QuotaNotEligible',
  noBid: 'NoBid',
  lotteryInvalid: 'LotteryInvalid',
  alreadyPublished: 'AlreadyPublished',
  notReady: 'NotReady',
  unknownBid: 'UnknownBid',
} as const;

// --- The scheduled starter --------------------------------------------------------------------

export interface OpenMonthlyAssemblyInput {
  tenantId: string;
  groupId: string;
  options?: {
    // Tests: the instant the firing happens at (now otherwise), to land inside a month's bidding.
    asOf?: string;
    // Handed to the month's assembly (tests' short windows).
    assembly?: AssemblyOptions;
  };
}

// What the starter's activity worked out: the month whose bidding is open at the firing (null:
// none, or the group is not active), with that month's installments issued.
export interface MonthToOpen {
  month: string | null;
  issuedInvoiceIds: string[];
}

// What an assembly run returns once closed (or at once, for a month closed already).
export interface AssemblyOutcome {
  assemblyId: string;
  recordSha256: string | null;
  // Quotas contemplated and confirmed (draw, restitution, paid or embutido bids).
  contemplated: number[];
  // True when the month was closed before this run started: nothing was done.
  alreadyClosed: boolean;
}
export interface OpenedAssembly {
  workflowId: string | null; // null: the group is closed or the month's assembly already ran
  month: string;
  started: boolean;
}

// What the activities give the workflow when it opens (the calendar and rules resolved, the row written).
export interface OpenedAssemblyFacts {
  assemblyId: string;
  groupId: string;
  month: string;
  status: AssemblyStatus;
  assemblyDate: string;
  extractionDate: string;
  biddingClosesAt: string;
  ruleVersion: number;
  rules: GroupRules;
  group: { code: string; name: string; creditCents: number; quotaCount: number };
  timeZone: string;
  // The month's assembly ran already (a schedule firing late, a start by hand): nothing reopens.
  alreadyClosed: boolean;
  recordSha256: string | null;
}

export type FrozenAssemblyInputs = Omit<AssemblyInputs, 'bids' | 'bidPayments' | 'extraction'>;

// The close of bidding, frozen as of the extraction date: the quotas' standing (after the
// exclusions it made), the fund, and the live bids, ordered by quota.
export interface FrozenAssembly {
  inputs: FrozenAssemblyInputs;
  bids: AssemblyBid[];
  excludedQuotas: number[];
}

// A winning bid awaiting its payment, as the result's record wrote it.
export interface PendingBidPayment {
  bidId: string;
  quota: number;
  dueAt: string;
}
