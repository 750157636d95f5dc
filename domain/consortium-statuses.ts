// Consortium administration's lists (the consortium seed's GruposConsorcio, Vagas, Lances,
// Contemplacoes; Lei 11.795/2008 and Resolução BCB 285/2023 in ../shared/NOTES-consorcio.md).

// A group forms (quotas being sold), runs its monthly assemblies, then closes with a final account.
export const GROUP_STATUSES = ['forming', 'active', 'closed'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

// Art. 21: an active quota competes; a contemplated one has its credit; an excluded one (a
// defaulting, never contemplated member) waits for its restitution by draw.
export const QUOTA_STATUSES = ['active', 'contemplated', 'excluded'] as const;
export type QuotaStatus = (typeof QUOTA_STATUSES)[number];

// Lance livre (any share, within limits), fixo (a share the contract sets), embutido (paid from
// part of the credit itself).
export const BID_TYPES = ['livre', 'fixo', 'embutido'] as const;
export type BidType = (typeof BID_TYPES)[number];

// live: counts at the close; replaced by a newer bid of the same quota; withdrawn by the member;
// ineligible: the quota was late on the extraction date or was drawn; won / lost at the close;
// disqualified: a winning bid unpaid by the deadline.
export const BID_STATUSES = ['live', 'replaced', 'withdrawn', 'ineligible', 'won', 'lost', 'disqualified'] as const;
export type BidStatus = (typeof BID_STATUSES)[number];

// One assembly per group and month: bids are taken, then it waits for the Loteria Federal result
// (entered, correctable until published), contemplates, waits for winning bids to be paid, closes.
export const ASSEMBLY_STATUSES = ['bidding', 'awaiting_result', 'confirming_bids', 'closed'] as const;
export type AssemblyStatus = (typeof ASSEMBLY_STATUSES)[number];

// By draw among active quotas, by draw among excluded quotas (restitution), by bid.
export const CONTEMPLATION_KINDS = ['draw', 'excluded_draw', 'bid'] as const;
export type ContemplationKind = (typeof CONTEMPLATION_KINDS)[number];

// A bid's contemplation waits for its payment; an unpaid one is disqualified.
export const CONTEMPLATION_STATUSES = ['confirmed', 'pending_payment', 'disqualified'] as const;
export type ContemplationStatus = (typeof CONTEMPLATION_STATUSES)[number];

// How a winning bid is applied to the future installments (BCB 285: the contract says).
export const BID_APPLICATIONS = ['reduce_term', 'reduce_installment'] as const;
export type BidApplication = (typeof BID_APPLICATIONS)[number];

// domain/draw.ts.
export const DRAW_RULES = ['loteria-15', 'loteria-10', 'radial'] as const;
export type DrawRule = (typeof DRAW_RULES)[number];

// Named tie-breaks for bids of the same percentage (domain/draw.ts rankBids is the default).
export const BID_TIE_BREAKS = ['nearest-drawn-higher-first'] as const;
export type BidTieBreak = (typeof BID_TIE_BREAKS)[number];

// Which Loteria Federal extraction an assembly uses: the last one before the assembly date
// (Mycon, Yamaha) or the last one of the previous month (Disal).
export const EXTRACTION_RULES = ['last_before_assembly', 'last_of_previous_month'] as const;
export type ExtractionRule = (typeof EXTRACTION_RULES)[number];

// Who typed the lottery numbers in.
export const LOTTERY_SOURCES = ['operator', 'automation'] as const;
export type LotterySource = (typeof LOTTERY_SOURCES)[number];
