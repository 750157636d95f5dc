import type { DrawRule } from './consortium-statuses';

// The Loteria Federal draw of a consortium assembly and the ranking of its bids: the group's
// documented rule, so that anyone holding the assembly's record can recompute its result. Pure;
// `npm run verify:assembly` and the assembly workflow both run it.
//
// Prizes are the five Loteria Federal prizes in prize order, each a 5-digit string; d1…d5 are its
// digits left to right. A 3-digit value of 0 stands for 1000, a k-digit one for 10^k.

export interface DrawOutcome {
  // The quota drawn; null when no quota is eligible.
  quota: number | null;
  // The numbers the rule derived, in the order it tried them.
  candidates: number[];
}

// The equivalence of c for a group of n quotas: a number above the group maps back into 1…n.
export function equivalence(c: number, n: number): number {
  return ((((c - 1) % n) + n) % n) + 1;
}

// From base b: b, b+1, b−1, b+2, b−2, … (the upper one first), skipping numbers outside 1…n,
// until an eligible quota; null when none is.
export function radialSearch(base: number, n: number, eligible: ReadonlySet<number>): number | null {
  if (eligible.size === 0) return null;
  if (base >= 1 && base <= n && eligible.has(base)) return base;
  for (let offset = 1; base + offset <= n || base - offset >= 1; offset++) {
    const up = base + offset;
    if (up >= 1 && up <= n && eligible.has(up)) return up;
    const down = base - offset;
    if (down >= 1 && down <= n && eligible.has(down)) return down;
  }
  return null;
}

function digitsOf(prize: string): string {
  if (!/^[0-9]{5}$/.test(prize)) throw new RangeError(`a Loteria Federal prize has 5 digits: ${JSON.stringify(prize)}`);
  return prize;
}

// A slice of digits as a number, 0 meaning 10^length (000 → 1000).
function numberOf(digits: string): number {
  const v = Number(digits);
  return v === 0 ? 10 ** digits.length : v;
}

export function drawnQuota(rule: DrawRule, prizes: readonly string[], quotaCount: number, eligible: readonly number[]): DrawOutcome {
  if (prizes.length !== 5) throw new RangeError('the Loteria Federal has five prizes');
  if (!Number.isInteger(quotaCount) || quotaCount < 1) throw new RangeError('a group has at least one quota');
  const p = prizes.map(digitsOf);
  const n = quotaCount;
  const pool = new Set(eligible.filter((q) => Number.isInteger(q) && q >= 1 && q <= n));
  switch (rule) {
    case 'loteria-15': {
      // Per prize, in prize order: d3d4d5, d2d3d4, d1d2d3.
      const candidates = p.flatMap((d) => [numberOf(d.slice(2, 5)), numberOf(d.slice(1, 4)), numberOf(d.slice(0, 3))]);
      const hit = candidates.find((c) => c <= n && pool.has(c));
      if (hit !== undefined) return { quota: hit, candidates };
      const first = candidates[0]!;
      return { quota: radialSearch(first > n ? equivalence(first, n) : first, n, pool), candidates };
    }
    case 'loteria-10': {
      // Per prize, in prize order: d3d4d5, d1d2d3, each mapped into the group.
      const candidates = p.flatMap((d) => [equivalence(numberOf(d.slice(2, 5)), n), equivalence(numberOf(d.slice(0, 3)), n)]);
      const hit = candidates.find((c) => pool.has(c));
      if (hit !== undefined) return { quota: hit, candidates };
      return { quota: radialSearch(candidates[0]!, n, pool), candidates };
    }
    case 'radial': {
      const k = String(n).length;
      if (k > 5) throw new RangeError('the radial rule reads at most the five digits of a prize');
      const base = equivalence(numberOf(p[0]!.slice(5 - k)), n);
      return { quota: radialSearch(base, n, pool), candidates: [base] };
    }
    default: {
      const never: never = rule;
      throw new RangeError(`unknown draw rule ${String(never)}`);
    }
  }
}

export interface RankableBid {
  quota: number;
  // The share of the credit offered, in percent.
  percent: number;
}

// The default ranking (tie-break 'nearest-drawn-higher-first'): the higher percentage first;
// at equal percentage the quota nearer the drawn quota; at equal distance the higher number.
export function rankBids<B extends RankableBid>(bids: readonly B[], drawnQuota: number): B[] {
  return [...bids].sort((a, b) => {
    if (a.percent !== b.percent) return b.percent - a.percent;
    const da = Math.abs(a.quota - drawnQuota);
    const db = Math.abs(b.quota - drawnQuota);
    if (da !== db) return da - db;
    return b.quota - a.quota;
  });
}
