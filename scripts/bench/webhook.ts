import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import Redis from 'ioredis';
import type { Knex } from 'knex';
import { sha256Signature } from '../../infra/hmac-signature';
import { bootstrapDatabase } from '../../db/bootstrap';
import { createKnex } from '../../db/connection';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { migrateToLatest } from '../../db/migrate';
import { ensurePlatformAdmin } from '../../db/platform-admin';
import { withTenant } from '../../db/tenant-scope';
import { loadConfig, type Config } from '../../infra/config';
import { redisReachable } from '../../infra/redis';
import { ensureSearchAttributes, temporalConnectionOptions } from '../../infra/temporal';
import { FakeGraphApi, type SentMessage } from '../sandbox/graph-api';
import { metaEnvelope, textMessage } from '../../test/fakes/meta-payloads';
import { FakeOpenAi, lastUserText } from '../../test/fakes/openai';
import { conversationStateQuery, conversationWorkflowId } from '../../workflows/conversation';
import { findOrBuildTemporalCli, freePort, startDevServer, type DevServer, type DevServerOptions } from '../lib/temporal-cli';
import {
  CpuSampler,
  histogramQuantile,
  labelValues,
  ms,
  promHistogram,
  round1,
  roundInt,
  seededRandom,
  sleep,
  summarize,
  summarizeLog,
  summarizeProfiles,
  type Summary,
} from './lib';

// `npm run bench:webhook -- --rate R --seconds S [--chaos] [--guests N] [...]`
//
// Drives signed WhatsApp webhooks (Meta's envelope, many guests at once) at a fixed rate through
// the real stack — API and worker as child processes, a Temporal dev server of its own, Postgres,
// Redis — with Meta's Graph API and OpenAI faked in this process, and reports what it reached:
// acknowledgement latency (Meta's view of the webhook), end-to-end latency (acknowledged → reply
// received by the fake Graph API), sustained throughput, messages lost and replies duplicated.
// In the same run it measures the bare ceiling: plain signal-with-start calls per second against
// the same Temporal server, so the webhook figure can be read as a fraction of it. With --chaos
// the worker and the API are SIGKILLed at random moments (and the Temporal server once) and
// restarted while the load goes on. The last line printed is one JSON object.

const ROOT = join(__dirname, '..', '..');
const USAGE = `usage: npm run bench:webhook -- --rate R --seconds S [options]
  --rate R              messages per second offered (default 100)
  --seconds S           length of the sending window (default 60)
  --guests N            distinct guests writing (default rate × 8: each writes about every 8 s)
  --batch K             messages per webhook payload (default 1)
  --chaos               SIGKILL the worker and the API (2–3 times each) and the Temporal server (once)
  --seed N              seed for the chaos schedule (default: random, printed)
  --ai fake|rules       fake OpenAI (default) or the rule-based fallback (no OpenAI key)
  --ai-latency MS       fake OpenAI latency (default 150)
  --graph-latency MS    fake Graph API latency (default 30)
  --pacing-ms MS        WHATSAPP_PER_CUSTOMER_INTERVAL_MS (default: the product's, 6000)
  --number-mps N        WHATSAPP_NUMBER_MESSAGES_PER_SECOND (default: the product's, 80)
  --drain-seconds S     after sending stops, wait at most this for replies and retries (default 60)
  --max-inflight N      bound on concurrent webhook requests (default 2000)
  --bare-seconds S      length of the bare signal-with-start measurement (default 10; 0 skips it)
  --bare-concurrency N  concurrent calls in the bare measurement (default 64)
  --sqlite-pragmas P    SQLite pragmas of the dev server's file (default journal_mode=wal,synchronous=off;
                        "none" keeps the CLI's defaults, which hold it to a few dozen transactions/s on disk)
  --status-webhooks on|off  the fake Graph API posts Meta's 'sent' and 'delivered' status webhooks for
                        every accepted send, as Meta does (default on; the API dedupes retried sends with them)
  --profile             run the API and the worker with --cpu-prof and print where their CPU went
  --keep                keep the work directory (logs, Temporal's SQLite file)`;

const ATTEMPT_TIMEOUT_MS = 10_000;
const RETRY_FIRST_MS = 200;
const RETRY_CAP_MS = 5_000;
const WARMUP_GUESTS = 10;

interface Options {
  rate: number;
  seconds: number;
  guests: number;
  batch: number;
  chaos: boolean;
  seed: number;
  ai: 'fake' | 'rules';
  aiLatency: number;
  graphLatency: number;
  pacingMs?: number;
  numberMps?: number;
  drainSeconds: number;
  maxInflight: number;
  bareSeconds: number;
  bareConcurrency: number;
  sqlitePragmas: string[];
  statusWebhooks: boolean;
  profile: boolean;
  keep: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '60' },
      guests: { type: 'string' },
      batch: { type: 'string', default: '1' },
      chaos: { type: 'boolean', default: false },
      seed: { type: 'string' },
      ai: { type: 'string', default: 'fake' },
      'ai-latency': { type: 'string', default: '150' },
      'graph-latency': { type: 'string', default: '30' },
      'pacing-ms': { type: 'string' },
      'number-mps': { type: 'string' },
      'drain-seconds': { type: 'string', default: '60' },
      'max-inflight': { type: 'string', default: '2000' },
      'bare-seconds': { type: 'string', default: '10' },
      'bare-concurrency': { type: 'string', default: '64' },
      'sqlite-pragmas': { type: 'string', default: 'journal_mode=wal,synchronous=off' },
      'status-webhooks': { type: 'string', default: 'on' },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min} (got ${v})`);
    return n;
  };
  const onOff = (name: string, v: string | undefined): boolean => {
    if (v === 'on') return true;
    if (v === 'off') return false;
    throw new UsageError(`--${name} must be on or off (got ${v})`);
  };
  const rate = num('rate', values.rate, 0.1);
  const ai = values.ai;
  if (ai !== 'fake' && ai !== 'rules') throw new UsageError(`--ai must be fake or rules (got ${ai})`);
  return {
    rate,
    seconds: num('seconds', values.seconds, 1),
    guests: values.guests === undefined ? Math.max(1, Math.round(rate * 8)) : Math.floor(num('guests', values.guests, 1)),
    batch: Math.floor(num('batch', values.batch, 1)),
    chaos: values.chaos ?? false,
    seed: values.seed === undefined ? randomBytes(4).readUInt32BE(0) : Math.floor(num('seed', values.seed, 0)),
    ai,
    aiLatency: num('ai-latency', values['ai-latency'], 0),
    graphLatency: num('graph-latency', values['graph-latency'], 0),
    pacingMs: values['pacing-ms'] === undefined ? undefined : num('pacing-ms', values['pacing-ms'], 0),
    numberMps: values['number-mps'] === undefined ? undefined : num('number-mps', values['number-mps'], 1),
    drainSeconds: num('drain-seconds', values['drain-seconds'], 0),
    maxInflight: Math.floor(num('max-inflight', values['max-inflight'], 1)),
    bareSeconds: num('bare-seconds', values['bare-seconds'], 0),
    bareConcurrency: Math.floor(num('bare-concurrency', values['bare-concurrency'], 1)),
    sqlitePragmas: parsePragmas(values['sqlite-pragmas'] ?? 'none'),
    statusWebhooks: onOff('status-webhooks', values['status-webhooks']),
    profile: values.profile ?? false,
    keep: values.keep ?? false,
  };
}

class UsageError extends Error {}

function parsePragmas(v: string): string[] {
  if (v === 'none' || v === '') return [];
  const list = v.split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of list) if (!/^[a-z_]+=[A-Za-z0-9_]+$/.test(p)) throw new UsageError(`--sqlite-pragmas: "${p}" is not PRAGMA=VALUE`);
  return list;
}

// startDevServer has no way to pass extra flags; a one-line wrapper that execs the real binary
// (same pid, same process group) adds the SQLite pragmas. With the CLI's defaults (rollback
// journal, synchronous=FULL) a file-backed dev server commits a few dozen transactions a second
// on this kind of disk and the benchmark would measure nothing but fsync. WAL with
// synchronous=OFF survives a SIGKILL of the server (the OS still has the pages), which is all the
// chaos run needs; it would not survive a power cut, which no dev server is meant to.
function sqliteWrapper(binary: string, pragmas: string[], dir: string): string {
  if (pragmas.length === 0) return binary;
  const file = join(dir, 'temporal-with-pragmas.sh');
  const args = pragmas.map((p) => `--sqlite-pragma '${p}'`).join(' ');
  writeFileSync(file, `#!/bin/sh\nexec '${binary.replace(/'/g, "'\\''")}' "$@" ${args}\n`, { mode: 0o755 });
  return file;
}

// Progress and set-up notes go to stderr; the report and the final JSON line to stdout.
const note = (m: string) => console.error(`[bench] ${m}`);

// ---------------------------------------------------------------------------------------------
// Child processes. Each runs in its own process group (detached), so a Ctrl-C in the terminal
// reaches this script only, and this script ends each group by its id.

let shuttingDown = false;

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (!proc.pid || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      // already gone
    }
  }
}

const exitedPromise = (proc: ChildProcess) =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => proc.once('exit', () => r()));

class Service {
  proc: ChildProcess | null = null;
  readonly pids: number[] = [];
  starts = 0;
  chaosKills = 0;
  unexpectedExits = 0;
  private expecting = false;

  constructor(
    readonly name: 'api' | 'worker',
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    private readonly onUnexpectedExit: (s: Service, how: string) => void,
    private readonly nodeArgs: string[] = [],
  ) {}

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): void {
    const fd = openSync(this.logFile, 'a');
    const proc = spawn(process.execPath, [...this.nodeArgs, '--import', 'tsx', join(ROOT, this.entry)], { cwd: ROOT, env: this.env, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    this.proc = proc;
    this.starts++;
    this.expecting = false;
    if (proc.pid) this.pids.push(proc.pid);
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null;
      if (!this.expecting && !shuttingDown) {
        this.unexpectedExits++;
        this.onUnexpectedExit(this, signal ?? `code ${code}`);
      }
    });
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.expecting = true;
    killGroup(proc, signal);
    await exitedPromise(proc);
  }

  async stop(graceMs: number): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.expecting = true;
    killGroup(proc, 'SIGTERM');
    const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), graceMs);
    await exitedPromise(proc);
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.proc) {
      this.expecting = true;
      killGroup(this.proc, 'SIGKILL');
    }
  }
}

class TemporalServer {
  server: DevServer | null = null;
  readonly pids: number[] = [];
  starts = 0;
  chaosKills = 0;
  unexpectedExits = 0;
  private expecting = false;

  constructor(
    private readonly options: DevServerOptions,
    private readonly onUnexpectedExit: (how: string) => void,
  ) {}

  get address(): string {
    return `${this.options.ip ?? '127.0.0.1'}:${this.options.port}`;
  }

  async start(): Promise<void> {
    this.expecting = false;
    const server = await startDevServer(this.options);
    this.server = server;
    this.starts++;
    if (server.process.pid) this.pids.push(server.process.pid);
    server.process.once('exit', (code, signal) => {
      if (this.server === server) this.server = null;
      if (!this.expecting && !shuttingDown) {
        this.unexpectedExits++;
        this.onUnexpectedExit(signal ?? `code ${code}`);
      }
    });
  }

  async kill(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.expecting = true;
    killGroup(s.process, 'SIGKILL');
    await exitedPromise(s.process);
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.expecting = true;
    await s.stop();
  }

  killNow(): void {
    if (this.server) {
      this.expecting = true;
      killGroup(this.server.process, 'SIGKILL');
    }
  }
}

// Everything that must be undone, whatever way the script ends.
const running: {
  api?: Service;
  worker?: Service;
  temporal?: TemporalServer;
  graph?: FakeGraphApi;
  openai?: FakeOpenAi;
  knex?: Knex;
  temporalConnection?: Connection;
  redisUrl?: string;
  redisPrefix?: string;
  workDir?: string;
  keepWorkDir: boolean;
  timers: Set<NodeJS.Timeout>;
} = { keepWorkDir: false, timers: new Set() };

process.on('exit', () => {
  // Last resort (an error path that skipped cleanup): no child survives this script.
  running.api?.killNow();
  running.worker?.killNow();
  running.temporal?.killNow();
});

async function cleanup(): Promise<void> {
  shuttingDown = true;
  for (const t of running.timers) clearTimeout(t);
  running.timers.clear();
  // API first (no new work), then the worker, then the server they both talk to.
  await running.api?.stop(10_000).catch(() => {});
  await running.worker?.stop(10_000).catch(() => {});
  await running.temporalConnection?.close().catch(() => {});
  await running.temporal?.stop().catch(() => {});
  await running.graph?.stop().catch(() => {});
  await running.openai?.stop().catch(() => {});
  await running.knex?.destroy().catch(() => {});
  if (running.redisUrl && running.redisPrefix) await dropRedisKeys(running.redisUrl, running.redisPrefix).catch(() => {});
  if (running.workDir && !running.keepWorkDir) rmSync(running.workDir, { recursive: true, force: true });
}

async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130); // second Ctrl-C: the exit hook SIGKILLs what is left
    interrupted = true;
    note(`${sig}: stopping everything...`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The load

interface Message {
  seq: number;
  guest: string;
  delivery: Delivery;
  repliedAt?: number; // first reply containing this message (exact with --ai fake; per guest with rules)
  replies: number; // replies containing this message's token (--ai fake)
  aiAnsweredAt?: number; // the fake OpenAI answered a prompt holding this message (--ai fake)
}

interface Delivery {
  messages: Message[];
  raw: string;
  signature: string;
  scheduledAt: number;
  firstAttemptAt?: number;
  ackAt?: number;
  attempts: number;
  gaveUp: boolean;
  done: boolean;
}

const TOKEN = /\bmsg-(\d+)\b/g;
const WARM_TOKEN = /\bwarm-(\d+)\b/g;
const guestPhone = (i: number) => `5511${900000000 + i}`;
const warmPhone = (i: number) => `5521${900000000 + i}`;
// A question the rule-based triage answers from the FAQ entry this script adds (--ai rules) and
// that never reads as a request for a person or a complaint; the token identifies the message.
const guestText = (token: string) => `Qual o horário do benchmark? ${token}`;

async function main() {
  const o = parseOptions();
  const runId = randomBytes(4).toString('hex');
  const code = { git: gitState(), fingerprint: sourceFingerprint() };
  const workDir = mkdtempSync(join(tmpdir(), 'orquestra-bench-'));
  running.workDir = workDir;
  running.keepWorkDir = o.keep;
  note(`work directory ${workDir}; code ${code.git}, source fingerprint ${code.fingerprint}`);

  // --- Environment: everything isolated, nothing read from a developer's .env-like settings ---
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(DATABASE_(URL|OWNER_URL)|TEMPORAL_|OPENAI_|WHATSAPP_|WORKER_METRICS_|REDIS_KEY_PREFIX|PORT$|HOST$)/.test(k)) delete env[k];
  }
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  Object.assign(env, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    DATABASE_NAME: 'orquestra_bench',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `orq-bench-${runId}:`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WHATSAPP_APP_SECRET: randomBytes(24).toString('hex'),
    WHATSAPP_VERIFY_TOKEN: randomBytes(16).toString('hex'),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'orquestra',
    MEDIA_DIR: join(workDir, 'media'),
  });
  if (o.pacingMs !== undefined) env.WHATSAPP_PER_CUSTOMER_INTERVAL_MS = String(o.pacingMs);
  if (o.numberMps !== undefined) env.WHATSAPP_NUMBER_MESSAGES_PER_SECOND = String(o.numberMps);

  if (!(await redisReachable(redisUrl))) throw new Error(`Redis is not reachable at ${redisUrl}`);
  running.redisUrl = redisUrl;
  running.redisPrefix = env.REDIS_KEY_PREFIX;

  // --- Postgres: a fresh orquestra_bench database ---
  const db = resolveDatabaseSettings(env);
  await bootstrapDatabase(db, { recreate: true });
  await migrateToLatest(db);
  const knex = createKnex(db.appUrl, 2);
  running.knex = knex;
  note(`database ${db.database} recreated and migrated`);

  // --- Temporal dev server on free ports, state in a SQLite file so a restart keeps it ---
  const binary = sqliteWrapper(findOrBuildTemporalCli(note), o.sqlitePragmas, workDir);
  const temporal = new TemporalServer(
    { binary, port: await freePort(), uiPort: await freePort(), dbFile: join(workDir, 'temporal.db'), headless: true, detached: true },
    (how) => {
      timeline(`temporal exited unexpectedly (${how})`);
      void restartTemporalAfter(temporal, 1_000, 'unexpected exit');
    },
  );
  running.temporal = temporal;
  await temporal.start();
  env.TEMPORAL_ADDRESS = temporal.address;
  note(`Temporal dev server at ${temporal.address} (db ${join(workDir, 'temporal.db')}, pragmas ${o.sqlitePragmas.join(' ') || 'CLI defaults'})`);

  // --- Fakes, in this process ---
  const graph = new FakeGraphApi();
  running.graph = graph;
  await graph.start();
  graph.setLatency(o.graphLatency);
  const phoneNumberId = String(100000000000000 + Math.floor(Math.random() * 1e14));
  const number = graph.addNumber({
    phoneNumberId,
    wabaId: `2${phoneNumberId.slice(1)}`,
    accessToken: `EAAG${randomBytes(12).toString('hex')}`,
    displayPhoneNumber: '+55 11 99999-0001',
    verifiedName: 'Pousada Benchmark',
  });
  const openaiKey = `sk-bench-${randomBytes(12).toString('hex')}`;
  const openai = new FakeOpenAi({ apiKeys: [openaiKey] });
  running.openai = openai;
  await openai.start();
  openai.setLatency(o.aiLatency);

  const apiPort = await freePort();
  const metricsPort = await freePort();
  Object.assign(env, {
    PORT: String(apiPort),
    WORKER_METRICS_PORT: String(metricsPort),
    WORKER_METRICS_URLS: `http://127.0.0.1:${metricsPort}/metrics`,
    WHATSAPP_API_BASE_URL: graph.url,
    OPENAI_API_KEY: o.ai === 'fake' ? openaiKey : '',
    ...(o.ai === 'fake' ? { OPENAI_BASE_URL: openai.url } : {}),
  });
  const config: Config = loadConfig(env);
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const connection = await Connection.connect(temporalConnectionOptions(config));
  running.temporalConnection = connection;
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });

  // --- API and worker, as `npm start` runs them ---
  const onUnexpected = (s: Service, how: string) => {
    const tail = readTail(s.logFile, 6);
    timeline(`${s.name} exited unexpectedly (${how})${tail ? `; last log lines:\n${tail}` : ''}`);
    if (s.unexpectedExits <= 5) {
      const t = setTimeout(() => {
        running.timers.delete(t);
        if (!shuttingDown && !s.running) {
          s.start();
          timeline(`${s.name} restarted after unexpected exit (pid ${s.proc?.pid})`);
        }
      }, 1_000);
      running.timers.add(t);
    }
  };
  const profArgs = (name: string) => (o.profile ? ['--cpu-prof', '--cpu-prof-dir', join(workDir, `prof-${name}`)] : []);
  const worker = new Service('worker', 'workers/main.ts', env, join(workDir, 'worker.log'), onUnexpected, profArgs('worker'));
  const api = new Service('api', 'api/server.ts', env, join(workDir, 'api.log'), onUnexpected, profArgs('api'));
  running.worker = worker;
  running.api = api;
  worker.start();
  api.start();
  await waitForReady(apiUrl, 120_000);
  note(`API ready at ${apiUrl}; worker pid ${worker.proc?.pid}`);
  if (o.statusWebhooks) {
    graph.sendStatusWebhooks({ url: `${apiUrl}/webhooks/whatsapp`, appSecret: env.WHATSAPP_APP_SECRET as string, statuses: ['sent', 'delivered'] });
  }

  // --- One tenant with a WhatsApp number, through the API and the provisioning workflow ---
  const tenantId = await provisionTenant(knex, client, apiUrl, runId, number);
  if (o.ai === 'rules') {
    await withTenant(knex, tenantId, (trx) =>
      trx('faq_entries').insert({
        id: knex.raw('gen_random_uuid()'),
        tenantId,
        question: 'Qual o horário do benchmark?',
        answer: 'O benchmark funciona 24 horas por dia.',
        keywords: ['benchmark'],
        position: 0,
      }),
    );
  }
  note(`tenant ${tenantId} provisioned with number ${number.phoneNumberId}`);

  // --- Bookkeeping of replies (the fake Graph API records every accepted send) ---
  const messages: Message[] = [];
  const aiAnswered = new Map<number, number>();
  let aiCalls = 0;
  if (o.ai === 'fake') {
    // The fake's default answer, plus the moment each message's prompt was answered.
    openai.respondWith((req) => {
      aiCalls++;
      const text = lastUserText(req);
      const now = Date.now();
      for (const m of text.matchAll(TOKEN)) if (!aiAnswered.has(Number(m[1]))) aiAnswered.set(Number(m[1]), now);
      return { action: 'reply', reply: `Resposta automática: ${text}`, intent: 'question', confidence: 0.9 };
    });
  }
  const replies = new ReplyBook(graph, messages, o.ai);

  // --- Warm-up: a few guests end to end, so the first measured messages pay no cold start ---
  await warmUp(o, apiUrl, env.WHATSAPP_APP_SECRET as string, number, replies);
  note('warm-up done: webhook → workflow → AI → Graph API works');

  // --- The bare ceiling: plain signal-with-start against the same server ---
  const bare = o.bareSeconds > 0 ? await bareSignalWithStart(client, o.bareSeconds, o.bareConcurrency, runId) : null;
  if (bare) note(`bare signal-with-start: ${bare.perSec.toFixed(0)}/s (${bare.ok} ok, ${bare.failed} failed in ${bare.seconds.toFixed(1)} s at concurrency ${o.bareConcurrency})`);

  // --- Load ---
  const cpu = new CpuSampler(() => ({
    bench: [process.pid],
    api: api.pids,
    worker: worker.pids,
    temporal: temporal.pids,
  }), db.database);
  const load = new LoadGenerator(o, `${apiUrl}/webhooks/whatsapp`, env.WHATSAPP_APP_SECRET as string, number, messages);
  const chaosEvents = o.chaos ? planChaos(seededRandom(o.seed), o.seconds * 1000) : [];
  if (o.chaos) note(`chaos plan (seed ${o.seed}): ${chaosEvents.map((e) => `${e.target}@${(e.at / 1000).toFixed(1)}s/${e.downMs}ms`).join(', ')}`);

  note(`sending ${o.rate} msg/s for ${o.seconds} s from ${o.guests} guests (${o.batch} per payload)...`);
  const probes = new Probes(client, knex, `bench-bare-${runId}`, runId);
  cpu.start();
  probes.start();
  const sendStart = Date.now();
  timelineStart = sendStart;
  const drainDeadline = sendStart + o.seconds * 1000 + o.drainSeconds * 1000;
  const chaosRuns: Promise<void>[] = [];
  for (const e of chaosEvents) {
    const t = setTimeout(() => {
      running.timers.delete(t);
      chaosRuns.push(runChaos(e, { api, worker, temporal, apiUrl }));
    }, e.at);
    running.timers.add(t);
  }
  const progress = setInterval(() => {
    replies.poll();
    note(`t=${((Date.now() - sendStart) / 1000).toFixed(0)}s ${load.progressLine()} replied=${replies.repliedCount()}`);
  }, 5_000);
  await load.run(sendStart, drainDeadline);
  const sendEnd = Date.now();
  cpu.stop();
  await probes.stop();
  await Promise.all(chaosRuns);
  note(`sending window over (${((sendEnd - sendStart) / 1000).toFixed(1)} s); draining (at most ${o.drainSeconds} s)...`);

  // --- Drain: until every acknowledged message has its reply, or the deadline ---
  for (;;) {
    replies.poll();
    replies.finish();
    const settled = load.allSettled();
    const waiting = messages.filter((m) => m.delivery.ackAt !== undefined && m.repliedAt === undefined).length;
    if (settled && waiting === 0) break;
    if (Date.now() >= drainDeadline) break;
    await sleep(200);
  }
  clearInterval(progress);
  replies.poll();
  replies.finish();
  const drainEnd = Date.now();

  // --- Collect what the processes know before stopping them ---
  const fingerprintAtEnd = sourceFingerprint();
  const codeInfo = { ...code, changedDuringRun: fingerprintAtEnd !== code.fingerprint, fingerprintAtEnd };
  const workerMetrics = await fetchText(`http://127.0.0.1:${metricsPort}/metrics`);
  const apiMetrics = await fetchText(`${apiUrl}/metrics`);
  const dbCounts = await messageCounts(knex, tenantId).catch((err: unknown) => ({ error: (err as Error).message }));
  const result = computeResult({ o, messages, load, replies, sendStart, sendEnd, drainEnd, bare, aiAnswered, aiCalls, graph });
  const diagnostics = await diagnose({ knex, client, tenantId, messages, replies, sendStart }).catch((err: unknown) => [`diagnostics failed: ${(err as Error).message}`]);
  const anomalies = result.lost > 0 || result.duplicated > 0 || result.duplicateSends > 0 || api.unexpectedExits + worker.unexpectedExits + temporal.unexpectedExits > 0;
  const logs = { api: summarizeLog(api.logFile), worker: summarizeLog(worker.logFile) };
  if (anomalies) running.keepWorkDir = true;
  const restarts = {
    api: { chaosKills: api.chaosKills, unexpectedExits: api.unexpectedExits, starts: api.starts },
    worker: { chaosKills: worker.chaosKills, unexpectedExits: worker.unexpectedExits, starts: worker.starts },
    temporal: { chaosKills: temporal.chaosKills, unexpectedExits: temporal.unexpectedExits, starts: temporal.starts },
  };

  note('stopping the stack...');
  running.keepWorkDir = true; // until the profiles are read
  await cleanup();
  const profiles = o.profile ? { api: summarizeProfiles(join(workDir, 'prof-api'), ROOT), worker: summarizeProfiles(join(workDir, 'prof-worker'), ROOT) } : null;
  running.keepWorkDir = o.keep || anomalies;
  if (!running.keepWorkDir) rmSync(workDir, { recursive: true, force: true });

  printReport({ o, code: codeInfo, result, load, bare, probes: probes.result(), cpu: cpu.result(), restarts, workerMetrics, apiMetrics, dbCounts, logs, profiles, diagnostics, workDir, kept: running.keepWorkDir, env });
  const json = {
    offered: result.offered,
    acked: result.acked,
    unacked: result.unacked,
    ackP50Ms: roundInt(result.ack.p50),
    ackP95Ms: roundInt(result.ack.p95),
    ackP99Ms: roundInt(result.ack.p99),
    ackMaxMs: roundInt(result.ack.max),
    e2eP50Ms: roundInt(result.e2e.p50),
    e2eP95Ms: roundInt(result.e2e.p95),
    e2eP99Ms: roundInt(result.e2e.p99),
    e2eMaxMs: roundInt(result.e2e.max),
    sustainedPerSec: round1(result.sustainedPerSec),
    ackedPerSec: round1(result.ackedPerSec),
    repliesInWindowPerSec: round1(result.repliedInWindowPerSec),
    lost: result.lost,
    duplicated: result.duplicated,
    duplicateSends: result.duplicateSends,
    bareSignalWithStartPerSec: bare ? round1(bare.perSec) : null,
    ratioToBare: bare && bare.perSec > 0 ? Math.round((1000 * result.sustainedPerSec) / bare.perSec) / 1000 : null,
    non200: Object.fromEntries(load.non200),
    retries: load.retries,
    restarts,
    code: codeInfo,
    chaos: o.chaos,
    seed: o.chaos ? o.seed : undefined,
    rate: o.rate,
    seconds: o.seconds,
    guests: o.guests,
    batch: o.batch,
    ai: o.ai,
    aiLatencyMs: o.aiLatency,
    graphLatencyMs: o.graphLatency,
  };
  console.log(JSON.stringify(json));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Set-up helpers
// Which code ran: git HEAD (and whether the tree had changes), and a hash of the product sources
// the API and worker load (tsx compiles them at start-up, so a process restarted during a run
// picks up whatever the files hold at that moment).
function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} + uncommitted changes in ${dirty.split('\n').length} file(s)` : head;
  } catch {
    return 'unknown (no git)';
  }
}

function sourceFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) hash.update(path).update(readFileSync(path));
    }
  };
  for (const dir of ['api', 'activities', 'workflows', 'workers', 'db', 'domain', 'infra', 'scripts/sandbox', 'test/fakes']) walk(join(ROOT, dir));
  return hash.digest('hex').slice(0, 12);
}


async function waitForReady(apiUrl: string, timeoutMs: number): Promise<number> {
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
    if (shuttingDown) throw new Error('stopping');
    await sleep(200);
  }
  throw new Error(`API not ready after ${timeoutMs / 1000} s: ${last}`);
}

async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function provisionTenant(knex: Knex, client: Client, apiUrl: string, runId: string, number: { phoneNumberId: string; wabaId: string; accessToken: string }): Promise<string> {
  const root = { email: `bench-root-${runId}@orquestra.local`, password: `senha-bench-${randomBytes(8).toString('hex')}` };
  await ensurePlatformAdmin(knex, root);
  const login = await postJson(`${apiUrl}/api/auth/login`, root);
  if (login.status !== 200) throw new Error(`platform admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const slug = `bench-${runId}`;
  const created = await postJson(
    `${apiUrl}/api/tenants`,
    {
      name: `Pousada Benchmark ${runId}`,
      slug,
      admin: { name: 'Administradora Benchmark', email: `admin-${slug}@example.com.br`, password: `senha-${randomBytes(8).toString('hex')}` },
      whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken },
    },
    login.body.accessToken as string,
  );
  if (created.status !== 202) throw new Error(`tenant not accepted: ${created.status} ${JSON.stringify(created.body)}`);
  const handle = client.workflow.getHandle(created.body.workflowId as string);
  await Promise.race([
    handle.result(),
    sleep(120_000).then(() => {
      throw new Error('provisioning did not finish within 2 minutes');
    }),
  ]);
  return created.body.tenantId as string;
}

async function warmUp(o: Options, apiUrl: string, appSecret: string, number: { phoneNumberId: string; wabaId: string }, replies: ReplyBook) {
  const guests = Array.from({ length: WARMUP_GUESTS }, (_, i) => i);
  await Promise.all(
    guests.map(async (i) => {
      const raw = JSON.stringify(
        metaEnvelope([{ wabaId: number.wabaId, phoneNumberId: number.phoneNumberId, messages: [textMessage({ from: warmPhone(i), body: guestText(`warm-${i}`) })] }]),
      );
      const res = await fetch(`${apiUrl}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sha256Signature(raw, appSecret) },
        body: raw,
      });
      if (res.status !== 200) throw new Error(`warm-up webhook answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    replies.poll();
    const done = guests.filter((i) => replies.warmReplied(i, warmPhone(i))).length;
    if (done === guests.length) return;
    if (Date.now() > deadline) {
      throw new Error(`warm-up: only ${done}/${guests.length} guests got a reply within 60 s (ai=${o.ai}); see the worker log`);
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Bare ceiling: signal-with-start of a workflow type no worker polls, on a task queue of its own,
// to a pool of ids (so most calls signal a running workflow, as the webhook mostly does), at a
// fixed concurrency for a fixed time. The workflows are terminated afterwards.

async function bareSignalWithStart(client: Client, seconds: number, concurrency: number, runId: string) {
  const taskQueue = `bench-bare-${runId}`;
  const pool = 1024;
  const used = new Set<string>();
  let ok = 0;
  let failed = 0;
  let i = 0;
  const started = Date.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const workflowId = `bench-bare-${runId}-${i++ % pool}`;
        used.add(workflowId);
        try {
          await client.workflow.signalWithStart('benchBareNoop', { workflowId, taskQueue, args: [], signal: 'bump', signalArgs: [i] });
          ok++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const ids = [...used];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let k = w; k < ids.length; k += concurrency) {
        await client.workflow.getHandle(ids[k] as string).terminate('benchmark over').catch(() => {});
      }
    }),
  );
  return { perSec: ok / elapsed, ok, failed, seconds: elapsed };
}

// ---------------------------------------------------------------------------------------------
// Probes: while the load runs, one bare signal-with-start (same server, the bare measurement's
// task queue, no worker) and one `SELECT 1` (same Postgres, this script's own small pool) every
// 250 ms, so the acknowledgement latency can be set against what Temporal and Postgres alone
// take at that moment.

class Probes {
  private readonly temporal: number[] = [];
  private readonly postgres: number[] = [];
  private temporalFailed = 0;
  private postgresFailed = 0;
  private timer?: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<void>>();
  private k = 0;

  constructor(
    private readonly client: Client,
    private readonly knex: Knex,
    private readonly taskQueue: string,
    private readonly runId: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      const k = this.k++;
      this.track(async () => {
        const t0 = Date.now();
        try {
          await this.client.workflow.signalWithStart('benchBareNoop', {
            workflowId: `bench-probe-${this.runId}-${k % 16}`,
            taskQueue: this.taskQueue,
            args: [],
            signal: 'bump',
            signalArgs: [k],
          });
          this.temporal.push(Date.now() - t0);
        } catch {
          this.temporalFailed++;
        }
      });
      this.track(async () => {
        const t0 = Date.now();
        try {
          await this.knex.raw('SELECT 1');
          this.postgres.push(Date.now() - t0);
        } catch {
          this.postgresFailed++;
        }
      });
    }, 250);
  }

  private track(fn: () => Promise<void>): void {
    const p = fn().finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.race([Promise.all(this.inflight), sleep(15_000)]);
  }

  result() {
    return { temporal: summarize(this.temporal), postgres: summarize(this.postgres), temporalFailed: this.temporalFailed, postgresFailed: this.postgresFailed };
  }
}

// ---------------------------------------------------------------------------------------------
// Open-loop sender: message k is due at start + k / rate whatever happened to the earlier ones;
// each payload is retried like Meta does (any non-200: exponential backoff from 200 ms, capped
// at 5 s, ±20 % jitter so a restarted API is not hit by every retry in the same millisecond)
// until acknowledged or the drain deadline.

class LoadGenerator {
  readonly deliveries: Delivery[] = [];
  readonly non200 = new Map<string, number>();
  retries = 0;
  inflight = 0;
  maxInflightSeen = 0;
  private readonly backlog: Delivery[] = [];
  private seq = 0;
  private drainDeadline = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly o: Options,
    private readonly url: string,
    private readonly appSecret: string,
    private readonly number: { phoneNumberId: string; wabaId: string },
    private readonly messages: Message[],
  ) {}

  async run(start: number, drainDeadline: number): Promise<void> {
    this.drainDeadline = drainDeadline;
    const payloadsPerSec = this.o.rate / this.o.batch;
    const total = Math.round(this.o.rate * this.o.seconds / this.o.batch);
    const interval = 1000 / payloadsPerSec;
    let k = 0;
    while (k < total && !shuttingDown) {
      const now = Date.now();
      while (k < total && start + k * interval <= now) this.launch(start + k++ * interval);
      if (k < total) await sleep(Math.max(0, Math.min(20, start + k * interval - Date.now())));
    }
  }

  allSettled(): boolean {
    return this.backlog.length === 0 && this.pending.size === 0;
  }

  offered(): number {
    return this.seq;
  }

  progressLine(): string {
    const acked = this.deliveries.reduce((n, d) => n + (d.ackAt !== undefined ? d.messages.length : 0), 0);
    const non200 = [...this.non200].map(([k, v]) => `${k}:${v}`).join(',') || '0';
    return `offered=${this.seq} acked=${acked} inflight=${this.inflight} backlog=${this.backlog.length} non200=${non200}`;
  }

  private launch(scheduledAt: number): void {
    const batch: Message[] = [];
    const delivery: Delivery = { messages: batch, raw: '', signature: '', scheduledAt, attempts: 0, gaveUp: false, done: false };
    for (let j = 0; j < this.o.batch; j++) {
      const seq = this.seq++;
      const m: Message = { seq, guest: guestPhone(seq % this.o.guests), delivery, replies: 0 };
      batch.push(m);
      this.messages[seq] = m;
    }
    delivery.raw = JSON.stringify(
      metaEnvelope([
        {
          wabaId: this.number.wabaId,
          phoneNumberId: this.number.phoneNumberId,
          messages: batch.map((m) => textMessage({ from: m.guest, body: guestText(`msg-${m.seq}`) })),
        },
      ]),
    );
    delivery.signature = sha256Signature(delivery.raw, this.appSecret);
    this.deliveries.push(delivery);
    if (this.inflight < this.o.maxInflight) this.startDelivery(delivery);
    else this.backlog.push(delivery);
  }

  private startDelivery(d: Delivery): void {
    const p = this.deliver(d).finally(() => {
      this.pending.delete(p);
      const next = this.backlog.shift();
      if (next) this.startDelivery(next);
    });
    this.pending.add(p);
  }

  private async deliver(d: Delivery): Promise<void> {
    this.inflight++;
    this.maxInflightSeen = Math.max(this.maxInflightSeen, this.inflight);
    let backoff = RETRY_FIRST_MS;
    try {
      for (;;) {
        d.firstAttemptAt ??= Date.now();
        d.attempts++;
        let outcome: string;
        try {
          const res = await fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': d.signature, 'user-agent': 'facebookexternalua' },
            body: d.raw,
            signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.status === 200) {
            d.ackAt = Date.now();
            return;
          }
          outcome = String(res.status);
        } catch (err) {
          outcome = failureKind(err);
        }
        this.non200.set(outcome, (this.non200.get(outcome) ?? 0) + 1);
        const wait = backoff * (0.8 + 0.4 * Math.random());
        if (shuttingDown || Date.now() + wait > this.drainDeadline) {
          d.gaveUp = true;
          return;
        }
        this.retries++;
        await sleep(wait);
        backoff = Math.min(RETRY_CAP_MS, backoff * 2);
      }
    } finally {
      this.inflight--;
      d.done = true;
    }
  }
}

function failureKind(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError') return 'timeout';
  const code = e?.cause?.code ?? e?.cause?.name;
  return `net:${code ?? e?.name ?? 'error'}`;
}

// ---------------------------------------------------------------------------------------------
// Replies seen by the fake Graph API, matched to messages.
//
// --ai fake: each guest message carries `msg-<seq>`, the fake model echoes the guest's latest
// text, and the workflow merges held replies with a blank line, so every token found in any sent
// text is one reply to that message. duplicated = tokens seen in more than one sent message.
// --ai rules: the rule-based answer cannot echo a token, so a message counts as answered by the
// first reply to its guest after it was first offered (an approximation), and duplicates are
// only the exact kind below.
// In both modes duplicateSends counts the same outbound message (biz_opaque_callback_data, the
// product's message id) accepted by the Graph API more than once.

class ReplyBook {
  private cursor = 0;
  private readonly warmToken = new Set<number>();
  private readonly warmGuests = new Set<string>();
  private readonly callbackCounts = new Map<string, number>();
  readonly callbackSends = new Map<string, { to: string; at: number }[]>();
  readonly sendsByGuest = new Map<string, number[]>();
  sends = 0;
  benchSends = 0;
  lastReplyAt = 0;
  minGapMs = Number.POSITIVE_INFINITY;
  private replied = 0;

  constructor(
    private readonly graph: FakeGraphApi,
    private readonly messages: Message[],
    private readonly mode: 'fake' | 'rules',
  ) {}

  poll(): void {
    const sent = this.graph.sent;
    while (this.cursor < sent.length) this.take(sent[this.cursor++] as SentMessage);
  }

  private take(s: SentMessage): void {
    this.sends++;
    if (s.bizOpaqueCallbackData) {
      this.callbackCounts.set(s.bizOpaqueCallbackData, (this.callbackCounts.get(s.bizOpaqueCallbackData) ?? 0) + 1);
      const list = this.callbackSends.get(s.bizOpaqueCallbackData) ?? [];
      list.push({ to: s.to, at: s.receivedAt });
      this.callbackSends.set(s.bizOpaqueCallbackData, list);
    }
    const text = s.text ?? '';
    for (const m of text.matchAll(WARM_TOKEN)) this.warmToken.add(Number(m[1]));
    this.warmGuests.add(s.to);
    if (!s.to.startsWith('5511')) return;
    this.benchSends++;
    const times = this.sendsByGuest.get(s.to) ?? [];
    if (times.length) this.minGapMs = Math.min(this.minGapMs, s.receivedAt - (times[times.length - 1] as number));
    times.push(s.receivedAt);
    this.sendsByGuest.set(s.to, times);
    this.lastReplyAt = Math.max(this.lastReplyAt, s.receivedAt);
    if (this.mode !== 'fake') return;
    for (const m of text.matchAll(TOKEN)) {
      const msg = this.messages[Number(m[1])];
      if (!msg) continue;
      msg.replies++;
      if (msg.repliedAt === undefined) {
        msg.repliedAt = s.receivedAt;
        this.replied++;
      }
    }
  }

  warmReplied(i: number, phone: string): boolean {
    return this.mode === 'fake' ? this.warmToken.has(i) : this.warmGuests.has(phone);
  }

  repliedCount(): number {
    if (this.mode === 'rules') this.finish();
    return this.replied;
  }

  // --ai rules: assign each guest's replies to its messages in order (see above).
  finish(): void {
    if (this.mode !== 'rules') return;
    const byGuest = new Map<string, Message[]>();
    for (const m of this.messages) if (m) byGuest.set(m.guest, [...(byGuest.get(m.guest) ?? []), m]);
    this.replied = 0;
    for (const [guest, list] of byGuest) {
      const times = this.sendsByGuest.get(guest) ?? [];
      let r = 0;
      for (const m of list) {
        m.repliedAt = undefined;
        m.replies = 0;
        const offeredAt = m.delivery.firstAttemptAt;
        if (offeredAt === undefined) continue;
        while (r < times.length && (times[r] as number) < offeredAt) r++;
        if (r < times.length) {
          m.repliedAt = times[r];
          m.replies = 1;
          this.replied++;
        }
      }
    }
  }

  // Sends that followed the previous one to the same guest by less than the pacing interval plus
  // a second: most of them were held back by the workflow's per-guest pacing.
  pacedSends(pacingMs: number): number {
    let n = 0;
    for (const times of this.sendsByGuest.values()) for (let i = 1; i < times.length; i++) if ((times[i] as number) - (times[i - 1] as number) < pacingMs + 1_000) n++;
    return n;
  }

  duplicateSends(): number {
    let n = 0;
    for (const c of this.callbackCounts.values()) if (c > 1) n += c - 1;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Chaos

interface ChaosEvent {
  at: number; // ms after the start of the sending window
  target: 'worker' | 'api' | 'temporal';
  downMs: number;
}

function planChaos(rng: () => number, windowMs: number): ChaosEvent[] {
  const events: ChaosEvent[] = [];
  const spacing = Math.max(5_000, windowMs / 10);
  const pick = (target: ChaosEvent['target'], n: number, lo: number, hi: number, downLo: number, downHi: number) => {
    const times: number[] = [];
    for (let guard = 0; times.length < n && guard < 1000; guard++) {
      const t = lo + rng() * (hi - lo);
      if (times.every((x) => Math.abs(x - t) >= spacing)) times.push(t);
    }
    for (const t of times) events.push({ at: Math.round(t), target, downMs: Math.round(downLo + rng() * (downHi - downLo)) });
  };
  pick('worker', 2 + (rng() < 0.5 ? 1 : 0), 0.05 * windowMs, 0.85 * windowMs, 1_000, 3_000);
  pick('api', 2 + (rng() < 0.5 ? 1 : 0), 0.05 * windowMs, 0.85 * windowMs, 1_000, 3_000);
  pick('temporal', 1, 0.3 * windowMs, 0.7 * windowMs, 2_000, 2_000);
  return events.sort((a, b) => a.at - b.at);
}

let timelineStart = 0;
const timelineEntries: string[] = [];
function timeline(text: string): void {
  const t = timelineStart ? `t=${((Date.now() - timelineStart) / 1000).toFixed(1)}s` : 'setup';
  const line = `${t} ${text}`;
  timelineEntries.push(line);
  note(line);
}

async function runChaos(e: ChaosEvent, s: { api: Service; worker: Service; temporal: TemporalServer; apiUrl: string }): Promise<void> {
  if (shuttingDown) return;
  if (e.target === 'temporal') {
    if (!s.temporal.server) return timeline('temporal: not running, kill skipped');
    const pid = s.temporal.server.process.pid;
    s.temporal.chaosKills++;
    await s.temporal.kill();
    timeline(`temporal SIGKILL (pid ${pid}); restarting in ${e.downMs} ms`);
    await restartTemporalAfter(s.temporal, e.downMs, 'chaos');
    return;
  }
  const svc = e.target === 'api' ? s.api : s.worker;
  if (!svc.running) return timeline(`${svc.name}: not running, kill skipped`);
  const pid = svc.proc?.pid;
  svc.chaosKills++;
  await svc.kill('SIGKILL');
  timeline(`${svc.name} SIGKILL (pid ${pid}); restarting in ${e.downMs} ms`);
  await sleep(e.downMs);
  if (shuttingDown) return;
  svc.start();
  const restartedAt = Date.now();
  timeline(`${svc.name} restarted (pid ${svc.proc?.pid})`);
  if (svc.name === 'api') {
    try {
      await waitForReady(s.apiUrl, 60_000);
      timeline(`api ready again ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after restart`);
    } catch (err) {
      timeline(`api not ready after restart: ${(err as Error).message}`);
    }
  }
}

let temporalRestarting = false;
async function restartTemporalAfter(t: TemporalServer, delayMs: number, why: string): Promise<void> {
  if (temporalRestarting) return;
  temporalRestarting = true;
  try {
    await sleep(delayMs);
    if (shuttingDown) return;
    const started = Date.now();
    await t.start();
    timeline(`temporal back (pid ${t.server?.process.pid}, ${why}) after ${((Date.now() - started) / 1000).toFixed(1)} s of start-up`);
  } catch (err) {
    timeline(`temporal restart failed: ${(err as Error).message}`);
  } finally {
    temporalRestarting = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Evidence, gathered while the stack still runs: for a few guests whose messages got no reply,
// what their conversation workflow holds (state query, pending activities) and what the
// database stored; for each outbound message the Graph API accepted twice, when, and what the
// workflow history says about that send's activity attempts.

async function diagnose(a: { knex: Knex; client: Client; tenantId: string; messages: Message[]; replies: ReplyBook; sendStart: number }): Promise<string[]> {
  const out: string[] = [];
  const rel = (t: number | undefined) => (t === undefined ? '-' : `${((t - a.sendStart) / 1000).toFixed(1)}s`);
  const withDeadline = <T>(p: Promise<T>, msWait: number) =>
    Promise.race([p, sleep(msWait).then(() => Promise.reject(new Error(`no answer in ${msWait} ms`)))]);
  const contactOf = (waId: string) =>
    withTenant(a.knex, a.tenantId, async (trx) => (await trx('contacts').where({ tenantId: a.tenantId, waId }).first('id')) as { id: string } | undefined);

  const unreplied = a.messages.filter((m) => m.delivery.ackAt !== undefined && m.repliedAt === undefined);
  if (unreplied.length) {
    const guests = [...new Set(unreplied.map((m) => m.guest))];
    out.push(`${unreplied.length} acknowledged messages without a reply, from ${guests.length} guests; e.g. ${unreplied.slice(0, 8).map((m) => `msg-${m.seq} (acked ${rel(m.delivery.ackAt)})`).join(', ')}`);
    for (const guest of guests.slice(0, 5)) {
      const contact = await contactOf(guest);
      if (!contact) {
        out.push(`guest ${guest}: no contact row`);
        continue;
      }
      const workflowId = conversationWorkflowId(a.tenantId, contact.id);
      const handle = a.client.workflow.getHandle(workflowId);
      let line = `guest ${guest} (${workflowId}): missing ${unreplied.filter((m) => m.guest === guest).map((m) => `msg-${m.seq}`).join(' ')}`;
      try {
        const d = await withDeadline(handle.describe(), 5_000);
        const pending = (d.raw.pendingActivities ?? []).map(
          (p) => `${p.activityType?.name} attempt ${p.attempt} ${String(p.state)}${p.lastFailure?.message ? ` last failure "${p.lastFailure.message.slice(0, 120)}"` : ''}`,
        );
        line += `; workflow ${d.status.name}, history ${d.historyLength} events, pending activities: ${pending.join('; ') || 'none'}`;
      } catch (err) {
        line += `; describe failed: ${(err as Error).message}`;
      }
      try {
        const v = await withDeadline(handle.query(conversationStateQuery), 5_000);
        line += `; state ${v.status}, inbox ${v.pendingInbound}, held AI replies ${v.pendingAiReplies}`;
      } catch (err) {
        line += `; query failed: ${(err as Error).message.slice(0, 120)}`;
      }
      const rows = await withTenant(a.knex, a.tenantId, (trx) =>
        trx('messages').where({ tenantId: a.tenantId, contactId: contact.id }).orderBy('seq').select('direction', 'status', 'body', 'createdAt'),
      ) as { direction: string; status: string; body: string; createdAt: Date }[];
      line += `; db: ${rows.map((r) => `${r.direction === 'inbound' ? 'in' : 'out'}:${r.status}:${(r.body.match(/msg-\d+/g) ?? []).join('+') || '-'}@${rel(r.createdAt.getTime())}`).join(' ')}`;
      out.push(line);
    }
  }

  const dups = [...a.replies.callbackSends].filter(([, sends]) => sends.length > 1);
  for (const [messageId, sends] of dups.slice(0, 10)) {
    let line = `outbound message ${messageId} accepted ${sends.length}× for ${sends[0]?.to} at ${sends.map((x) => rel(x.at)).join(', ')}`;
    try {
      const contact = await contactOf(sends[0]?.to ?? '');
      if (contact) {
        const history = await withDeadline(a.client.workflow.getHandle(conversationWorkflowId(a.tenantId, contact.id)).fetchHistory(), 10_000);
        const events = history.events ?? [];
        const scheduled = events.find(
          (e) =>
            e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendWhatsAppMessage' &&
            (e.activityTaskScheduledEventAttributes.input?.payloads ?? []).some((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8').includes(messageId)),
        );
        if (scheduled) {
          const id = String(scheduled.eventId);
          const related = events.filter((e) => {
            const attrs = e.activityTaskStartedEventAttributes ?? e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
            return attrs && String(attrs.scheduledEventId) === id;
          });
          const at = (e: (typeof events)[number]) => {
            const sec = e.eventTime?.seconds;
            const seconds = typeof sec === 'number' ? sec : sec ? sec.toNumber() : 0;
            return rel(seconds * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6));
          };
          const parts = [`scheduled ${at(scheduled)}`];
          for (const e of related) {
            if (e.activityTaskStartedEventAttributes) {
              const st = e.activityTaskStartedEventAttributes;
              parts.push(`started attempt ${st.attempt}${st.lastFailure?.message ? ` after "${st.lastFailure.message.slice(0, 100)}"` : ''} ${at(e)}`);
            } else if (e.activityTaskCompletedEventAttributes) parts.push(`completed ${at(e)}`);
            else if (e.activityTaskTimedOutEventAttributes) parts.push(`timed out ${at(e)}`);
            else parts.push(`failed ${at(e)}`);
          }
          line += `; its activity in the workflow history: ${parts.join(', ')}`;
        }
      }
    } catch (err) {
      line += `; history unavailable: ${(err as Error).message.slice(0, 120)}`;
    }
    out.push(line);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results

interface ResultInput {
  o: Options;
  messages: Message[];
  load: LoadGenerator;
  replies: ReplyBook;
  sendStart: number;
  sendEnd: number;
  drainEnd: number;
  bare: { perSec: number } | null;
  aiAnswered: Map<number, number>;
  aiCalls: number;
  graph: FakeGraphApi;
}

type Result = ReturnType<typeof computeResult>;

function computeResult(r: ResultInput) {
  const { o, messages } = r;
  const offered = messages.length;
  const ackedMsgs = messages.filter((m) => m.delivery.ackAt !== undefined);
  const acked = ackedMsgs.length;
  const ack = summarize(ackedMsgs.map((m) => (m.delivery.ackAt as number) - (m.delivery.firstAttemptAt as number)));
  const firstAttemptOk = summarize(ackedMsgs.filter((m) => m.delivery.attempts === 1).map((m) => (m.delivery.ackAt as number) - (m.delivery.firstAttemptAt as number)));
  const schedulingLag = summarize(messages.filter((m) => m.delivery.firstAttemptAt !== undefined).map((m) => (m.delivery.firstAttemptAt as number) - m.delivery.scheduledAt));
  const replied = ackedMsgs.filter((m) => m.repliedAt !== undefined);
  let replyBeforeAck = 0;
  const e2e = summarize(
    replied.map((m) => {
      const d = (m.repliedAt as number) - (m.delivery.ackAt as number);
      if (d < 0) replyBeforeAck++;
      return Math.max(0, d);
    }),
  );
  const lost = acked - replied.length;
  const duplicated = o.ai === 'fake' ? messages.filter((m) => m.replies > 1).length : r.replies.duplicateSends();
  const duplicateSends = r.replies.duplicateSends();

  // sustainedPerSec (the JSON figure): messages that got their reply, over the time from the
  // first message sent to the last reply received — the rate the whole pipeline actually
  // carried, tail included. ackedPerSec is the webhook side alone (acked / sending window), and
  // repliesInWindowPerSec the replies that arrived while the load was still on, over the window.
  const lastReply = replied.reduce((t, m) => Math.max(t, m.repliedAt as number), 0);
  const sustainedPerSec = replied.length && lastReply > r.sendStart ? replied.length / ((lastReply - r.sendStart) / 1000) : 0;
  const windowSec = (r.sendEnd - r.sendStart) / 1000;
  const ackedPerSec = acked / windowSec;
  const repliedInWindowPerSec = replied.filter((m) => (m.repliedAt as number) <= r.sendEnd).length / windowSec;

  // Where the end-to-end time goes (--ai fake): ack → prompt at the model, the model, answer → send.
  let stages: { toModel: Summary; model: number; toSend: Summary } | null = null;
  if (o.ai === 'fake') {
    const toModel: number[] = [];
    const toSend: number[] = [];
    for (const m of replied) {
      const answered = r.aiAnswered.get(m.seq);
      if (answered === undefined) continue;
      toModel.push(Math.max(0, answered - o.aiLatency - (m.delivery.ackAt as number)));
      toSend.push((m.repliedAt as number) - answered);
    }
    stages = { toModel: summarize(toModel), model: o.aiLatency, toSend: summarize(toSend) };
  }

  return {
    offered,
    acked,
    unacked: offered - acked,
    ack,
    firstAttemptOk,
    schedulingLag,
    e2e,
    replyBeforeAck,
    replied: replied.length,
    lost,
    duplicated,
    duplicateSends,
    sustainedPerSec,
    ackedPerSec,
    repliedInWindowPerSec,
    windowSec,
    drainSec: (r.drainEnd - r.sendEnd) / 1000,
    lastReplyAfterWindowSec: lastReply ? (lastReply - r.sendEnd) / 1000 : Number.NaN,
    stages,
    aiCalls: r.aiCalls,
    sends: r.replies.benchSends,
    minGapMs: r.replies.minGapMs,
    pacedSends: r.replies.pacedSends(o.pacingMs ?? 6000),
    graphRequests: r.graph.requests.length,
  };
}

async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

async function messageCounts(knex: Knex, tenantId: string) {
  return withTenant(knex, tenantId, async (trx) => {
    const rows = (await trx('messages')
      .select('direction', 'status')
      .count<{ direction: string; status: string; count: string }[]>('* as count')
      .groupBy('direction', 'status')) as { direction: string; status: string; count: string }[];
    const dupInbound = (await trx.raw(
      `SELECT count(*)::int AS n FROM (SELECT substring(body from 'msg-[0-9]+') AS t FROM messages WHERE direction = 'inbound' AND body ~ 'msg-[0-9]+' GROUP BY 1 HAVING count(*) > 1) x`,
    )) as { rows: { n: number }[] };
    const inboundTokens = (await trx.raw(`SELECT count(*)::int AS n FROM messages WHERE direction = 'inbound' AND body ~ 'msg-[0-9]+'`)) as { rows: { n: number }[] };
    const conversations = (await trx('conversations').select('status').count<{ status: string; count: string }[]>('* as count').groupBy('status')) as {
      status: string;
      count: string;
    }[];
    return {
      byDirectionStatus: rows.map((r) => `${r.direction}/${r.status}=${r.count}`).join(' '),
      inboundBenchMessages: inboundTokens.rows[0]?.n ?? 0,
      inboundDuplicates: dupInbound.rows[0]?.n ?? 0,
      conversations: conversations.map((c) => `${c.status}=${c.count}`).join(' '),
    };
  });
}

function readTail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l.slice(0, 400)}`).join('\n');
}

function printReport(p: {
  o: Options;
  code: { git: string; fingerprint: string; changedDuringRun: boolean; fingerprintAtEnd: string };
  result: Result;
  load: LoadGenerator;
  bare: { perSec: number; ok: number; failed: number; seconds: number } | null;
  probes: ReturnType<Probes['result']>;
  cpu: ReturnType<CpuSampler['result']>;
  restarts: Record<string, { chaosKills: number; unexpectedExits: number; starts: number }>;
  workerMetrics: string;
  apiMetrics: string;
  dbCounts: Record<string, unknown>;
  logs: Record<string, ReturnType<typeof summarizeLog>>;
  profiles: Record<string, ReturnType<typeof summarizeProfiles>> | null;
  diagnostics: string[];
  workDir: string;
  kept: boolean;
  env: NodeJS.ProcessEnv;
}) {
  const { o, result: r } = p;
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const sum = (s: Summary) => `p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (n=${s.count})`;

  line();
  line(`=== Orquestra webhook benchmark: ${o.rate} msg/s for ${o.seconds} s, ${o.guests} guests, ${o.batch}/payload, ${o.ai === 'fake' ? `fake OpenAI (${o.aiLatency} ms)` : 'rule-based triage (no OpenAI key)'}, fake Graph API (${o.graphLatency} ms)${o.chaos ? `, CHAOS seed ${o.seed}` : ''}`);
  line(`    code ${p.code.git}, source fingerprint ${p.code.fingerprint}`);
  if (p.code.changedDuringRun) {
    line(`    WARNING: the product source changed during the run (${p.code.fingerprint} → ${p.code.fingerprintAtEnd}); a process started or restarted after the change ran different code`);
  }
  line(`    pacing per guest ${p.env.WHATSAPP_PER_CUSTOMER_INTERVAL_MS ?? '6000 (default)'} ms, number throughput ${p.env.WHATSAPP_NUMBER_MESSAGES_PER_SECOND ?? '80 (default)'} msg/s, status webhooks ${o.statusWebhooks ? 'on (sent, delivered)' : 'off'}`);
  line();
  line(`messages offered            ${r.offered}`);
  line(`messages acknowledged       ${r.acked}${r.unacked ? `   (${r.unacked} never acknowledged before the drain deadline)` : ''}`);
  line(`ack latency (first attempt start → 200)   ${sum(r.ack)}`);
  line(`  acked on the first attempt              ${sum(r.firstAttemptOk)}`);
  line(`  sender lag (due → first attempt)        p99 ${ms(r.schedulingLag.p99)}  max ${ms(r.schedulingLag.max)}  (max in flight ${p.load.maxInflightSeen})`);
  const non200 = [...p.load.non200].map(([k, v]) => `${k}×${v}`).join('  ');
  line(`non-200 answers             ${non200 || 'none'}   (retries ${p.load.retries})`);
  line(`end-to-end (ack → reply at Graph API)     ${sum(r.e2e)}${r.replyBeforeAck ? `   (${r.replyBeforeAck} replies came before their ack, counted as 0)` : ''}`);
  if (r.stages) {
    line(`  ack → prompt reaches the model          ${sum(r.stages.toModel)}`);
    line(`  model (fake latency)                    ${r.stages.model} ms`);
    line(`  model answer → reply at Graph API       ${sum(r.stages.toSend)}`);
  }
  line(`sustained                   ${r.sustainedPerSec.toFixed(1)} msg/s replied end to end (replied ÷ first send → last reply)`);
  line(`                            ${r.ackedPerSec.toFixed(1)} msg/s acknowledged over the ${r.windowSec.toFixed(1)} s window; ${r.repliedInWindowPerSec.toFixed(1)} msg/s replied within the window`);
  line(`                            last reply ${Number.isFinite(r.lastReplyAfterWindowSec) ? `${r.lastReplyAfterWindowSec.toFixed(1)} s` : 'n/a'} after the window; drain took ${r.drainSec.toFixed(1)} s`);
  const stored = typeof p.dbCounts.inboundBenchMessages === 'number' ? p.dbCounts.inboundBenchMessages : undefined;
  const notStored = stored === undefined ? '' : `; ${Math.max(0, r.acked - stored)} acknowledged messages not yet stored by their workflow`;
  line(`messages lost               ${r.lost}   (acknowledged, no reply by the drain deadline${o.ai === 'rules' ? '; per guest, approximate' : ''}${notStored})`);
  line(`replies duplicated          ${r.duplicated}   (${o.ai === 'fake' ? 'message tokens replied to more than once' : 'same as duplicate sends in rules mode'}); duplicate sends of one outbound message: ${r.duplicateSends}`);
  line(`sends to guests             ${r.sends} for ${r.replied} replied messages${o.ai === 'fake' ? `, ${r.aiCalls} model calls` : ''}; min gap between two sends to one guest ${ms(r.minGapMs)}; ${r.pacedSends} sends within pacing + 1 s of the previous one (held by pacing)`);
  if (p.bare) {
    line(`bare signal-with-start      ${p.bare.perSec.toFixed(1)}/s (${p.bare.ok} ok, ${p.bare.failed} failed, ${p.bare.seconds.toFixed(1)} s, concurrency ${o.bareConcurrency}, no worker)`);
    line(`ratio sustained / bare      ${(r.sustainedPerSec / p.bare.perSec).toFixed(3)}   (acked / bare ${(r.ackedPerSec / p.bare.perSec).toFixed(3)})`);
  }
  line(`probes during the window    Temporal signal-with-start ${sum(p.probes.temporal)}${p.probes.temporalFailed ? `, ${p.probes.temporalFailed} failed` : ''}`);
  line(`                            Postgres SELECT 1            ${sum(p.probes.postgres)}${p.probes.postgresFailed ? `, ${p.probes.postgresFailed} failed` : ''}`);
  line(`restarts                    ${Object.entries(p.restarts).map(([k, v]) => `${k}: ${v.chaosKills} chaos kill(s), ${v.unexpectedExits} unexpected exit(s)`).join('; ')}`);
  line(`database                    ${JSON.stringify(p.dbCounts)}`);

  if (p.cpu) {
    const parts = Object.entries(p.cpu.coresByComponent)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`);
    line();
    line(`CPU during the sending window (% of one core; ${p.cpu.cores} cores, host busy ${p.cpu.hostBusyPercent === null ? 'n/a' : `${p.cpu.hostBusyPercent.toFixed(0)}%`}): ${parts.join(', ')}`);
  }

  // Server-side views of the same time.
  const webhook = promHistogram(p.apiMetrics, 'orquestra_http_request_duration_seconds', { route: '/webhooks/whatsapp', method: 'POST' });
  if (webhook && webhook.count) {
    line(`API-side webhook time (last API process, bucket bounds): p50 ≤ ${histogramQuantile(webhook, 50) * 1000} ms, p99 ≤ ${histogramQuantile(webhook, 99) * 1000} ms, mean ${((1000 * webhook.sum) / webhook.count).toFixed(1)} ms (n=${webhook.count})`);
  }
  const wm = p.workerMetrics;
  if (wm) {
    line('Worker (last worker process, Prometheus buckets, ms):');
    const show = (label: string, name: string, match: Record<string, string> = {}) => {
      const h = promHistogram(wm, name, match);
      if (!h || !h.count) return;
      line(`  ${label.padEnd(52)} p50 ≤ ${histogramQuantile(h, 50)}  p99 ≤ ${histogramQuantile(h, 99)}  mean ${(h.sum / h.count).toFixed(1)}  (n=${h.count})`);
    };
    show('workflow task schedule-to-start', 'temporal_workflow_task_schedule_to_start_latency');
    show('workflow task execution', 'temporal_workflow_task_execution_latency');
    show('workflow task replay', 'temporal_workflow_task_replay_latency');
    show('activity schedule-to-start', 'temporal_activity_schedule_to_start_latency');
    for (const type of labelValues(wm, 'temporal_activity_execution_latency', 'activity_type')) {
      show(`activity ${type} execution`, 'temporal_activity_execution_latency', { activity_type: type });
    }
    for (const svc of labelValues(wm, 'temporal_request_latency', 'operation').filter((op) => /Respond|Poll/.test(op))) {
      show(`server call ${svc}`, 'temporal_request_latency', { operation: svc });
    }
  }

  for (const [name, groups] of Object.entries(p.logs)) {
    const interesting = groups.filter((g) => g.level !== 'info' && g.level !== 'debug' && g.level !== 'trace');
    if (!interesting.length) continue;
    line(`${name} log (${interesting.reduce((n, g) => n + g.count, 0)} warn/error/raw lines):`);
    for (const g of interesting.slice(0, 8)) line(`  ${String(g.count).padStart(6)} × ${g.level} ${g.msg.slice(0, 120)}${g.example && g.example !== '{}' ? `  e.g. ${g.example.slice(0, 220)}` : ''}`);
  }
  for (const [name, threads] of Object.entries(p.profiles ?? {})) {
    if (!threads) {
      line(`${name} CPU profile: none written (the process did not exit cleanly)`);
      continue;
    }
    line(`${name} CPU profiles (thread pid.tid, 0 = main; busy = not idle):`);
    for (const t of threads.filter((x) => x.busyMs >= 500).slice(0, 4)) {
      line(`  thread ${t.thread}: busy ${(t.busyMs / 1000).toFixed(1)} s of ${(t.wallMs / 1000).toFixed(1)} s (${((100 * t.busyMs) / Math.max(1, t.wallMs)).toFixed(0)}%); by package: ${t.byPackage.slice(0, 8).map((x) => `${x.name} ${x.percent.toFixed(0)}%`).join(', ')}`);
      for (const f of t.byFunction.slice(0, 8)) line(`    ${f.percent.toFixed(1).padStart(5)}%  ${f.name}`);
    }
  }
  if (p.diagnostics.length) {
    line('Evidence (unreplied messages and duplicate sends; times relative to the start of the sending window):');
    for (const d of p.diagnostics) line(`  ${d}`);
  }
  if (timelineEntries.length) {
    line('Timeline:');
    for (const e of timelineEntries) line(`  ${e}`);
  }
  if (p.kept) line(`logs and Temporal's SQLite file kept in ${p.workDir}`);
  line();
  console.log(out.join('\n'));
}

main().catch(async (err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`[bench] failed: ${(err as Error).stack ?? String(err)}`);
  for (const s of [running.api, running.worker]) {
    if (s) {
      const tail = readTail(s.logFile, 15);
      if (tail) console.error(`[bench] ${s.name} log tail:\n${tail}`);
    }
  }
  running.keepWorkDir = true;
  await cleanup().catch(() => {});
  console.error(`[bench] work directory kept: ${running.workDir}`);
  process.exit(1);
});
