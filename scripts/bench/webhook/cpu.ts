import { existsSync, readdirSync, readFileSync } from 'node:fs';

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
function postgresPids(databases: string[]): number[] {
  return pidsNamed('postgres').filter((pid) => {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const isClientBackend = /\(\d+\)|\[local\]/.test(title);
      return !isClientBackend || databases.some((database) => title.includes(` ${database} `));
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
    // The product's database, and Temporal's own when it runs on Postgres.
    private readonly postgresDatabases: string[],
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
    const comps = { ...this.components(), postgres: postgresPids(this.postgresDatabases), redis: pidsNamed('redis-server') };
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

// What each message cost: each process's CPU from the first message sent to the last reply (the
// drain included: work acknowledged in the window is done after it), over the messages replied.
// The bench itself (the load generator and the fakes of Meta and OpenAI) is not counted in the total.
export function cpuMsPerMessage(whole: ReturnType<CpuSampler['result']>, replied: number): { byProcess: Record<string, number>; total: number } | null {
  if (!whole || replied === 0) return null;
  const byProcess: Record<string, number> = {};
  let total = 0;
  for (const [name, cores] of Object.entries(whole.coresByComponent)) {
    if (name === 'kernel irq/softirq' || name === 'other processes') continue;
    const ms = (cores * whole.seconds * 1000) / replied;
    byProcess[name] = Math.round(ms * 10) / 10;
    if (name !== 'bench') total += ms;
  }
  return { byProcess, total: Math.round(total * 10) / 10 };
}

