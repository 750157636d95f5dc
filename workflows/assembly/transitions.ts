import type { LotteryCorrection, LotteryEntry } from '../../domain/assembly-record';
import type { AssemblyResult } from '../../domain/assembly-result';
import type { BidCheck } from '../../domain/bid-rules';
import { localParts } from '../../domain/calendar';
import { ddmmyyyy } from '../../domain/collection-notice';
import type { AssemblyStatus } from '../../domain/consortium-statuses';
import { ASSEMBLY_REFUSALS, type LiveBid, type LotteryResultRequest } from './definitions';

// The assembly run's pure decisions: when a bid or a lottery entry is refused (and the pt-BR text
// the member or operator reads), how a new bid replaces the quota's previous one, how an entry
// becomes a correction, and which status the result leaves. No Temporal here.

export interface Refusal {
  type: (typeof ASSEMBLY_REFUSALS)[keyof typeof ASSEMBLY_REFUSALS];
  message: string;
}


// "02/12/2026 às 18:00" in the tenant's time zone: the deadline as the member's calendar shows it.
export function localDeadline(iso: string, timeZone: string): string {
  const p = localParts(new Date(iso), timeZone);
  const hh = String(Math.floor(p.minutes / 60)).padStart(2, '0');
  const mm = String(p.minutes % 60).padStart(2, '0');
  return `${ddmmyyyy(p.date)} às ${hh}:${mm}`;
}

// Bids are taken while the status is bidding and the deadline has not passed.
export function biddingClosedRefusal(status: AssemblyStatus, nowMs: number, closesAt: string, timeZone: string): Refusal | null {
  if (status === 'bidding' && nowMs < Date.parse(closesAt)) return null;
  return { type: ASSEMBLY_REFUSALS.biddingClosed, message: `O prazo de lances desta assembleia terminou em ${localDeadline(closesAt, timeZone)}.` };
}

// checkBid's answer as the update's refusal.
export function bidCheckRefusal(check: BidCheck): Refusal | null {
  if (check.ok) return null;
  return { type: check.code === 'quota_not_eligible' ? ASSEMBLY_REFUSALS.quotaNotEligible : ASSEMBLY_REFUSALS.invalidBid, message: check.reason };
}

export const QUOTA_NOT_IN_GROUP: Refusal = { type: ASSEMBLY_REFUSALS.quotaNotEligible, message: 'Esta cota não pertence ao grupo desta assembleia.' };

// One live bid per quota: the new one takes the old one's place (the old one is `replaced`).
export function replaceBid(bids: readonly LiveBid[], bid: LiveBid): { bids: LiveBid[]; replaced: LiveBid | null } {
  const replaced = bids.find((b) => b.quotaId === bid.quotaId) ?? null;
  return { bids: [...bids.filter((b) => b.quotaId !== bid.quotaId), bid].sort((a, b) => a.quota - b.quota), replaced };
}

export function withdrawBid(bids: readonly LiveBid[], quotaId: string): { bids: LiveBid[]; withdrawn: LiveBid } | Refusal {
  const withdrawn = bids.find((b) => b.quotaId === quotaId);
  if (!withdrawn) return { type: ASSEMBLY_REFUSALS.noBid, message: 'Esta cota não tem lance ativo nesta assembleia.' };
  return { bids: bids.filter((b) => b.quotaId !== quotaId), withdrawn };
}

export interface LotteryState {
  status: AssemblyStatus;
  published: boolean;
  extractionDate: string;
  lottery: LotteryEntry | null;
}

const PRIZE = /^\d{5}$/;

// The Loteria Federal result is taken after bidding closed, for the extraction the rules name,
// five 5-digit prizes; a second entry is a correction and says why; none once published.
export function lotteryRefusal(state: LotteryState, req: Pick<LotteryResultRequest, 'drawDate' | 'prizes' | 'reason'>): Refusal | null {
  const invalid = (message: string): Refusal => ({ type: ASSEMBLY_REFUSALS.lotteryInvalid, message });
  if (state.published || state.status === 'confirming_bids' || state.status === 'closed') {
    return { type: ASSEMBLY_REFUSALS.alreadyPublished, message: 'O resultado desta assembleia já foi publicado; o sorteio não pode mais ser alterado.' };
  }
  if (state.status === 'bidding') return { type: ASSEMBLY_REFUSALS.notReady, message: 'Os lances ainda estão abertos: o resultado da Loteria Federal só é informado depois do encerramento dos lances.' };
  if (req.drawDate !== state.extractionDate) {
    return invalid(`Esta assembleia usa a extração da Loteria Federal de ${ddmmyyyy(state.extractionDate)}; o resultado informado é de ${/^\d{4}-\d{2}-\d{2}$/.test(String(req.drawDate)) ? ddmmyyyy(req.drawDate) : 'uma data inválida'}.`);
  }
  if (!Array.isArray(req.prizes) || req.prizes.length !== 5 || !req.prizes.every((p) => typeof p === 'string' && PRIZE.test(p))) {
    return invalid('Informe os cinco prêmios da Loteria Federal, na ordem, cada um com 5 dígitos.');
  }
  if (state.lottery && !(typeof req.reason === 'string' && req.reason.trim().length >= 3)) {
    return invalid('O resultado já foi informado: para corrigi-lo, diga o motivo da correção.');
  }
  return null;
}

// The entry, or the correction of the one before (who and when are the new entry's).
export function enterLottery(previous: LotteryEntry | null, corrections: readonly LotteryCorrection[], next: LotteryEntry, reason: string | null | undefined): { lottery: LotteryEntry; corrections: LotteryCorrection[] } {
  if (!previous) return { lottery: next, corrections: [...corrections] };
  return { lottery: next, corrections: [...corrections, { previous, next, reason: (reason ?? '').trim() }] };
}

export function publishRefusal(state: Pick<LotteryState, 'published' | 'lottery' | 'status'>): Refusal | null {
  if (state.published || state.status === 'confirming_bids' || state.status === 'closed') return { type: ASSEMBLY_REFUSALS.alreadyPublished, message: 'O resultado desta assembleia já foi publicado.' };
  if (state.status === 'bidding' || !state.lottery) return { type: ASSEMBLY_REFUSALS.notReady, message: 'Informe o resultado da Loteria Federal antes de publicar o resultado da assembleia.' };
  return null;
}

export function bidPaymentRefusal(pending: readonly { bidId: string }[], bidId: string): Refusal | null {
  if (pending.some((p) => p.bidId === bidId)) return null;
  return { type: ASSEMBLY_REFUSALS.unknownBid, message: 'Este lance não está aguardando pagamento nesta assembleia.' };
}

// After publication: bids still to be paid keep the assembly confirming, otherwise it closes.
export function statusAfterResult(result: Pick<AssemblyResult, 'complete'>): AssemblyStatus {
  return result.complete ? 'closed' : 'confirming_bids';
}

// The pending bids whose deadline passed by `nowMs` (not those just paid).
export function overdueBids(pending: readonly { bidId: string; dueAt: string }[], nowMs: number, paid: ReadonlySet<string>): string[] {
  return pending.filter((p) => !paid.has(p.bidId) && Date.parse(p.dueAt) <= nowMs).map((p) => p.bidId);
}
