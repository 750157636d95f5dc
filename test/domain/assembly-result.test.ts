import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeAssemblyResult, pendingBidPayments, type AssemblyResult, type Contemplation } from '../../domain/assembly-result';
import { DEFAULT_GROUP_RULES } from '../../domain/consortium-rules';
import { assemblyInputs, CREDIT, L15, quotas } from '../support/assembly-fixture';

// The fixture (test/support/assembly-fixture.ts) is worked out by hand there: drawn quota 7,
// excluded quota 9 restituted, bids ranked 12 (50%), 10 (30%), 4 (30%), 14 (embutido 25%).
// Fund: R$ 30.000 common, R$ 2.000 reserve; a credit is R$ 10.000.
const draw = (quota: number, fromReserveCents = 0): Contemplation => ({
  kind: 'draw',
  quota,
  status: 'confirmed',
  creditCents: CREDIT,
  restitutionCents: 0,
  fromReserveCents,
  bidId: null,
  bidPercent: null,
  bidAmountCents: null,
});
const restitution = (quota: number, restitutionCents: number, fromReserveCents = 0): Contemplation => ({
  kind: 'excluded_draw',
  quota,
  status: 'confirmed',
  creditCents: 0,
  restitutionCents,
  fromReserveCents,
  bidId: null,
  bidPercent: null,
  bidAmountCents: null,
});
const byBid = (quota: number, percent: number, status: Contemplation['status'], creditCents = CREDIT): Contemplation => ({
  kind: 'bid',
  quota,
  status,
  creditCents,
  restitutionCents: 0,
  fromReserveCents: 0,
  bidId: `b-${quota}`,
  bidPercent: percent,
  bidAmountCents: (CREDIT * percent) / 100,
});
const outcomes = (r: AssemblyResult) => Object.fromEntries(Object.entries(r.bidOutcomes).map(([id, o]) => [id, o.outcome]));
const LATE = 'Cota em atraso na data da extração.';
const DRAWN = 'Cota contemplada por sorteio nesta assembleia.';
const NOT_ACTIVE = 'Cota não está ativa.';
const COUNT = 'Número de contemplações por lance já atingido.';
const FUND = 'O fundo comum não comporta mais contemplações.';

describe('computeAssemblyResult: the order and the ranking', () => {
  const r = computeAssemblyResult(assemblyInputs());

  it('draws among active quotas up to date: 7, the first candidate', () => {
    assert.deepEqual(r.draw, { candidates: L15, quota: 7 });
    assert.equal(r.referenceQuota, 7);
  });
  it('then among excluded quotas: 9, by radial search from 7 (8, 6, 9)', () => {
    assert.deepEqual(r.excludedDraws, [{ candidates: L15, quota: 9 }]);
  });
  it('ranks the eligible bids: percent, then nearer 7, then the higher number', () => {
    assert.deepEqual(
      r.ranking.map((b) => [b.position, b.quota, b.percent, b.distance]),
      [
        [1, 12, 50, 5],
        [2, 10, 30, 3],
        [3, 4, 30, 3],
        [4, 14, 25, 7],
      ],
    );
  });
  it('contemplates draw, restitution, then the two best bids, which wait for payment', () => {
    assert.deepEqual(r.contemplations, [draw(7), restitution(9, 80_000), byBid(12, 50, 'pending_payment'), byBid(10, 30, 'pending_payment')]);
    assert.equal(r.complete, false);
    assert.deepEqual(pendingBidPayments(r), ['b-12', 'b-10']);
  });
  it('says why each other bid did not win', () => {
    assert.deepEqual(r.bidOutcomes, {
      'b-3': { outcome: 'ineligible', reason: LATE },
      'b-4': { outcome: 'lost', reason: COUNT },
      'b-7': { outcome: 'ineligible', reason: DRAWN },
      'b-10': { outcome: 'pending_payment', reason: null },
      'b-12': { outcome: 'pending_payment', reason: null },
      'b-14': { outcome: 'lost', reason: COUNT },
      'b-18': { outcome: 'ineligible', reason: NOT_ACTIVE },
    });
  });
  it('takes each contemplation out of the common fund: 30.000 − 10.000 − 800 − 5.000 − 7.000 = 7.200', () => {
    assert.deepEqual(r.fundAfter, { commonCents: 720_000, reserveCents: 200_000 });
  });
  it('writes each step of the derivation', () => {
    assert.deepEqual(
      r.steps.map((s) => s.step),
      ['inputs', 'draw', 'contemplated', 'contemplated', 'ranking', 'contemplated', 'contemplated', 'result'],
    );
    assert.equal(r.steps[4]!.text, 'Classificação dos lances: 1º cota 12 (50%); 2º cota 10 (30%); 3º cota 4 (30%); 4º cota 14 (25%).');
  });
  it('does not depend on the order the quotas and bids come in', () => {
    const shuffled = assemblyInputs({ quotas: quotas().reverse(), bids: [...assemblyInputs().bids].reverse() });
    assert.deepEqual(computeAssemblyResult(shuffled), r);
  });
  it('the winning bids paid: the assembly is complete', () => {
    const paid = computeAssemblyResult(assemblyInputs({ bidPayments: { 'b-12': 'paid', 'b-10': 'paid' } }));
    assert.deepEqual(paid.contemplations.slice(2), [byBid(12, 50, 'confirmed'), byBid(10, 30, 'confirmed')]);
    assert.deepEqual([outcomes(paid)['b-12'], outcomes(paid)['b-10']], ['won', 'won']);
    assert.equal(paid.complete, true);
  });
});

describe('computeAssemblyResult: an unpaid winning bid', () => {
  it('is disqualified and the next in line is contemplated', () => {
    const r = computeAssemblyResult(assemblyInputs({ bidPayments: { 'b-12': 'unpaid' } }));
    assert.deepEqual(r.contemplations.slice(2), [byBid(10, 30, 'pending_payment'), byBid(4, 30, 'pending_payment')]);
    assert.deepEqual(r.bidOutcomes['b-12'], { outcome: 'disqualified', reason: 'Lance vencedor não pago no prazo.' });
    assert.equal(outcomes(r)['b-14'], 'lost');
    // 30.000 − 10.000 − 800 − 7.000 − 7.000: the disqualified bid takes nothing.
    assert.deepEqual(r.fundAfter, { commonCents: 520_000, reserveCents: 200_000 });
    assert.equal(r.complete, false);
    assert.ok(r.steps.some((s) => s.step === 'disqualified' && s.data.bidId === 'b-12'));
  });
  it('a lance embutido next in line is confirmed at once, its credit less its share', () => {
    const r = computeAssemblyResult(assemblyInputs({ bidPayments: { 'b-12': 'unpaid', 'b-10': 'paid', 'b-4': 'unpaid' } }));
    // 25% of R$ 10.000 stays in the fund: R$ 7.500 is released, and comes out of it.
    assert.deepEqual(r.contemplations.slice(2), [byBid(10, 30, 'confirmed'), byBid(14, 25, 'confirmed', 750_000)]);
    assert.deepEqual(outcomes(r), { 'b-3': 'ineligible', 'b-4': 'disqualified', 'b-7': 'ineligible', 'b-10': 'won', 'b-12': 'disqualified', 'b-14': 'won', 'b-18': 'ineligible' });
    assert.deepEqual(r.fundAfter, { commonCents: 3_000_000 - 1_080_000 - 700_000 - 750_000, reserveCents: 200_000 });
    assert.equal(r.complete, true);
  });
  it("a payment recorded for a lance embutido changes nothing: it needs none", () => {
    const inputs = assemblyInputs({ bids: assemblyInputs().bids.filter((b) => b.quota === 14) });
    const r = computeAssemblyResult(inputs);
    assert.deepEqual(r.contemplations.slice(2), [byBid(14, 25, 'confirmed', 750_000)]);
    assert.deepEqual(computeAssemblyResult({ ...inputs, bidPayments: { 'b-14': 'unpaid' } }), r);
  });
});

describe('computeAssemblyResult: the fund decides how many', () => {
  it('more eligible bids than the fund allows: the rest lose, saying so', () => {
    // 22.799,99: draw 10.000 → 12.799,99; restitution 800 → 11.999,99; bid 12 takes 5.000 →
    // 6.999,99, short of the 7.000 the next bid needs.
    const rules = { ...DEFAULT_GROUP_RULES, contemplations: { ...DEFAULT_GROUP_RULES.contemplations, byBid: 5 } };
    const r = computeAssemblyResult(assemblyInputs({ rules, fund: { commonCents: 2_279_999, reserveCents: 200_000 } }));
    assert.deepEqual(r.contemplations, [draw(7), restitution(9, 80_000), byBid(12, 50, 'pending_payment')]);
    for (const id of ['b-10', 'b-4', 'b-14']) assert.deepEqual(r.bidOutcomes[id], { outcome: 'lost', reason: FUND });
    assert.deepEqual(r.fundAfter, { commonCents: 699_999, reserveCents: 200_000 });
    assert.ok(r.steps.some((s) => s.step === 'fund_short' && s.data.kind === 'bid' && s.data.quota === 10));
  });
  it('with the fund exactly enough, the next bid wins', () => {
    const rules = { ...DEFAULT_GROUP_RULES, contemplations: { ...DEFAULT_GROUP_RULES.contemplations, byBid: 5 } };
    const r = computeAssemblyResult(assemblyInputs({ rules, fund: { commonCents: 2_280_000, reserveCents: 0 } }));
    assert.deepEqual(r.contemplations.map((c) => c.quota), [7, 9, 12, 10]);
    assert.deepEqual(r.fundAfter, { commonCents: 0, reserveCents: 0 });
  });
  it('the reserve fund covers a draw’s shortfall when the rules allow it', () => {
    // R$ 7.000 common + R$ 3.000 reserve pay the draw; the restitution takes R$ 800 of the
    // reserve left; nothing is left in the common fund for a bid.
    const r = computeAssemblyResult(assemblyInputs({ fund: { commonCents: 700_000, reserveCents: 400_000 } }));
    assert.deepEqual(r.contemplations, [draw(7, 300_000), restitution(9, 80_000, 80_000)]);
    assert.deepEqual(r.fundAfter, { commonCents: 0, reserveCents: 20_000 });
    assert.deepEqual(r.bidOutcomes['b-12'], { outcome: 'lost', reason: FUND });
  });
  it('the reserve fund never pays for a bid', () => {
    const r = computeAssemblyResult(assemblyInputs({ fund: { commonCents: 1_080_000 + 499_999, reserveCents: 5_000_000 } }));
    assert.deepEqual(r.contemplations, [draw(7), restitution(9, 80_000)]);
    assert.deepEqual(r.fundAfter, { commonCents: 499_999, reserveCents: 5_000_000 });
  });
  it('without the rule, a short fund draws nobody, and the drawn quota may still win by bid', () => {
    const rules = { ...DEFAULT_GROUP_RULES, reserveFundCoversDraws: false };
    const r = computeAssemblyResult(assemblyInputs({ rules, fund: { commonCents: 700_000, reserveCents: 400_000 } }));
    assert.equal(r.draw.quota, 7);
    assert.ok(r.steps.some((s) => s.step === 'fund_short' && s.data.kind === 'draw'));
    // 7.000 − 800 = 6.200; quota 7's 70% bid needs 3.000 → 3.200, short of quota 12's 5.000.
    assert.deepEqual(r.contemplations, [restitution(9, 80_000), byBid(7, 70, 'pending_payment')]);
    assert.deepEqual(r.bidOutcomes['b-12'], { outcome: 'lost', reason: FUND });
    assert.deepEqual(r.fundAfter, { commonCents: 320_000, reserveCents: 400_000 });
  });
});

describe('computeAssemblyResult: eligibility as of the extraction date', () => {
  it('a drawn quota that is late is passed over: the next candidate in the group, 12, wins', () => {
    const r = computeAssemblyResult(assemblyInputs({ quotas: quotas({ 7: { upToDate: false } }) }));
    assert.deepEqual(r.draw, { candidates: L15, quota: 12 });
    assert.equal(r.referenceQuota, 12);
    assert.deepEqual(r.contemplations, [draw(12), restitution(9, 80_000), byBid(10, 30, 'pending_payment'), byBid(4, 30, 'pending_payment')]);
    // Quota 12's own bid is out: it was drawn. Quota 7's: late.
    assert.deepEqual(r.bidOutcomes['b-12'], { outcome: 'ineligible', reason: DRAWN });
    assert.deepEqual(r.bidOutcomes['b-7'], { outcome: 'ineligible', reason: LATE });
    // From 12: quota 10 is 2 away, quota 4 is 8.
    assert.deepEqual(r.ranking.map((b) => [b.quota, b.distance]), [[10, 2], [4, 8], [14, 2]]);
  });
  it('a second draw among active quotas takes the next candidate, and its bid is out', () => {
    const rules = { ...DEFAULT_GROUP_RULES, contemplations: { ...DEFAULT_GROUP_RULES.contemplations, byDraw: 2 } };
    const r = computeAssemblyResult(assemblyInputs({ rules }));
    // 30.000 − 20.000 − 800 = 9.200; bid 10 takes 7.000 → 2.200, short of bid 4's 7.000.
    assert.deepEqual(r.contemplations, [draw(7), draw(12), restitution(9, 80_000), byBid(10, 30, 'pending_payment')]);
    assert.deepEqual(r.bidOutcomes['b-12'], { outcome: 'ineligible', reason: DRAWN });
  });
  it('an excluded quota already restituted is not drawn again: 5 is (radial from 7: 8, 6, 9, 5)', () => {
    const r = computeAssemblyResult(assemblyInputs({ quotas: quotas({ 9: { restituted: true } }) }));
    assert.deepEqual(r.contemplations.slice(0, 2), [draw(7), restitution(5, 120_000)]);
  });
  it('no excluded quota to restitute: the step says so, and the bids still follow', () => {
    const r = computeAssemblyResult(assemblyInputs({ quotas: quotas({ 5: { restituted: true }, 9: { restituted: true } }) }));
    assert.deepEqual(r.excludedDraws, [{ candidates: L15, quota: null }]);
    assert.deepEqual(r.contemplations.map((c) => c.quota), [7, 12, 10]);
  });
  it('no active quota up to date: nobody drawn; ties are measured from the first candidate', () => {
    const late = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i + 1, { upToDate: false }]));
    const r = computeAssemblyResult(assemblyInputs({ quotas: quotas(late) }));
    assert.equal(r.draw.quota, null);
    assert.equal(r.referenceQuota, 7);
    assert.deepEqual(r.contemplations, [restitution(9, 80_000)]);
    assert.ok(Object.values(r.bidOutcomes).every((o) => o.outcome === 'ineligible'));
  });
});

describe('computeAssemblyResult refuses a group its draw rule does not fit', () => {
  it('loteria-15 for 1001 quotas', () => {
    assert.throws(() => computeAssemblyResult(assemblyInputs({ quotaCount: 1001 })), /the draw rule loteria-15 does not fit a group of 1001 quotas/);
  });
});
