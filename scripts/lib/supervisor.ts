import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

// Process supervision for `npm start` and the benchmark: children run in process groups of their
// own, are stopped last-started-first with SIGTERM and a bounded wait before SIGKILL, and no
// child outlives the script however the script is asked to stop (SIGINT, SIGTERM, SIGHUP, its
// parent dying, an error, or process.exit()).
//
// Own process groups, because a Ctrl-C in the terminal goes to the whole foreground group: the
// children would all get SIGINT at once and the API would not be stopped before the worker.
// Here only the script receives it, and it stops the children in order, each by its group id
// (so a child's own children, e.g. tsx's esbuild service, go with it).

export type Say = (message: string) => void;

export const hasExited = (proc: ChildProcess): boolean => proc.exitCode !== null || proc.signalCode !== null;

export const exitOf = (proc: ChildProcess): Promise<void> =>
  hasExited(proc) ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve()));

export function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (!proc.pid || hasExited(proc)) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal); // not a group leader (spawned without detached)
    } catch {
      // already gone
    }
  }
}

// SIGTERM to the group, SIGKILL after graceMs, then at most killWaitMs more (a process in
// uninterruptible sleep cannot be waited for forever). 'killed' when SIGKILL was needed.
export async function terminate(
  proc: ChildProcess,
  o: { graceMs: number; killWaitMs?: number; onEscalate?: () => void },
): Promise<'exited' | 'killed' | 'stuck'> {
  if (hasExited(proc)) return 'exited';
  const exited = exitOf(proc);
  signalGroup(proc, 'SIGTERM');
  if (await settlesWithin(exited, o.graceMs)) return 'exited';
  o.onEscalate?.();
  signalGroup(proc, 'SIGKILL');
  return (await settlesWithin(exited, o.killWaitMs ?? 5_000)) ? 'killed' : 'stuck';
}

export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  // 'inherit' shares this terminal; logFile appends stdout and stderr to a file.
  output: 'inherit' | { logFile: string };
  // How long SIGTERM is given before SIGKILL.
  stopGraceMs: number;
}

// A child process that can be (re)started, stopped in order and killed; restarts keep the record
// of every pid it had (the benchmark charges CPU to each).
export class SupervisedProcess {
  proc: ChildProcess | null = null;
  readonly pids: number[] = [];
  starts = 0;
  private expecting = false;

  constructor(
    readonly spec: ProcessSpec,
    private readonly supervisor: Supervisor,
    private readonly onUnexpectedExit?: (p: SupervisedProcess, how: string) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return !!this.proc && !hasExited(this.proc);
  }

  start(): ChildProcess {
    const s = this.spec;
    let fd: number | undefined;
    let stdio: SpawnOptions['stdio'] = 'inherit';
    if (s.output !== 'inherit') {
      fd = openSync(s.output.logFile, 'a');
      stdio = ['ignore', fd, fd];
    }
    const proc = spawn(s.command, s.args, { cwd: s.cwd, env: s.env, stdio, detached: true });
    if (fd !== undefined) closeSync(fd);
    this.proc = proc;
    this.starts++;
    this.expecting = false;
    if (proc.pid) this.pids.push(proc.pid);
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null;
      if (!this.expecting && !this.supervisor.stopping) this.onUnexpectedExit?.(this, signal ?? `code ${code}`);
    });
    return proc;
  }

  // An exit that is not a failure (a chaos kill, a restart).
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.expecting = true;
    signalGroup(proc, signal);
    await exitOf(proc);
  }

  async stop(graceMs = this.spec.stopGraceMs): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.expecting = true;
    await terminate(proc, { graceMs, onEscalate: () => this.supervisor.say(`${this.name} did not stop in ${graceMs / 1000} s; killing it.`) });
  }

  killNow(): void {
    if (!this.proc) return;
    this.expecting = true;
    signalGroup(this.proc, 'SIGKILL');
  }
}

// Thrown by process() once stopping: nothing new is started on the way out.
export class StoppingError extends Error {
  constructor() {
    super('stopping');
  }
}

interface Managed {
  name: string;
  stop(): Promise<void>;
  killNow?(): void;
}

export interface SupervisorOptions {
  say: Say;
  // Bound on each in-process resource's stop (servers, connections); children have their grace.
  resourceStopMs?: number;
}

export class Supervisor {
  stopping = false;
  private readonly managed: Managed[] = []; // not yet stopped
  private readonly everything: Managed[] = [];
  private stopped?: Promise<void>;
  private exitHookInstalled = false;

  constructor(private readonly o: SupervisorOptions) {}

  say(message: string): void {
    this.o.say(message);
  }

  process(spec: ProcessSpec, onUnexpectedExit?: (p: SupervisedProcess, how: string) => void): SupervisedProcess {
    if (this.stopping) throw new StoppingError();
    const p = new SupervisedProcess(spec, this, onUnexpectedExit);
    this.register({ name: spec.name, stop: () => p.stop(), killNow: () => p.killNow() });
    return p;
  }

  // Anything else to undo on the way out (an in-process server, a connection, a child started
  // elsewhere), with a synchronous last resort if it holds a process.
  add(name: string, stop: () => Promise<void> | void, killNow?: () => void): void {
    this.register({ name, stop: async () => stop(), killNow });
  }

  private register(m: Managed): void {
    this.managed.push(m);
    this.everything.push(m);
    this.installExitHook();
  }

  // Last registered, first stopped: what was started on top of something goes before it (the API
  // and the worker before Temporal, Temporal before the database). Something registered while
  // this runs (it was starting when the stop came) is stopped too. Idempotent.
  stopAll(): Promise<void> {
    this.stopping = true;
    this.stopped ??= (async () => {
      for (let m = this.managed.pop(); m; m = this.managed.pop()) {
        const done = m.stop().catch((err: unknown) => this.say(`${m.name}: stop failed: ${(err as Error).message}`));
        if (m.killNow) await done;
        else if (!(await settlesWithin(done, this.o.resourceStopMs ?? 5_000))) this.say(`${m.name} did not stop in time; leaving it.`);
      }
    })();
    return this.stopped;
  }

  // Everything ever registered: a child whose stop failed is still reached.
  killAllNow(): void {
    this.stopping = true;
    for (const m of this.everything) m.killNow?.();
  }

  // SIGINT, SIGTERM, SIGHUP and the parent's death all lead to onStop, once. A signal repeated
  // later than a second after the first kills every child at once and exits (the impatient
  // Ctrl-C Ctrl-C); within that second it is the same request arriving twice: a Ctrl-C reaches
  // both npm and this script, and npm forwards its copy.
  handleStopRequests(onStop: (reason: string) => void, o: { watchParentMs?: number } = {}): void {
    let requestedAt = 0;
    const request = (reason: string, repeatKills: boolean) => {
      if (requestedAt) {
        if (!repeatKills || Date.now() - requestedAt < 1_000) return;
        this.say(`${reason} again: killing everything now.`);
        this.killAllNow();
        process.exit(130);
      }
      requestedAt = Date.now();
      onStop(reason);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => request(signal, true));
    // npm runs scripts through `sh -c`; when npm or the shell is killed the script is reparented,
    // which is the one sign of it it gets. Whoever started us is gone: so is the reason to run.
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid !== parent) {
        clearInterval(watch);
        request(`parent process ${parent} exited`, false);
      }
    }, o.watchParentMs ?? 500);
    watch.unref();
    // A vanished terminal must not turn the orderly stop into a crash on the next log line.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  }

  private installExitHook(): void {
    if (this.exitHookInstalled) return;
    this.exitHookInstalled = true;
    // Last resort (an error path that skipped stopAll, a process.exit()): no child survives us.
    process.on('exit', () => this.killAllNow());
  }
}
