import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBid, type BidCheck, type BidderStanding, type BidOffer } from '../../domain/bid-rules';
import { DEFAULT_GROUP_RULES, type GroupRules } from '../../domain/consortium-rules';

// The default rules: livre 5%–80%, fixo 25% or 50%, embutido up to 30%; a R$ 30.000 credit.
const CREDIT = 3_000_000;
const ACTIVE: BidderStanding = { number: 7, status: 'active', upToDate: true };
const ok = (percent: number, amountCents: number): BidCheck => ({ ok: true, percent, amountCents });
const invalid = (reason: string): BidCheck => ({ ok: false, code: 'invalid_bid', reason });
const notEligible = (reason: string): BidCheck => ({ ok: false, code: 'quota_not_eligible', reason });

describe('checkBid: each type within its limits', () => {
  const cases: [string, BidOffer, BidCheck][] = [
    ['livre 10%', { type: 'livre', percent: 10 }, ok(10, 300_000)],
    ['livre at the minimum, 5%', { type: 'livre', percent: 5 }, ok(5, 150_000)],
    ['livre below the minimum', { type: 'livre', percent: 4.99 }, invalid('O lance livre mínimo deste grupo é 5% do crédito.')],
    ['livre at the maximum, 80%', { type: 'livre', percent: 80 }, ok(80, 2_400_000)],
    ['livre above the maximum', { type: 'livre', percent: 80.5 }, invalid('O lance livre máximo deste grupo é 80% do crédito.')],
    ['fixo 25%', { type: 'fixo', percent: 25 }, ok(25, 750_000)],
    ['fixo 50%', { type: 'fixo', percent: 50 }, ok(50, 1_500_000)],
    ['fixo at a share the contract does not set', { type: 'fixo', percent: 30 }, invalid('O lance fixo deste grupo é de 25% ou 50% do crédito.')],
    ['embutido 30%', { type: 'embutido', percent: 30 }, ok(30, 900_000)],
    ['embutido 2% (no minimum of its own)', { type: 'embutido', percent: 2 }, ok(2, 60_000)],
    ['embutido above its limit', { type: 'embutido', percent: 30.5 }, invalid('O lance embutido pode usar no máximo 30% do crédito.')],
  ];
  for (const [what, offer, e] of cases) it(what, () => assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, ACTIVE, offer), e));
});

describe('checkBid: an amount in centavos becomes a share of the credit', () => {
  const cases: [string, BidOffer, BidCheck][] = [
    ['R$ 1.500 of R$ 30.000 is 5%', { type: 'livre', amountCents: 150_000 }, ok(5, 150_000)],
    // 200.001 × 100 / 3.000.000 = 6,66670 → 6,6667; the amount offered is kept as offered.
    ['R$ 2.000,01 is 6,6667%, kept to 4 decimals', { type: 'livre', amountCents: 200_001 }, ok(6.6667, 200_001)],
    ['R$ 1.499,99 is 4,99997% → 5% after rounding to 4 decimals', { type: 'livre', amountCents: 149_999 }, ok(5, 149_999)],
    ['R$ 1.490 is 4,9667%: below the minimum', { type: 'livre', amountCents: 149_000 }, invalid('O lance livre mínimo deste grupo é 5% do crédito.')],
    ['R$ 7.500 as a lance fixo is 25%', { type: 'fixo', amountCents: 750_000 }, ok(25, 750_000)],
    ['R$ 7.600 as a lance fixo is no fixed share', { type: 'fixo', amountCents: 760_000 }, invalid('O lance fixo deste grupo é de 25% ou 50% do crédito.')],
  ];
  for (const [what, offer, e] of cases) it(what, () => assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, ACTIVE, offer), e));
  it('limits with decimals are written the Brazilian way', () => {
    const rules: GroupRules = { ...DEFAULT_GROUP_RULES, bidLimits: { ...DEFAULT_GROUP_RULES.bidLimits, minPercent: 7.5 } };
    assert.deepEqual(checkBid(rules, CREDIT, ACTIVE, { type: 'livre', percent: 7 }), invalid('O lance livre mínimo deste grupo é 7,5% do crédito.'));
  });
});

describe('checkBid: malformed offers', () => {
  const both = 'Informe o lance em percentual do crédito ou em valor, um dos dois.';
  const range = 'O lance deve ser maior que zero e no máximo o valor do crédito.';
  const cases: [string, BidOffer, BidCheck][] = [
    ['both a share and an amount', { type: 'livre', percent: 10, amountCents: 300_000 }, invalid(both)],
    ['neither', { type: 'livre' }, invalid(both)],
    ['0%', { type: 'livre', percent: 0 }, invalid(range)],
    ['a negative amount', { type: 'livre', amountCents: -100 }, invalid(range)],
    ['more than the credit', { type: 'embutido', percent: 101 }, invalid(range)],
    ['an amount above the credit', { type: 'livre', amountCents: 3_000_001 }, invalid(range)],
    ['not a number', { type: 'livre', percent: Number.NaN }, invalid(range)],
    ['a fraction of a centavo', { type: 'livre', amountCents: 150_000.5 }, invalid('O valor do lance deve ser um número inteiro de centavos.')],
  ];
  for (const [what, offer, e] of cases) it(what, () => assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, ACTIVE, offer), e));
  it('a bid type the group does not take', () => {
    const rules: GroupRules = { ...DEFAULT_GROUP_RULES, bidTypes: ['livre'] };
    assert.deepEqual(checkBid(rules, CREDIT, ACTIVE, { type: 'fixo', percent: 25 }), invalid('Este grupo não aceita lance fixo.'));
    assert.deepEqual(checkBid(rules, CREDIT, ACTIVE, { type: 'embutido', percent: 10 }), invalid('Este grupo não aceita lance embutido.'));
    assert.deepEqual(checkBid(rules, CREDIT, ACTIVE, { type: 'livre', percent: 10 }), ok(10, 300_000));
  });
});

describe('checkBid: only an active quota that is up to date bids', () => {
  const offer: BidOffer = { type: 'livre', percent: 10 };
  it('a late quota is refused, with how to fix it', () => {
    assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, { ...ACTIVE, upToDate: false }, offer), notEligible('A cota 7 tem parcelas em atraso; regularize para ofertar lance.'));
  });
  it('a contemplated quota is refused', () => {
    assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, { ...ACTIVE, status: 'contemplated' }, offer), notEligible('A cota 7 já foi contemplada.'));
  });
  it('an excluded quota is refused', () => {
    assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, { ...ACTIVE, status: 'excluded' }, offer), notEligible('A cota 7 está excluída do grupo.'));
  });
  it("the quota's standing is told before what is wrong with the offer", () => {
    assert.deepEqual(checkBid(DEFAULT_GROUP_RULES, CREDIT, { ...ACTIVE, upToDate: false }, { type: 'livre', percent: 99 }), notEligible('A cota 7 tem parcelas em atraso; regularize para ofertar lance.'));
  });
});
