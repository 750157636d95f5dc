import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bidAmountCents, monthlyInstallment, type InstallmentParts } from '../../domain/consortium-installment';

// Linear plan: each part is credit × percent ÷ 100 ÷ term, rounded half-up on its own; the total
// is the sum of the rounded parts. Figures worked out by hand.
const parts = (commonFundCents: number, adminFeeCents: number, reserveFundCents: number): InstallmentParts => ({
  commonFundCents,
  adminFeeCents,
  reserveFundCents,
  totalCents: commonFundCents + adminFeeCents + reserveFundCents,
});

describe('monthlyInstallment', () => {
  const cases: [string, [number, number, number, number], InstallmentParts][] = [
    ["ABAC's example: R$ 30.000, 50 months, 15%, 2% → 600 + 90 + 12 = R$ 702,00", [3_000_000, 50, 15, 2], parts(60_000, 9_000, 1_200)],
    ['R$ 10.000 over 3 months: 333.333,33 → 333.333 centavos; 10% → 33.333,33 → 33.333', [1_000_000, 3, 10, 0], parts(333_333, 33_333, 0)],
    ['half a centavo rounds up: 100.001 ÷ 2 = 50.000,5 → 50.001; 15% → 7.500,075 → 7.500; 2% → 1.000,01 → 1.000', [100_001, 2, 15, 2], parts(50_001, 7_500, 1_000)],
    [
      'fractional rates: R$ 12.345,67 over 36 months, 22,5% and 2,5% → 34.293,53 → 34.294; 7.716,04 → 7.716; 857,34 → 857',
      [1_234_567, 36, 22.5, 2.5],
      parts(34_294, 7_716, 857),
    ],
    ['17,5% of R$ 30.000 over 60 months is exact: 50.000 + 8.750 + 1.000', [3_000_000, 60, 17.5, 2], parts(50_000, 8_750, 1_000)],
    ['no fee and no reserve: the common fund alone', [3_000_000, 50, 0, 0], parts(60_000, 0, 0)],
    ['a real-estate credit: R$ 500.000, 180 months, 20%, 3% → 277.777,78 → 277.778; 55.555,56 → 55.556; 8.333,33 → 8.333', [50_000_000, 180, 20, 3], parts(277_778, 55_556, 8_333)],
  ];
  for (const [what, [credit, term, fee, reserve], expected] of cases) {
    it(what, () => assert.deepEqual(monthlyInstallment(credit, term, fee, reserve), expected));
  }
  it('refuses a credit that is not a positive whole number of centavos', () => {
    assert.throws(() => monthlyInstallment(0, 50, 15, 2), RangeError);
    assert.throws(() => monthlyInstallment(100.5, 50, 15, 2), RangeError);
  });
  it('refuses a term that is not a positive whole number of months', () => {
    assert.throws(() => monthlyInstallment(3_000_000, 0, 15, 2), RangeError);
    assert.throws(() => monthlyInstallment(3_000_000, 1.5, 15, 2), RangeError);
  });
  it('refuses a negative percentage', () => assert.throws(() => monthlyInstallment(3_000_000, 50, -1, 2), RangeError));
});

describe('bidAmountCents: a share of the credit in centavos', () => {
  const cases: [number, number, number][] = [
    [3_000_000, 25, 750_000],
    [3_000_000, 0.5, 15_000],
    [1_234_567, 12.3456, 152_415], // 152.414,703552 → 152.415
    [100_001, 50, 50_001], // 50.000,5 rounds up
    [3_000_000, 100, 3_000_000],
  ];
  for (const [credit, percent, e] of cases) it(`${percent}% of ${credit} → ${e}`, () => assert.equal(bidAmountCents(credit, percent), e));
});
