import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawnQuota, equivalence, radialSearch, rankBids, type RankableBid } from '../../domain/draw';

// Every expected value below was worked out by hand from issue 10's "draw and ranking contract".
//
// The prizes used most: 12345, 67890, 54321, 09876, 11111.
//   loteria-15, per prize d3d4d5, d2d3d4, d1d2d3:
//     345 234 123 | 890 789 678 | 321 432 543 | 876 987 098 | 111 111 111
//   loteria-10, per prize d3d4d5, d1d2d3 (before the equivalence):
//     345 123 | 890 678 | 321 543 | 876 098 | 111 111
const PRIZES = ['12345', '67890', '54321', '09876', '11111'];
const L15 = [345, 234, 123, 890, 789, 678, 321, 432, 543, 876, 987, 98, 111, 111, 111];
const all = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const allBut = (n: number, ...out: number[]) => all(n).filter((q) => !out.includes(q));

describe('equivalence: ((c − 1) mod N) + 1', () => {
  const cases: [number, number, number][] = [
    // c, N, expected
    [345, 1000, 345],
    [345, 100, 45], // 344 mod 100 = 44
    [345, 90, 75], // 344 mod 90 = 74
    [1000, 100, 100], // 999 mod 100 = 99
    [100, 100, 100],
    [101, 100, 1],
    [2345, 1000, 345],
    [10, 9, 1],
    [7, 1, 1],
  ];
  for (const [c, n, e] of cases) it(`${c} in a group of ${n} → ${e}`, () => assert.equal(equivalence(c, n), e));
});

describe('radialSearch: b, b+1, b−1, b+2, b−2, … inside 1…N', () => {
  const cases: [string, number, number, number[], number | null][] = [
    // what, base, N, eligible, expected
    ['the base itself when eligible', 345, 1000, [345, 346, 344], 345],
    ['the upper neighbour before the lower one', 345, 1000, [344, 346], 346],
    ['at equal distance 5: 350 is tried before 340', 345, 1000, [340, 350], 350],
    ['the nearer lower one beats a farther upper one', 345, 1000, [340, 351], 340],
    ['numbers above N are skipped, not returned', 10, 10, [11, 8], 8],
    ['from the top of the group it walks down', 10, 10, [1], 1],
    ['from the bottom of the group it walks up', 1, 10, [10], 10],
    ['null when nothing is eligible', 5, 10, [], null],
  ];
  for (const [what, base, n, eligible, e] of cases) it(what, () => assert.equal(radialSearch(base, n, new Set(eligible.filter((q) => q <= n))), e));
});

describe('drawnQuota: loteria-15', () => {
  it('returns the 15 candidates as they are, in prize order', () => {
    assert.deepEqual(drawnQuota('loteria-15', PRIZES, 1000, all(1000)).candidates, L15);
  });
  const cases: [string, string[], number, number[], number | null][] = [
    // what, prizes, N, eligible, expected
    ['N = 1000, all eligible: the first candidate, 345', PRIZES, 1000, all(1000), 345],
    ['N = 500: 345 ≤ 500', PRIZES, 500, all(500), 345],
    ['N = 300: 345 is above N, 234 wins', PRIZES, 300, all(300), 234],
    ['N = 300, 234 not eligible: 123', PRIZES, 300, allBut(300, 234), 123],
    ['N = 100: the first candidate ≤ 100 is the 12th, 098 = 98', PRIZES, 100, all(100), 98],
    ['the drawn quota is not eligible: the next candidate wins (345 out → 234)', PRIZES, 1000, allBut(1000, 345), 234],
    ['N = 90: no candidate ≤ 90, radial from the equivalence of 345, 75', PRIZES, 90, all(90), 75],
    ['N = 90, 75 not eligible: 76 (upper first)', PRIZES, 90, allBut(90, 75), 76],
    ['no candidate eligible: radial from 345, distance 5, 350 before 340', PRIZES, 1000, [340, 350], 350],
    ['no candidate eligible: radial from 345 finds 340 at distance 5 before 351', PRIZES, 1000, [340, 351], 340],
    ['000 means 1000 (12000 → 1000, 200, 120)', ['12000', ...PRIZES.slice(1)], 1000, all(1000), 1000],
    ['1000 is above a group of 999: 200 is next', ['12000', ...PRIZES.slice(1)], 999, all(999), 200],
    ['nothing eligible: null', PRIZES, 1000, [], null],
  ];
  for (const [what, prizes, n, eligible, e] of cases) it(what, () => assert.equal(drawnQuota('loteria-15', prizes, n, eligible).quota, e));

  it('a 0 in the middle slice is 1000 too (10001 → 1, 1000, 100)', () => {
    assert.deepEqual(drawnQuota('loteria-15', ['10001', ...PRIZES.slice(1)], 1000, all(1000)).candidates.slice(0, 3), [1, 1000, 100]);
  });
  it('the candidates do not depend on who is eligible', () => {
    assert.deepEqual(drawnQuota('loteria-15', PRIZES, 90, [3]).candidates, L15);
  });
  it('an eligible number outside the group is never drawn', () => {
    // N = 300: 345 is a candidate and listed as eligible, but there is no quota 345.
    assert.equal(drawnQuota('loteria-15', PRIZES, 300, [345, 123]).quota, 123);
  });
});

describe('drawnQuota: loteria-10', () => {
  it('N = 1000: 10 candidates, d3d4d5 then d1d2d3 per prize', () => {
    assert.deepEqual(drawnQuota('loteria-10', PRIZES, 1000, all(1000)), { quota: 345, candidates: [345, 123, 890, 678, 321, 543, 876, 98, 111, 111] });
  });
  it('N = 100: every candidate is returned mapped by the equivalence', () => {
    // 345→45 123→23 890→90 678→78 321→21 543→43 876→76 98→98 111→11 111→11
    assert.deepEqual(drawnQuota('loteria-10', PRIZES, 100, all(100)), { quota: 45, candidates: [45, 23, 90, 78, 21, 43, 76, 98, 11, 11] });
  });
  const cases: [string, string[], number, number[], number | null][] = [
    ['N = 100, 45 not eligible: 23', PRIZES, 100, allBut(100, 45), 23],
    ['N = 100, 45 and 23 not eligible: 90', PRIZES, 100, allBut(100, 45, 23), 90],
    ['no candidate eligible: radial from 45, 50 before 40', PRIZES, 100, [40, 50], 50],
    ['no candidate eligible: radial from 45, 44 at distance 1', PRIZES, 100, [44, 60], 44],
    ['000 → 1000 → 100 in a group of 100', ['12000', ...PRIZES.slice(1)], 100, all(100), 100],
    ['nothing eligible: null', PRIZES, 100, [], null],
  ];
  for (const [what, prizes, n, eligible, e] of cases) it(what, () => assert.equal(drawnQuota('loteria-10', prizes, n, eligible).quota, e));
});

describe('drawnQuota: radial', () => {
  const cases: [string, string, number, number[], number[], number | null][] = [
    // what, first prize, N, eligible, candidates, quota
    ['N = 1000 (k = 4): 2345 → 345', '12345', 1000, all(1000), [345], 345],
    ['N = 500 (k = 3): 345', '12345', 500, all(500), [345], 345],
    ['N = 300 (k = 3): 345 → 45', '12345', 300, all(300), [45], 45],
    ['N = 99 (k = 2): 45', '12345', 99, all(99), [45], 45],
    ['N = 9 (k = 1): 5', '12345', 9, all(9), [5], 5],
    ['N = 9, last digit 0 → 10 → 1', '12340', 9, all(9), [1], 1],
    ['N = 100 (k = 3), 000 → 1000 → 100', '12000', 100, all(100), [100], 100],
    ['N = 50 (k = 2), 00 → 100 → 50', '12300', 50, all(50), [50], 50],
    ['the base not eligible: the upper neighbour', '12345', 1000, [344, 346], [345], 346],
    ['at the top of the group: 100, 99, 98 …', '12000', 100, [97], [100], 97],
    ['nothing eligible: null, the base still given', '12345', 1000, [], [345], null],
  ];
  for (const [what, first, n, eligible, candidates, quota] of cases) {
    it(what, () => assert.deepEqual(drawnQuota('radial', [first, ...PRIZES.slice(1)], n, eligible), { quota, candidates }));
  }
  it('reads only the first prize', () => {
    assert.deepEqual(drawnQuota('radial', ['12345', '99999', '00000', '11111', '22222'], 1000, all(1000)).candidates, [345]);
  });
});

describe('drawnQuota refuses what is not a Loteria Federal result', () => {
  it('four prizes', () => assert.throws(() => drawnQuota('loteria-15', PRIZES.slice(0, 4), 100, all(100)), RangeError));
  it('a 4-digit prize', () => assert.throws(() => drawnQuota('loteria-15', ['1234', ...PRIZES.slice(1)], 100, all(100)), RangeError));
  it('a group of no quotas', () => assert.throws(() => drawnQuota('radial', PRIZES, 0, []), RangeError));
});

describe('rankBids: percent desc, then nearer the drawn quota, then the higher number', () => {
  const q = (quota: number, percent: number): RankableBid => ({ quota, percent });
  it('orders a mixed table, drawn quota 50', () => {
    // 30%: 55 and 45 are 5 away (55 first), 60 and 40 are 10 away (60 first); then 20%, 10%.
    const bids = [q(10, 20), q(60, 30), q(40, 30), q(55, 30), q(45, 30), q(100, 10)];
    assert.deepEqual(rankBids(bids, 50).map((b) => b.quota), [55, 45, 60, 40, 10, 100]);
  });
  it('a higher percent wins whatever the distance', () => {
    assert.deepEqual(rankBids([q(50, 25), q(900, 25.0001)], 50).map((b) => b.quota), [900, 50]);
  });
  it('the drawn quota itself (distance 0) wins a tie', () => {
    assert.deepEqual(rankBids([q(51, 40), q(50, 40), q(49, 40)], 50).map((b) => b.quota), [50, 51, 49]);
  });
  it('keeps the other fields and does not change its input', () => {
    const bids = [{ quota: 1, percent: 10, id: 'a' }, { quota: 2, percent: 20, id: 'b' }];
    const ranked = rankBids(bids, 1);
    assert.deepEqual(ranked.map((b) => b.id), ['b', 'a']);
    assert.deepEqual(bids.map((b) => b.id), ['a', 'b']);
  });
  it('no bids, no ranking', () => assert.deepEqual(rankBids([], 1), []));
});
