import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerPayoutAmounts, payoutDueDate } from '../../domain/owner-payout';

// Hand-computed: fee = gross × fee% truncated to the centavo; due on the first payout day on or
// after the payment, moved past weekends and national holidays.
describe('owner payout (repasse)', () => {
  const cases: { name: string; gross: number; fee: number; day: number; paidOn: string; dueDate: string; expect: { fee: number; net: number; month: string; due: string } }[] = [
    // R$ 2.500,00 × 10% = 250,00; paid 2026-03-03, day 10 → Tue 2026-03-10.
    { name: 'same month, business day', gross: 250_000, fee: 10, day: 10, paidOn: '2026-03-03', dueDate: '2026-03-05', expect: { fee: 25_000, net: 225_000, month: '2026-03', due: '2026-03-10' } },
    // R$ 1.234,57 × 8.5% = 104,93845 → 104,93; paid on the payout day itself: that day (Wed 2026-04-15).
    { name: 'fee truncated; paid on the payout day', gross: 123_457, fee: 8.5, day: 15, paidOn: '2026-04-15', dueDate: '2026-04-10', expect: { fee: 10_493, net: 112_964, month: '2026-04', due: '2026-04-15' } },
    // Paid 2026-03-20 after day 10 → 2026-04-10 (Fri).
    { name: 'after the payout day: next month', gross: 100_000, fee: 6, day: 10, paidOn: '2026-03-20', dueDate: '2026-03-05', expect: { fee: 6_000, net: 94_000, month: '2026-03', due: '2026-04-10' } },
    // Paid 2026-12-28 after day 5 → 2027-01-05 (Tue).
    { name: 'December into January', gross: 99_999, fee: 10, day: 5, paidOn: '2026-12-28', dueDate: '2026-12-20', expect: { fee: 9_999, net: 90_000, month: '2026-12', due: '2027-01-05' } },
    // Day 7 of 2026-03 is a Saturday → Monday 2026-03-09.
    { name: 'payout day on a Saturday', gross: 50_000, fee: 0, day: 7, paidOn: '2026-03-02', dueDate: '2026-02-28', expect: { fee: 0, net: 50_000, month: '2026-02', due: '2026-03-09' } },
    // 2026-04-21 (Tiradentes, Tuesday) → Wednesday 2026-04-22.
    { name: 'payout day on a national holiday', gross: 80_000, fee: 12.3456, day: 21, paidOn: '2026-04-01', dueDate: '2026-04-01', expect: { fee: 9_876, net: 70_124, month: '2026-04', due: '2026-04-22' } },
    // 100%: all to the agency (an odd contract, but in range).
    { name: 'fee 100%', gross: 33_333, fee: 100, day: 1, paidOn: '2026-06-01', dueDate: '2026-06-01', expect: { fee: 33_333, net: 0, month: '2026-06', due: '2026-06-01' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = ownerPayoutAmounts({ grossCents: c.gross, feePercent: c.fee, payoutDay: c.day, paidOn: c.paidOn, invoiceDueDate: c.dueDate });
      assert.deepEqual(r, { grossCents: c.gross, feeCents: c.expect.fee, netCents: c.expect.net, referenceMonth: c.expect.month, dueDate: c.expect.due });
    });
  }
  it('80 000 × 12.3456% is 9 876,48 → 9 876 (exact, no float drift)', () => {
    assert.equal(ownerPayoutAmounts({ grossCents: 80_000, feePercent: 12.3456, payoutDay: 1, paidOn: '2026-06-01', invoiceDueDate: '2026-06-01' }).feeCents, 9_876);
  });
  it('refuses what is out of range', () => {
    assert.throws(() => ownerPayoutAmounts({ grossCents: -1, feePercent: 10, payoutDay: 10, paidOn: '2026-03-03', invoiceDueDate: '2026-03-03' }), RangeError);
    assert.throws(() => ownerPayoutAmounts({ grossCents: 1, feePercent: 101, payoutDay: 10, paidOn: '2026-03-03', invoiceDueDate: '2026-03-03' }), RangeError);
    assert.throws(() => payoutDueDate('2026-03-03', 29), RangeError);
  });
});
