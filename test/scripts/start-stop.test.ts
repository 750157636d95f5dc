import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { bootstrapDatabase } from '../../db/bootstrap';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { sha256Signature } from '../../infra/hmac-signature';
import { SANDBOX_DEFAULTS } from '../../scripts/lib/demo-tenant';
import { freePort } from '../../scripts/lib/temporal-cli';
import { contact, metaEnvelope, textMessage } from '../fakes/meta-payloads';
import { listeningAddresses } from '../support/listening';

// `npm start` for real (its own Temporal dev server, migrations, worker, API, sandbox, demo
// tenant), stopped the way a terminal or a process manager stops it: everything it started is
// gone and every port it held is free again within the worker's grace time plus a margin, and
// nothing had to be SIGKILLed to get there.

const ROOT = join(__dirname, '..', '..');
const GRACE_MS = 6_000;
// API stop, Temporal's own stop, process exits on a box shared with other test runs.
const MARGIN_MS = 8_000;
const STARTUP_MS = 240_000;

const dataDir = mkdtempSync(join(tmpdir(), 'orquestra-start-'));
const database = `${process.env.DATABASE_NAME ?? 'orquestra_test'}_start`;
const dbEnv = { ...process.env, DATABASE_NAME: database };
const db = resolveDatabaseSettings(dbEnv);
const started: number[] = []; // every pid seen, for the clean-up of a failed case

interface Run {
  proc: ChildProcess;
  output: () => string;
  ports: Record<string, number>;
  env: NodeJS.ProcessEnv;
}

async function startStack(how: 'npm' | 'script'): Promise<Run> {
  const ports = {
    PORT: await freePort(),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    WORKER_METRICS_PORT: await freePort(),
    METRICS_PORT: await freePort(),
    WHATSAPP_SANDBOX_PORT: await freePort(),
  };
  // No HOST: npm start binds to loopback unless told otherwise (checked below).
  const env: NodeJS.ProcessEnv = { ...dbEnv, DATA_DIR: dataDir, WORKER_SHUTDOWN_GRACE_MS: String(GRACE_MS), LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  delete env.HOST;
  delete env.METRICS_HOST;
  delete env.WORKER_METRICS_HOST;
  env.WORKER_METRICS_URLS = `http://127.0.0.1:${ports.WORKER_METRICS_PORT}/metrics`;
  // Its own dev server, as on a developer's machine; not the one this test run uses.
  delete env.TEMPORAL_ADDRESS;
  delete env.WHATSAPP_API_BASE_URL;
  const [command, args] = how === 'npm' ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'scripts/start.ts']];
  // A group of its own, so nothing the test runner receives reaches it and a failed case can be
  // cleaned up by group.
  const proc = spawn(command, args as string[], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  if (proc.pid) started.push(proc.pid);
  const deadline = Date.now() + STARTUP_MS;
  while (!output.includes('Orquestra is running')) {
    if (proc.exitCode !== null || proc.signalCode !== null) assert.fail(`npm start exited before it was up:\n${output}`);
    if (Date.now() > deadline) assert.fail(`npm start not up after ${STARTUP_MS / 1000} s:\n${output}`);
    await sleep(250);
  }
  const health = await fetch(`http://127.0.0.1:${ports.PORT}/health`);
  assert.equal(health.status, 200);
  for (const name of ['PORT', 'METRICS_PORT', 'WORKER_METRICS_PORT'] as const) {
    assert.deepEqual(listeningAddresses(ports[name]), ['0100007F'], `${name} listens on loopback only`);
  }
  assert.match(output, /HOST=0\.0\.0\.0 npm start/, 'the banner says how to expose it');
  assert.equal((await fetch(`http://127.0.0.1:${ports.PORT}/metrics`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${ports.METRICS_PORT}/metrics`)).status, 200);
  return { proc, output: () => output, ports, env };
}

// The process and all its descendants, from /proc.
function processTree(root: number): { pid: number; cmd: string }[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; cmd: string }[] = [];
  const walk = (pid: number) => {
    let cmd = '?';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      // gone meanwhile
    }
    out.push({ pid, cmd });
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

const alive = (pid: number) => {
  try {
    // A zombie has exited; it only waits for its parent (or init) to collect it.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A guest writes while the worker cannot store anything: the conversation's first local activity
// fails and backs off (1 s, 2 s, 4 s, ...), which used to hold the worker's shutdown forever.
async function makeLocalActivitiesBackOff(run: Run, guest: string): Promise<void> {
  await withDatabase((c) => c.query(`REVOKE INSERT ON conversations, messages FROM ${db.roles.app}`));
  const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { WHATSAPP_APP_SECRET: string };
  const raw = JSON.stringify(
    metaEnvelope([
      {
        wabaId: SANDBOX_DEFAULTS.wabaId,
        phoneNumberId: SANDBOX_DEFAULTS.phoneNumberId,
        contacts: [contact({ waId: guest, name: 'Bia' })],
        messages: [textMessage({ from: guest, body: 'Vocês aceitam pets?' })],
      },
    ]),
  );
  const res = await fetch(`http://127.0.0.1:${run.ports.PORT}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sha256Signature(raw, secrets.WHATSAPP_APP_SECRET) },
    body: raw,
  });
  assert.equal(res.status, 200, await res.text());
  // The worker's own metrics say when it has failed twice, i.e. is waiting to retry.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const metrics = await fetch(`http://127.0.0.1:${run.ports.WORKER_METRICS_PORT}/metrics`).then((r) => r.text(), () => '');
    const failed = [...metrics.matchAll(/^temporal_local_activity_execution_failed\S*\s+(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    if (failed >= 2) return;
    if (Date.now() > deadline) assert.fail(`the worker's local activities never failed:\n${metrics.slice(0, 2000)}\n${run.output()}`);
    await sleep(250);
  }
}

async function withDatabase<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(db.adminUrl as string);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function stopAndCheck(run: Run, target: 'npm' | 'script', signal: NodeJS.Signals) {
  const root = run.proc.pid as number;
  const tree = processTree(root);
  started.push(...tree.map((p) => p.pid));
  const names = tree.map((p) => p.cmd).join('\n');
  for (const part of ['scripts/start.ts', 'api/server.ts', 'workers/main.ts', 'temporal server start-dev']) assert.match(names, new RegExp(part), `${part} not running:\n${names}`);
  if (target === 'npm') assert.match(tree[0]?.cmd ?? '', /npm/);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    run.proc.once('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  const t0 = Date.now();
  process.kill(root, signal);
  const bound = GRACE_MS + MARGIN_MS;
  const ports = Object.values(run.ports);
  for (;;) {
    const left = tree.filter((p) => alive(p.pid));
    const held = (await Promise.all(ports.map(async (p) => ((await portFree(p)) ? null : p)))).filter((p) => p !== null);
    if (left.length === 0 && held.length === 0) break;
    if (Date.now() - t0 > bound) {
      assert.fail(
        `${signal} to ${target}: after ${bound / 1000} s still running:\n${left.map((p) => `${p.pid} ${p.cmd}`).join('\n')}\nports held: ${held.join(', ')}\n${run.output().slice(-4000)}`,
      );
    }
    await sleep(100);
  }
  const elapsed = Date.now() - t0;
  const exit = await exited;
  const out = run.output();
  assert.doesNotMatch(out, /did not stop in|killing it/, `something had to be SIGKILLed:\n${out.slice(-4000)}`);
  assert.match(out, /\[orquestra\] Stopped\./);
  if (target === 'script') assert.deepEqual(exit, { code: 0, signal: null });
  return elapsed;
}

describe('npm start stops everything it started', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    await bootstrapDatabase(db, { recreate: true });
  });

  after(async () => {
    for (const pid of started) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // not a group, or gone
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: db.adminUrl as string });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => admin.end());
  });

  const cases: { target: 'npm' | 'script'; signal: NodeJS.Signals; backoff: boolean }[] = [
    { target: 'npm', signal: 'SIGTERM', backoff: true },
    { target: 'npm', signal: 'SIGINT', backoff: false },
    { target: 'script', signal: 'SIGTERM', backoff: false },
    { target: 'script', signal: 'SIGINT', backoff: true },
  ];
  for (const [i, c] of cases.entries()) {
    const what = `${c.signal} to ${c.target === 'npm' ? 'the npm process' : 'the start script'}${c.backoff ? ', local activities backing off' : ''}`;
    it(`${what}: every child exits and every port is free within the grace time`, async (t) => {
      const run = await startStack(c.target);
      try {
        if (c.backoff) await makeLocalActivitiesBackOff(run, `55119888800${i}${i}`);
        const elapsed = await stopAndCheck(run, c.target, c.signal);
        t.diagnostic(`everything stopped ${elapsed} ms after ${c.signal}`);
      } finally {
        if (c.backoff) await withDatabase((cl) => cl.query(`GRANT INSERT ON conversations, messages TO ${db.roles.app}`));
      }
    });
  }
});
