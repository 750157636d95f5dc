import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// What the processes report about themselves: Prometheus histograms, their logs and their CPU
// profiles.

// Prometheus text format: cumulative histogram buckets, summed over the series that match.

export interface PromHistogram {
  count: number;
  sum: number;
  buckets: { le: number; count: number }[];
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1] as string] = m[2] as string;
  return out;
}

export function promHistogram(text: string, name: string, match: Record<string, string> = {}): PromHistogram | null {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let seen = false;
  const ok = (labels: Record<string, string>) => Object.entries(match).every(([k, v]) => labels[k] === v);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, metric, rawLabels, rawValue] = m;
    const labels = parseLabels(rawLabels ?? '');
    if (!ok(labels)) continue;
    const value = Number(rawValue);
    if (metric === `${name}_bucket`) {
      const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
      seen = true;
    } else if (metric === `${name}_count`) count += value;
    else if (metric === `${name}_sum`) sum += value;
  }
  if (!seen) return null;
  return { count, sum, buckets: [...buckets].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le) };
}

// The upper bound of the bucket holding the p-th percentile (coarse, as Prometheus allows).
export function histogramQuantile(h: PromHistogram, p: number): number {
  const total = h.buckets.at(-1)?.count ?? 0;
  if (!total) return Number.NaN;
  const target = (p / 100) * total;
  for (const b of h.buckets) if (b.count >= target) return b.le;
  return Number.POSITIVE_INFINITY;
}

export function labelValues(text: string, name: string, label: string): string[] {
  const values = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_count`)) continue;
    const m = /\{(.*)\}/.exec(line);
    const v = m ? parseLabels(m[1] as string)[label] : undefined;
    if (v !== undefined) values.add(v);
  }
  return [...values].sort();
}

// ---------------------------------------------------------------------------------------------
// Logs: pino JSON lines grouped by level and message; anything else counted as raw output.

export interface LogGroup {
  level: string;
  msg: string;
  count: number;
  example: string;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function summarizeLog(file: string): LogGroup[] {
  if (!existsSync(file)) return [];
  const groups = new Map<string, LogGroup>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let level = 'raw';
    let msg = line.trim().slice(0, 160);
    let example = '';
    try {
      const j = JSON.parse(line) as Record<string, unknown>;
      level = LEVELS[Number(j.level)] ?? String(j.level);
      msg = String(j.msg ?? '');
      const { level: _l, time: _t, pid: _p, hostname: _h, msg: _m, ...rest } = j;
      example = JSON.stringify(rest).slice(0, 400);
    } catch {
      // not JSON: a stack trace line or plain output
    }
    const key = `${level}\u0000${msg}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { level, msg, count: 1, example });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

// ---------------------------------------------------------------------------------------------
// V8 CPU profiles (--cpu-prof): self time by function and by package, over every file in a dir.

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  thread: string; // pid.threadId (0 = the main thread)
  wallMs: number;
  busyMs: number;
  byFunction: { name: string; percent: number }[]; // % of busy time
  byPackage: { name: string; percent: number }[];
}

const IDLE = new Set(['(idle)', '(program)']);

// One summary per thread that wrote a profile (Node writes one per worker thread too: the
// Temporal SDK runs workflow code in worker threads, tsx its loader hooks), busiest first.
export function summarizeProfiles(dir: string, root: string): ProfileSummary[] | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  const out: ProfileSummary[] = [];
  for (const f of files) {
    const prof = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const frames = new Map(prof.nodes.map((n) => [n.id, n.callFrame]));
    const byFunction = new Map<string, number>();
    const byPackage = new Map<string, number>();
    let wallUs = 0;
    let busyUs = 0;
    prof.samples.forEach((id, i) => {
      const us = prof.timeDeltas[i] ?? 0;
      const cf = frames.get(id);
      wallUs += us;
      if (!cf || IDLE.has(cf.functionName)) return;
      busyUs += us;
      const url = cf.url.replace(/^file:\/\//, '').replace(`${root}/`, '');
      const pkg = packageOf(url, cf.functionName);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
      const key = `${cf.functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '')}:${cf.lineNumber + 1}` : ''}`.trim();
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    });
    const rank = (m: Map<string, number>) =>
      [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, percent: (100 * us) / Math.max(1, busyUs) }));
    const m = /\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(f);
    out.push({ thread: m ? `${m[1]}.${m[2]}` : f, wallMs: wallUs / 1000, busyMs: busyUs / 1000, byFunction: rank(byFunction), byPackage: rank(byPackage) });
  }
  return out.sort((a, b) => b.busyMs - a.busyMs);
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const top = url.split('/')[0] ?? url;
  return ['api', 'workflows', 'activities', 'workers', 'db', 'domain', 'infra'].includes(top) ? `orquestra/${top}` : top;
}

