import type { BidApplication } from './consortium-statuses';

// A paid winning bid amortizes the quota's future installments as the group's rules say (BCB
// 285): reduce_term pays the last installments off in reverse order (what is left of the bid
// lowers the new last one); reduce_installment lowers every remaining installment alike, the
// rounding remainder on the last. Centavos; pure.

export interface QuotaPlan {
  installmentCents: number;
  remaining: number; // installments not yet issued
  lastInstallmentCents: number | null; // null: the last is like the others
}

export interface AppliedBid extends QuotaPlan {
  amortizedCents: number;
  // A bid above everything still owed: what is left over (returned to the member).
  leftoverCents: number;
}

function amounts(plan: QuotaPlan): number[] {
  const list = Array.from({ length: plan.remaining }, () => plan.installmentCents);
  if (plan.remaining > 0 && plan.lastInstallmentCents !== null) list[list.length - 1] = plan.lastInstallmentCents;
  return list;
}

function planOf(list: number[], regular: number): QuotaPlan {
  // Nothing left to pay: no installment (as reduce_installment says too).
  if (list.length === 0) return { installmentCents: 0, remaining: 0, lastInstallmentCents: null };
  const last = list[list.length - 1]!;
  const first = list[0]!;
  const installmentCents = list.length > 1 ? first : regular;
  return { installmentCents, remaining: list.length, lastInstallmentCents: last === installmentCents ? null : last };
}

export function applyWinningBid(plan: QuotaPlan, bidCents: number, application: BidApplication): AppliedBid {
  const list = amounts(plan);
  const owed = list.reduce((a, b) => a + b, 0);
  const amortizedCents = Math.min(bidCents, owed);
  const leftoverCents = bidCents - amortizedCents;
  if (application === 'reduce_term') {
    let left = amortizedCents;
    while (list.length > 0 && left >= list[list.length - 1]!) left -= list.pop()!;
    if (left > 0 && list.length > 0) list[list.length - 1] = list[list.length - 1]! - left;
    return { ...planOf(list, plan.installmentCents), amortizedCents, leftoverCents };
  }
  const total = owed - amortizedCents;
  if (plan.remaining === 0 || total === 0) return { installmentCents: 0, remaining: total === 0 ? 0 : plan.remaining, lastInstallmentCents: null, amortizedCents, leftoverCents };
  const each = Math.floor(total / plan.remaining);
  const last = total - each * (plan.remaining - 1);
  return { installmentCents: each, remaining: plan.remaining, lastInstallmentCents: last === each ? null : last, amortizedCents, leftoverCents };
}
