import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { terminate } from './supervisor';

// The official Temporal CLI, pinned. `go install ...@v1.5.1` is the newest tag Go accepts in that
// form (later tags carry `replace` directives); it embeds server 1.29.1 and the Web UI.
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
const EXPECTED_SERVER = 'Server 1.29.1';

type Say = (msg: string) => void;

function versionOf(binary: string): string | null {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function goBinDir(): string | null {
  const r = spawnSync('go', ['env', 'GOBIN', 'GOPATH'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [gobin, gopath] = r.stdout.split('\n').map((s) => s.trim());
  return gobin || (gopath ? join(gopath.split(delimiter)[0] as string, 'bin') : null);
}

// TEMPORAL_CLI, then PATH, then Go's bin directory; otherwise build it with Go.
export function findOrBuildTemporalCli(say: Say = console.log): string {
  const candidates = [process.env.TEMPORAL_CLI, ...pathCandidates(), goBinDir() && join(goBinDir() as string, 'temporal')];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const v = versionOf(c);
    if (v?.includes(EXPECTED_SERVER)) return c;
    if (v) say(`ignoring ${c} (${v}): Orquestra is pinned to CLI v1.5.1 (${EXPECTED_SERVER})`);
  }
  const bin = goBinDir();
  if (!bin) {
    throw new Error(
      'The Temporal CLI v1.5.1 was not found and Go is not installed to build it. Install Go, or set TEMPORAL_CLI to the binary, or TEMPORAL_ADDRESS to an existing Temporal Service.',
    );
  }
  say(`Building the Temporal CLI (go install ${TEMPORAL_CLI_MODULE}); this takes a few minutes, once...`);
  execFileSync('go', ['install', TEMPORAL_CLI_MODULE], { stdio: 'inherit', env: { ...process.env, CGO_ENABLED: '0' } });
  const built = join(bin, 'temporal');
  if (!existsSync(built) || !versionOf(built)?.includes(EXPECTED_SERVER)) throw new Error(`go install did not produce ${built}`);
  say(`Temporal CLI built: ${built}`);
  return built;
}

function pathCandidates(): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'temporal'));
}

export interface DevServerOptions {
  binary: string;
  ip?: string;
  port: number;
  uiPort: number;
  dbFile?: string; // omitted: in memory
  namespace?: string;
  headless?: boolean;
  // The codec server the Web UI decodes payloads with (--ui-codec-endpoint).
  uiCodecEndpoint?: string;
  // In a process group of its own: a Ctrl-C reaches only the script, which stops it after the
  // worker (scripts/lib/supervisor.ts).
  detached?: boolean;
  // Called as soon as the process exists, before it answers: a supervisor that is told to stop
  // while the server is still coming up can stop it too.
  onSpawn?: (child: ChildProcess) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

// The dev server picks free ports of its own for its internal services when it starts; another
// process can take one between its check and its bind, and it then panics at once. A start that
// dies before answering is tried again, twice, before giving up.
export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(o);
    } catch (err) {
      if (!(err instanceof DevServerExited) || attempt >= 3) throw err;
    }
  }
}

class DevServerExited extends Error {}

async function startDevServerOnce(o: DevServerOptions): Promise<DevServer> {
  const ip = o.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(o.port), '--ui-port', String(o.uiPort), '--log-level', 'warn'];
  args.push('--namespace', o.namespace ?? 'default');
  if (o.dbFile) {
    mkdirSync(dirname(o.dbFile), { recursive: true });
    args.push('--db-filename', o.dbFile);
  }
  if (o.headless) args.push('--headless');
  else if (o.uiCodecEndpoint) args.push('--ui-codec-endpoint', o.uiCodecEndpoint);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);

  const child = spawn(o.binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: o.detached ?? false });
  o.onSpawn?.(child);
  // The head says why it stopped (a panic's first line); the tail, where.
  let head = '';
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (head.length < 2000) head = (head + d.toString()).slice(0, 2000);
    else tail = (tail + d.toString()).slice(-2000);
  });
  const address = `${ip}:${o.port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await Promise.race([
    waitForTemporal({ address }, 90_000),
    exited.then((code) => {
      throw new DevServerExited(`temporal server start-dev exited with ${code}: ${head}${tail ? `\n...\n${tail}` : ''}`);
    }),
  ]);
  return {
    address,
    uiUrl: o.headless ? null : `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${o.uiPort}`,
    process: child,
    async stop() {
      await terminate(child, { graceMs: 15_000 });
    },
  };
}

// Takes the full connection options, so a TLS or API-key cluster is probed the way it is used.
export async function waitForTemporal(options: ConnectionOptions, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const c = await Connection.connect({ ...options, connectTimeout: 2_000 });
      try {
        await c.workflowService.getSystemInfo({});
        return;
      } finally {
        await c.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`Temporal at ${options.address} did not answer within ${timeoutMs} ms: ${(last as Error)?.message}`);
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}
