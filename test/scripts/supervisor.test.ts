import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

// scripts/lib/supervisor.ts as npm start uses it, with small node children instead of the stack.

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'orquestra-supervisor-'));
const leftovers: number[] = [];
let n = 0;

const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function startFixture(names: string[], viaShell = false) {
  const log = join(dir, `log-${n++}`);
  const node = [process.execPath, '--import', 'tsx', 'test/scripts/fixtures/supervised.ts', log, ...names];
  // `; true` keeps the shell around as the fixture's parent (dash would otherwise exec it).
  const proc: ChildProcess = viaShell
    ? spawn('sh', ['-c', `${node.map((a) => `'${a}'`).join(' ')}; true`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
    : spawn(node[0] as string, node.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
    proc.once('exit', (code) => reject(new Error(`fixture exited with ${code} before starting`)));
  });
  const started = JSON.parse(line) as { pid: number; children: number[] };
  leftovers.push(proc.pid as number, started.pid, ...started.children);
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  // Each child says when its SIGTERM handler is in place.
  const deadline = Date.now() + 30_000;
  while (lines().filter((l) => l.startsWith('ready ')).length < names.length) {
    if (Date.now() > deadline) assert.fail(`children not ready: ${lines().join(' | ')}`);
    await sleep(20);
  }
  return { proc, log, ...started, read: () => lines().filter((l) => !l.startsWith('ready ')) };
}

async function waitGone(pids: number[], withinMs: number): Promise<number> {
  const t0 = Date.now();
  while (pids.some(alive)) {
    if (Date.now() - t0 > withinMs) assert.fail(`still running after ${withinMs} ms: ${pids.filter(alive).join(', ')}`);
    await sleep(50);
  }
  return Date.now() - t0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('process supervisor', () => {
  after(() => {
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops its children last-started-first on SIGTERM, then exits', async () => {
    const f = await startFixture(['first', 'second', 'third']);
    process.kill(f.pid, 'SIGTERM');
    await waitGone([f.pid, ...f.children], 10_000);
    assert.deepEqual(f.read(), ['stop SIGTERM', 'SIGTERM third', 'SIGTERM second', 'SIGTERM first', 'stopped']);
  });

  it('kills a child that ignores SIGTERM once its grace time is over, and goes on', async () => {
    const f = await startFixture(['before', 'stubborn']);
    const t0 = Date.now();
    process.kill(f.pid, 'SIGINT');
    await waitGone([f.pid, ...f.children], 10_000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1_500 && elapsed < 6_000, `took ${elapsed} ms for a 1.5 s grace time`);
    assert.deepEqual(f.read(), ['stop SIGINT', 'SIGTERM stubborn', 'say stubborn did not stop in 1.5 s; killing it.', 'SIGTERM before', 'stopped']);
  });

  it('stops everything when its parent dies without a word (npm or its shell SIGKILLed)', async () => {
    const f = await startFixture(['orphaned'], true);
    process.kill(f.proc.pid as number, 'SIGKILL');
    await waitGone([f.pid, ...f.children], 5_000);
    const lines = f.read();
    assert.match(lines[0] as string, /^stop parent process \d+ exited$/);
    assert.deepEqual(lines.slice(1), ['SIGTERM orphaned', 'stopped']);
  });

  it('treats a signal repeated within a second as the same request (Ctrl-C reaches npm and the script)', async () => {
    const f = await startFixture(['stubborn-slow']);
    process.kill(f.pid, 'SIGINT');
    await sleep(200);
    process.kill(f.pid, 'SIGINT');
    await sleep(300);
    assert.ok(alive(f.pid), 'a duplicate SIGINT must not cut the orderly stop short');
    await waitGone([f.pid, ...f.children], 10_000);
    assert.ok(f.read().includes('say stubborn-slow did not stop in 1.5 s; killing it.'));
  });

  it('kills everything at once on a second signal later than that', async () => {
    const f = await startFixture(['stubborn-impatient']);
    process.kill(f.pid, 'SIGTERM');
    await sleep(1_100);
    process.kill(f.pid, 'SIGTERM');
    const took = await waitGone([f.pid, ...f.children], 2_000);
    assert.ok(took < 1_000, `second SIGTERM took ${took} ms`);
    assert.ok(!f.read().includes('stopped'));
  });
});
