// Percentiles, number formatting and a seeded random source.

// Nearest-rank percentile of an ascending array; NaN when empty.
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN;
  return { count: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.length ? (s[s.length - 1] as number) : Number.NaN, mean };
}

export const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a');
export const round1 = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);
export const roundInt = (v: number) => (Number.isFinite(v) ? Math.round(v) : null);
export const sleep = (msToWait: number) => new Promise<void>((r) => setTimeout(r, msToWait));

// mulberry32: small, fast and good enough to make a chaos schedule reproducible from --seed.
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
