import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyWinningBid, type AppliedBid, type QuotaPlan } from '../../domain/bid-application';

// ABAC's R$ 702,00 installment with 10 still to pay: R$ 7.020,00 owed. Worked out by hand.
const TEN: QuotaPlan = { installmentCents: 70_200, remaining: 10, lastInstallmentCents: null };

describe('applyWinningBid: reduce_term pays the last installments off, in reverse order', () => {
  const cases: [string, QuotaPlan, number, AppliedBid][] = [
    [
      'R$ 1.500: two last ones paid (1.404), the other 96 lower the new last one to 606',
      TEN,
      150_000,
      { installmentCents: 70_200, remaining: 8, lastInstallmentCents: 60_600, amortizedCents: 150_000, leftoverCents: 0 },
    ],
    ['exactly two installments: two fewer, all alike', TEN, 140_400, { installmentCents: 70_200, remaining: 8, lastInstallmentCents: null, amortizedCents: 140_400, leftoverCents: 0 }],
    ['less than one installment: only the last one is lower', TEN, 20_000, { installmentCents: 70_200, remaining: 10, lastInstallmentCents: 50_200, amortizedCents: 20_000, leftoverCents: 0 }],
    [
      // [702, 702, 500]: 500 goes first, the remaining 100 comes off the new last one → 602.
      'a plan whose last one is already lower: that one goes first',
      { installmentCents: 70_200, remaining: 3, lastInstallmentCents: 50_000 },
      60_000,
      { installmentCents: 70_200, remaining: 2, lastInstallmentCents: 60_200, amortizedCents: 60_000, leftoverCents: 0 },
    ],
    [
      'a bid above what is owed pays everything; the rest is left over',
      { installmentCents: 70_200, remaining: 2, lastInstallmentCents: null },
      200_000,
      { installmentCents: 0, remaining: 0, lastInstallmentCents: null, amortizedCents: 140_400, leftoverCents: 59_600 },
    ],
    [
      'a bid that leaves one installment: it is the last one, lowered',
      { installmentCents: 70_200, remaining: 2, lastInstallmentCents: null },
      100_000,
      { installmentCents: 70_200, remaining: 1, lastInstallmentCents: 40_400, amortizedCents: 100_000, leftoverCents: 0 },
    ],
  ];
  for (const [what, plan, bid, e] of cases) it(what, () => assert.deepEqual(applyWinningBid(plan, bid, 'reduce_term'), e));
});

describe('applyWinningBid: reduce_installment lowers all alike, the remainder on the last', () => {
  const cases: [string, QuotaPlan, number, AppliedBid][] = [
    ['R$ 1.500: 5.520 over 10 → 552 each', TEN, 150_000, { installmentCents: 55_200, remaining: 10, lastInstallmentCents: null, amortizedCents: 150_000, leftoverCents: 0 }],
    [
      // 702.000 − 150.003 = 551.997; ÷ 10 → 55.199 each, the last 551.997 − 9 × 55.199 = 55.206.
      'a bid that does not divide evenly: the last one takes the remainder',
      TEN,
      150_003,
      { installmentCents: 55_199, remaining: 10, lastInstallmentCents: 55_206, amortizedCents: 150_003, leftoverCents: 0 },
    ],
    [
      // 70.200 + 70.200 + 50.000 − 40.400 = 150.000 over 3.
      'a plan with a lower last one',
      { installmentCents: 70_200, remaining: 3, lastInstallmentCents: 50_000 },
      40_400,
      { installmentCents: 50_000, remaining: 3, lastInstallmentCents: null, amortizedCents: 40_400, leftoverCents: 0 },
    ],
    [
      'a bid above what is owed: nothing left to pay, the rest left over',
      { installmentCents: 70_200, remaining: 2, lastInstallmentCents: null },
      200_000,
      { installmentCents: 0, remaining: 0, lastInstallmentCents: null, amortizedCents: 140_400, leftoverCents: 59_600 },
    ],
  ];
  for (const [what, plan, bid, e] of cases) it(what, () => assert.deepEqual(applyWinningBid(plan, bid, 'reduce_installment'), e));
});

describe('applyWinningBid: nothing is lost or made up', () => {
  // What is still owed after the bid plus what it amortized is what was owed before.
  const owed = (p: QuotaPlan) => (p.remaining === 0 ? 0 : p.installmentCents * (p.remaining - 1) + (p.lastInstallmentCents ?? p.installmentCents));
  for (const application of ['reduce_term', 'reduce_installment'] as const) {
    for (const bid of [1, 70_199, 70_200, 70_201, 333_333, 702_000, 702_001]) {
      it(`${application}, a bid of ${bid}`, () => {
        const after = applyWinningBid(TEN, bid, application);
        assert.equal(owed(after) + after.amortizedCents, owed(TEN));
        assert.equal(after.amortizedCents + after.leftoverCents, bid);
      });
    }
  }
});
