import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proposalTotals } from '../../domain/proposal-totals';

// Hand-computed: every amount in centavos.
describe('proposal totals', () => {
  const item = (quantity: number, unitPriceCents: number, discountCents = 0) => ({ description: 'x', quantity, unitPriceCents, discountCents });
  const cases: [string, ReturnType<typeof item>[], number, { lines: number[]; lineDiscounts: number[]; subtotal: number; discount: number; total: number }][] = [
    ['one item, no discounts', [item(1, 100_000)], 0, { lines: [100_000], lineDiscounts: [0], subtotal: 100_000, discount: 0, total: 100_000 }],
    ['quantity times price', [item(3, 1_999)], 0, { lines: [5_997], lineDiscounts: [0], subtotal: 5_997, discount: 0, total: 5_997 }],
    ['line discount', [item(2, 50_000, 10_000)], 0, { lines: [90_000], lineDiscounts: [10_000], subtotal: 90_000, discount: 0, total: 90_000 }],
    ['line and proposal discounts', [item(2, 50_000, 10_000), item(1, 25_050)], 5_050, { lines: [90_000, 25_050], lineDiscounts: [10_000, 0], subtotal: 115_050, discount: 5_050, total: 110_000 }],
    ['line discount above the line: zero, applied only up to it', [item(1, 1_000, 5_000)], 0, { lines: [0], lineDiscounts: [1_000], subtotal: 0, discount: 0, total: 0 }],
    ['proposal discount above the subtotal: zero', [item(1, 1_000), item(2, 500)], 9_999, { lines: [1_000, 1_000], lineDiscounts: [0, 0], subtotal: 2_000, discount: 2_000, total: 0 }],
    ['no items', [], 100, { lines: [], lineDiscounts: [], subtotal: 0, discount: 0, total: 0 }],
    ['a car: R$ 129.990,00 less R$ 4.990,00, plus documentation R$ 1.500,00', [item(1, 12_999_000, 499_000), item(1, 150_000)], 0, { lines: [12_500_000, 150_000], lineDiscounts: [499_000, 0], subtotal: 12_650_000, discount: 0, total: 12_650_000 }],
  ];
  for (const [name, items, discount, want] of cases) {
    it(name, () => {
      const t = proposalTotals(items, discount);
      assert.deepEqual(t.items.map((l) => l.totalCents), want.lines);
      assert.deepEqual(t.items.map((l) => l.discountCents), want.lineDiscounts);
      assert.equal(t.subtotalCents, want.subtotal);
      assert.equal(t.discountCents, want.discount);
      assert.equal(t.totalCents, want.total);
    });
  }
  it('refuses fractions of centavos and non-positive quantities', () => {
    assert.throws(() => proposalTotals([item(1, 10.5)], 0), RangeError);
    assert.throws(() => proposalTotals([item(0, 100)], 0), RangeError);
    assert.throws(() => proposalTotals([item(1, 100)], -1), RangeError);
  });
});
