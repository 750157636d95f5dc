import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Helpers for scripts/bench/webhook.ts: percentiles, a seeded random source, per-process CPU
// accounting from /proc, a Prometheus text parser for histograms, and a summary of pino logs.

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

// ---------------------------------------------------------------------------------------------
// CPU: utime + stime of each process, from /proc (Linux only; elsewhere the report says n/a).

const CLOCK_TICKS_PER_SECOND = 100;

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// Postgres is shared with whatever else runs on the machine: count this database's backends and
// the server's own background processes, not other databases' connections.
function postgresPids(database: string): number[] {
  return pidsNamed('postgres').filter((pid) => {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const isClientBackend = /\(\d+\)|\[local\]/.test(title);
      return !isClientBackend || title.includes(` ${database} `);
    } catch {
      return false;
    }
  });
}

interface HostTicks {
  total: number;
  idle: number;
  irq: number; // hard and soft interrupts (loopback TCP is mostly softirq) and steal: no process is charged
}

function hostTicks(): HostTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { total, idle: (v[3] ?? 0) + (v[4] ?? 0), irq: (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0) };
  } catch {
    return undefined;
  }
}

// Samples every second; a process first seen after the start counts from its birth (restarts
// during chaos are load too); one that dies keeps what its last sample saw.
export class CpuSampler {
  readonly available = existsSync('/proc/self/stat');
  private readonly baseline = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly owner = new Map<number, string>();
  private host0?: HostTicks;
  private host1?: HostTicks;
  private startedAt = 0;
  private stoppedAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly components: () => Record<string, number[]>,
    private readonly postgresDatabase: string,
  ) {}

  start(): void {
    if (!this.available) return;
    this.startedAt = Date.now();
    this.host0 = hostTicks();
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 1_000);
  }

  stop(): void {
    if (!this.available || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample(false);
    this.host1 = hostTicks();
    this.stoppedAt = Date.now();
  }

  private sample(first: boolean): void {
    const comps = { ...this.components(), postgres: postgresPids(this.postgresDatabase), redis: pidsNamed('redis-server') };
    for (const [name, pids] of Object.entries(comps)) {
      for (const pid of pids) {
        const t = processTicks(pid);
        if (t === undefined) continue;
        if (!this.baseline.has(pid)) this.baseline.set(pid, first ? t : 0);
        this.last.set(pid, t);
        this.owner.set(pid, name);
      }
    }
  }

  // Average share of one core per component over the sampled window, and the host's busy share.
  result(): { seconds: number; coresByComponent: Record<string, number>; hostBusyPercent: number | null; cores: number } | null {
    if (!this.available || !this.stoppedAt) return null;
    const seconds = (this.stoppedAt - this.startedAt) / 1000;
    const byComponent: Record<string, number> = {};
    for (const [pid, name] of this.owner) {
      const used = ((this.last.get(pid) ?? 0) - (this.baseline.get(pid) ?? 0)) / CLOCK_TICKS_PER_SECOND;
      byComponent[name] = (byComponent[name] ?? 0) + used / seconds;
    }
    const h0 = this.host0;
    const h1 = this.host1;
    let cores = 1;
    try {
      cores = readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length || 1;
    } catch {
      // keep 1
    }
    const hostBusyPercent = h0 && h1 && h1.total > h0.total ? (100 * (1 - (h1.idle - h0.idle) / (h1.total - h0.total))) : null;
    // Interrupt time, then whatever else the machine ran meanwhile (other programs, other
    // databases' backends).
    if (hostBusyPercent !== null && h0 && h1) {
      const ours = Object.values(byComponent).reduce((a, b) => a + b, 0);
      const irq = ((h1.irq - h0.irq) / (h1.total - h0.total)) * cores;
      byComponent['kernel irq/softirq'] = irq;
      byComponent['other processes'] = Math.max(0, (hostBusyPercent / 100) * cores - ours - irq);
    }
    return { seconds, coresByComponent: byComponent, hostBusyPercent, cores };
  }
}

// ---------------------------------------------------------------------------------------------
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
