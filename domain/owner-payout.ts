import { addCalendarDays, isBankBusinessDay } from './late-charges';

// Rent received → the property owner's share (repasse), less the agency's fee, due by the
// contract's payout day. Pure: db/payment-recording.ts stores what this computes.
//
// - gross: what was actually paid on the invoice (fines and interest included: they are the
//   owner's rent too, as the contract's late charges);
// - fee: gross × feePercent, truncated to the centavo (the agency never rounds up its own fee);
// - net: gross − fee;
// - referenceMonth: the month of the rent's due date (the statement groups by it);
// - dueDate: the first `payoutDay` on or after the payment date, this month or the next; moved
//   to the next bank business day when it falls on a weekend or a national holiday.

export interface OwnerPayoutInput {
  grossCents: number;
  feePercent: number; // 0–100, up to 4 decimal places
  payoutDay: number; // 1–28
  paidOn: string; // YYYY-MM-DD, the tenant's calendar
  invoiceDueDate: string; // YYYY-MM-DD
}

export interface OwnerPayoutAmounts {
  grossCents: number;
  feeCents: number;
  netCents: number;
  referenceMonth: string; // YYYY-MM
  dueDate: string; // YYYY-MM-DD
}

const RATE_SCALE = 10_000n;

export function ownerPayoutAmounts(input: OwnerPayoutInput): OwnerPayoutAmounts {
  const { grossCents, feePercent, payoutDay, paidOn, invoiceDueDate } = input;
  if (!Number.isSafeInteger(grossCents) || grossCents < 0) throw new RangeError(`grossCents must be whole centavos ≥ 0, got ${grossCents}`);
  if (!Number.isFinite(feePercent) || feePercent < 0 || feePercent > 100) throw new RangeError(`feePercent must be 0–100, got ${feePercent}`);
  if (!Number.isInteger(payoutDay) || payoutDay < 1 || payoutDay > 28) throw new RangeError(`payoutDay must be 1–28, got ${payoutDay}`);
  const rate = BigInt(Math.round(feePercent * Number(RATE_SCALE)));
  const feeCents = Number((BigInt(grossCents) * rate) / (100n * RATE_SCALE));
  return {
    grossCents,
    feeCents,
    netCents: grossCents - feeCents,
    referenceMonth: invoiceDueDate.slice(0, 7),
    dueDate: payoutDueDate(paidOn, payoutDay),
  };
}

// The first `payoutDay` on or after `paidOn`, then the next bank business day.
export function payoutDueDate(paidOn: string, payoutDay: number): string {
  if (!Number.isInteger(payoutDay) || payoutDay < 1 || payoutDay > 28) throw new RangeError(`payoutDay must be 1–28, got ${payoutDay}`);
  const [y, m, d] = paidOn.split('-').map(Number) as [number, number, number];
  const [year, month] = d <= payoutDay ? [y, m] : m === 12 ? [y + 1, 1] : [y, m + 1];
  let due = `${year}-${String(month).padStart(2, '0')}-${String(payoutDay).padStart(2, '0')}`;
  while (!isBankBusinessDay(due)) due = addCalendarDays(due, 1);
  return due;
}
