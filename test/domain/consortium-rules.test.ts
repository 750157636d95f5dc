import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_GROUP_RULES, drawRuleFits, groupRulesSchema, type GroupRules } from '../../domain/consortium-rules';

// A group's published rules: what the schema lets an operator publish, and what it refuses with a
// pt-BR message at the field at fault.
const issues = (rules: unknown) => {
  const parsed = groupRulesSchema.safeParse(rules);
  return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join('.'), i.message]);
};
const withRules = (over: Partial<GroupRules>) => ({ ...DEFAULT_GROUP_RULES, ...over });

describe('groupRulesSchema', () => {
  it('takes the default rules as they are', () => {
    assert.deepEqual(groupRulesSchema.parse(DEFAULT_GROUP_RULES), DEFAULT_GROUP_RULES);
  });
  it('refuses a minimum bid above the maximum', () => {
    assert.deepEqual(issues(withRules({ bidLimits: { ...DEFAULT_GROUP_RULES.bidLimits, minPercent: 90 } })), [['bidLimits.minPercent', 'O lance mínimo não pode passar do máximo.']]);
  });
  it('refuses a lance fixo without its share', () => {
    assert.deepEqual(issues(withRules({ bidLimits: { ...DEFAULT_GROUP_RULES.bidLimits, fixedPercents: [] } })), [['bidLimits.fixedPercents', 'O lance fixo precisa de ao menos um percentual.']]);
  });
  it('a group without lance fixo needs no fixed share', () => {
    assert.deepEqual(issues(withRules({ bidTypes: ['livre', 'embutido'], bidLimits: { ...DEFAULT_GROUP_RULES.bidLimits, fixedPercents: [] } })), []);
  });
  it('refuses a bidding window that opens on the day it closes, or after', () => {
    const message = 'Os lances devem abrir antes do dia em que se encerram.';
    assert.deepEqual(issues(withRules({ biddingOpensDaysBefore: 2, biddingClosesDaysBefore: 2 })), [['biddingOpensDaysBefore', message]]);
    assert.deepEqual(issues(withRules({ biddingOpensDaysBefore: 3, biddingClosesDaysBefore: 5 })), [['biddingOpensDaysBefore', message]]);
    assert.deepEqual(issues(withRules({ biddingOpensDaysBefore: 3, biddingClosesDaysBefore: 2 })), []);
  });
  it('refuses exclusion after more than 3 unpaid installments (BCB 285), or after none', () => {
    assert.equal(issues(withRules({ exclusionAfterUnpaid: 4 })).length, 1);
    assert.equal(issues(withRules({ exclusionAfterUnpaid: 0 })).length, 1);
    assert.deepEqual(issues(withRules({ exclusionAfterUnpaid: 1 })), []);
  });
  it('refuses an unknown draw rule, bid type or field', () => {
    assert.deepEqual(issues({ ...DEFAULT_GROUP_RULES, drawRule: 'loteria-20' }).map(([path]) => path), ['drawRule']);
    assert.deepEqual(issues({ ...DEFAULT_GROUP_RULES, bidTypes: ['fgts'] }).map(([path]) => path), ['bidTypes.0']);
    assert.equal(issues({ ...DEFAULT_GROUP_RULES, surprise: true }).length, 1);
  });
  it('refuses a share above 100% and a group with no bid type', () => {
    assert.equal(issues(withRules({ bidLimits: { ...DEFAULT_GROUP_RULES.bidLimits, maxPercent: 120 } })).length, 1);
    assert.equal(issues(withRules({ bidTypes: [] })).length, 1);
  });
});

describe('drawRuleFits: the loteria rules read 3 digits, the radial one up to 5', () => {
  const cases: [GroupRules['drawRule'], number, boolean][] = [
    ['loteria-15', 1000, true],
    ['loteria-15', 1001, false],
    ['loteria-10', 1000, true],
    ['loteria-10', 5000, false],
    ['radial', 5000, true],
    ['radial', 99_999, true],
    ['radial', 100_000, false],
  ];
  for (const [rule, n, e] of cases) it(`${rule}, ${n} quotas → ${e}`, () => assert.equal(drawRuleFits(rule, n), e));
});
