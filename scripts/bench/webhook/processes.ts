import type { ChildProcess } from 'node:child_process';
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Supervisor, SupervisedProcess, signalGroup, exitOf } from '../../lib/supervisor';
import { startDevServer, type DevServer, type DevServerOptions } from '../../lib/temporal-cli';
import { sleep } from './stats';

// The processes under test: API and worker as `npm start` runs them, and a Temporal dev server of
// the benchmark's own, all under one supervisor (scripts/lib/supervisor.ts), which also stops
// whatever else the run registers, last-started-first, however the script ends.

export const ROOT = join(__dirname, '..', '..', '..');

// chaos run needs; it would not survive a power cut, which no dev server is meant to.
export function sqliteWrapper(binary: string, pragmas: string[], dir: string): string {
  if (pragmas.length === 0) return binary;
  const file = join(dir, 'temporal-with-pragmas.sh');
  const args = pragmas.map((p) => `--sqlite-pragma '${p}'`).join(' ');
  writeFileSync(file, `#!/bin/sh\nexec '${binary.replace(/'/g, "'\\''")}' "$@" ${args}\n`, { mode: 0o755 });
  return file;
}

// Progress and set-up notes go to stderr; the report and the final JSON line to stdout.
export const note = (m: string) => console.error(`[bench] ${m}`);

export const supervisor = new Supervisor({ say: note });

export class Service {
  private readonly process: SupervisedProcess;
  chaosKills = 0;
  unexpectedExits = 0;

  constructor(
    readonly name: 'api' | 'worker',
    entry: string,
    env: NodeJS.ProcessEnv,
    readonly logFile: string,
    onUnexpectedExit: (s: Service, how: string) => void,
    stopGraceMs: number,
    nodeArgs: string[] = [],
  ) {
    this.process = supervisor.process(
      { name, command: process.execPath, args: [...nodeArgs, '--import', 'tsx', join(ROOT, entry)], cwd: ROOT, env, output: { logFile }, stopGraceMs },
      (_, how) => {
        this.unexpectedExits++;
        onUnexpectedExit(this, how);
      },
    );
  }

  get proc() {
    return this.process.proc;
  }

  get pids(): number[] {
    return this.process.pids;
  }

  get starts(): number {
    return this.process.starts;
  }

  get running(): boolean {
    return this.process.running;
  }

  start(): void {
    this.process.start();
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    return this.process.kill(signal);
  }
}

export class TemporalServer {
  server: DevServer | null = null;
  readonly pids: number[] = [];
  starts = 0;
  chaosKills = 0;
  unexpectedExits = 0;
  private expecting = false;
  private starting: DevServer['process'] | undefined; // spawned, not answering yet

  // The dev server (devServer) or the full server on Postgres (temporal-postgres.ts).
  constructor(
    private readonly launch: (onSpawn: (child: ChildProcess) => void) => Promise<DevServer>,
    readonly address: string,
    private readonly onUnexpectedExit: (how: string) => void,
  ) {
    supervisor.add('temporal', () => this.stop(), () => this.killNow());
  }

  static devServer(options: DevServerOptions, onUnexpectedExit: (how: string) => void): TemporalServer {
    return new TemporalServer((onSpawn) => startDevServer({ ...options, onSpawn }), `${options.ip ?? '127.0.0.1'}:${options.port}`, onUnexpectedExit);
  }

  async start(): Promise<void> {
    this.expecting = false;
    const server = await this.launch((child) => (this.starting = child))
      .catch((err: unknown) => {
        // Never answering: not left behind.
        if (this.starting) signalGroup(this.starting, 'SIGKILL');
        throw err;
      })
      .finally(() => (this.starting = undefined));
    this.server = server;
    this.starts++;
    if (server.process.pid) this.pids.push(server.process.pid);
    server.process.once('exit', (code, signal) => {
      if (this.server === server) this.server = null;
      if (!this.expecting && !supervisor.stopping) {
        this.unexpectedExits++;
        this.onUnexpectedExit(signal ?? `code ${code}`);
      }
    });
  }

  async kill(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.expecting = true;
    signalGroup(s.process, 'SIGKILL');
    await exitOf(s.process);
  }

  async stop(): Promise<void> {
    if (this.starting) signalGroup(this.starting, 'SIGKILL');
    const s = this.server;
    if (!s) return;
    this.expecting = true;
    await s.stop();
  }

  killNow(): void {
    if (this.starting) signalGroup(this.starting, 'SIGKILL');
    if (this.server) {
      this.expecting = true;
      signalGroup(this.server.process, 'SIGKILL');
    }
  }
}

export async function waitForReady(apiUrl: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(`${apiUrl}/ready`, { signal: AbortSignal.timeout(3_000) });
      if (res.ok) {
        await res.arrayBuffer();
        return Date.now() - started;
      }
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    if (supervisor.stopping) throw new Error('stopping');
    await sleep(200);
  }
  throw new Error(`API not ready after ${timeoutMs / 1000} s: ${last}`);
}

export function readTail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l.slice(0, 400)}`).join('\n');
}
