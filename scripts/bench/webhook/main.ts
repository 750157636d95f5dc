import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bootstrapDatabase } from '../../../db/bootstrap';
import { createKnex } from '../../../db/connection';
import { resolveDatabaseSettings } from '../../../db/database-settings';
import { migrateToLatest } from '../../../db/migrate';
import { PostgresDataKeys } from '../../../db/payload-data-keys';
import { withTenant } from '../../../db/tenant-scope';
import { loadConfig, type Config } from '../../../infra/config';
import { redisReachable } from '../../../infra/redis';
import { TenantPayloadCodec } from '../../../infra/payload-codec';
import { SecretBox } from '../../../infra/secret-box';
import { ensureSearchAttributes, orquestraDataConverter, temporalConnectionOptions } from '../../../infra/temporal';
import { FakeOpenAi, lastUserText } from '../../../test/fakes/openai';
import { findOrBuildTemporalCli, freePort } from '../../lib/temporal-cli';
import { FakeGraphApi } from '../../sandbox/graph-api';
import { bareSignalWithStart, Probes } from './baseline';
import { barePipeline } from './bare-pipeline';
import { preparePostgresTemporal, TEMPORAL_SERVER_VERSION } from './temporal-postgres';
import { planChaos, restartTemporalAfter, runChaos, startTimeline, timeline } from './chaos';
import { CpuSampler, cpuMsPerMessage } from './cpu';
import { diagnose, fetchText, messageCounts } from './evidence';
import { LoadGenerator, TOKEN, type Message } from './load';
import { parseOptions, USAGE, UsageError } from './options';
import { note, readTail, ROOT, Service, sqliteWrapper, supervisor, TemporalServer, waitForReady } from './processes';
import { ReplyBook } from './replies';
import { computeResult, printReport, summaryJson } from './report';
import { dropRedisKeys, gitState, isolatedEnv, provisionTenant, sourceFingerprint, warmUp } from './setup';
import { seededRandom, sleep } from './stats';
import { summarizeLog, summarizeProfiles } from './telemetry';

// `npm run bench:webhook -- --rate R --seconds S [--chaos] [--guests N] [...]`
//
// Drives signed WhatsApp webhooks (Meta's envelope, many guests at once) at a fixed rate through
// the real stack — API and worker as child processes, a Temporal dev server of its own, Postgres,
// Redis — with Meta's Graph API and OpenAI faked in this process, and reports what it reached:
// acknowledgement latency (Meta's view of the webhook), end-to-end latency (acknowledged → reply
// received by the fake Graph API), sustained throughput, messages lost and replies duplicated.
// In the same run it measures two ceilings on the same Temporal server: plain signal-with-start
// calls per second, and a bare Temporal pipeline doing a message's round trips with nothing else
// (bare-pipeline.ts), so the webhook figure can be read as a fraction of them. It also prints what
// a message cost each process in CPU-ms, from the first message sent to the last reply. With --chaos
// the worker and the API are SIGKILLed at random moments (and the Temporal server once) and
// restarted while the load goes on. The last line printed is one JSON object.

// What the run leaves behind: its work directory (logs, Temporal's SQLite file) is removed
// unless --keep, or something went wrong. Everything else is the supervisor's to stop.
const run: { workDir?: string; keepWorkDir: boolean; api?: Service; worker?: Service } = { keepWorkDir: false };
const timers = new Set<NodeJS.Timeout>();

async function cleanup(): Promise<void> {
  await supervisor.stopAll();
  if (run.workDir && !run.keepWorkDir) rmSync(run.workDir, { recursive: true, force: true });
}

// SIGINT, SIGTERM, SIGHUP or the parent going away; a second Ctrl-C kills what is left at once.
supervisor.handleStopRequests((reason) => {
  note(`${reason}: stopping everything...`);
  void cleanup().finally(() => process.exit(130));
});

async function main() {
  const o = parseOptions();
  const runId = randomBytes(4).toString('hex');
  const code = { git: gitState(), fingerprint: sourceFingerprint() };
  const workDir = mkdtempSync(join(tmpdir(), 'orquestra-bench-'));
  run.workDir = workDir;
  run.keepWorkDir = o.keep;
  note(`work directory ${workDir}; code ${code.git}, source fingerprint ${code.fingerprint}`);

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const env = isolatedEnv(o, runId, workDir, redisUrl);
  if (!(await redisReachable(redisUrl))) throw new Error(`Redis is not reachable at ${redisUrl}`);
  const redisPrefix = env.REDIS_KEY_PREFIX as string;
  supervisor.add('redis keys', () => dropRedisKeys(redisUrl, redisPrefix).catch(() => {}));

  // --- Postgres: a fresh orquestra_bench database ---
  const db = resolveDatabaseSettings(env);
  await bootstrapDatabase(db, { recreate: true });
  await migrateToLatest(db);
  const knex = createKnex(db.appUrl, 2);
  supervisor.add('knex', () => knex.destroy());
  note(`database ${db.database} recreated and migrated`);

  // --- Temporal: the dev server on free ports with its state in a SQLite file (so a restart keeps
  // it), or the full server on this machine's Postgres ---
  const onTemporalExit = (how: string) => {
    timeline(`temporal exited unexpectedly (${how})`);
    void restartTemporalAfter(temporal, 1_000, 'unexpected exit');
  };
  let temporalDatabases: string[] = [];
  let temporal: TemporalServer;
  if (o.temporal === 'postgres') {
    const url = new URL(db.ownerUrl);
    const pg = await preparePostgresTemporal({
      workDir,
      databasePrefix: db.database,
      pgHost: url.hostname,
      pgPort: Number(url.port || 5432),
      // The server's SQL tool creates its databases: the cluster's superuser (trust auth on this
      // machine, as for the bench's own database), recreated by every run like orquestra_bench.
      pgUser: process.env.BENCH_TEMPORAL_PG_USER ?? 'postgres',
      pgPassword: process.env.BENCH_TEMPORAL_PG_PASSWORD ?? '',
      namespace: env.TEMPORAL_NAMESPACE as string,
      say: note,
    });
    temporalDatabases = pg.databases;
    temporal = new TemporalServer(pg.launch, pg.address, onTemporalExit);
    await temporal.start();
    note(`Temporal server ${TEMPORAL_SERVER_VERSION} at ${temporal.address} on Postgres (${pg.databases.join(', ')})`);
  } else {
    const binary = sqliteWrapper(findOrBuildTemporalCli(note), o.sqlitePragmas, workDir);
    temporal = TemporalServer.devServer({ binary, port: await freePort(), uiPort: await freePort(), dbFile: join(workDir, 'temporal.db'), headless: true, detached: true }, onTemporalExit);
    await temporal.start();
    note(`Temporal dev server at ${temporal.address} (db ${join(workDir, 'temporal.db')}, pragmas ${o.sqlitePragmas.join(' ') || 'CLI defaults'})`);
  }
  env.TEMPORAL_ADDRESS = temporal.address;

  // --- Fakes, in this process ---
  const graph = new FakeGraphApi();
  await graph.start();
  supervisor.add('fake Graph API', () => graph.stop());
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
  await openai.start();
  supervisor.add('fake OpenAI', () => openai.stop());
  openai.setLatency(o.aiLatency);

  const apiPort = await freePort();
  const metricsPort = await freePort();
  const apiMetricsPort = await freePort();
  Object.assign(env, {
    PORT: String(apiPort),
    METRICS_PORT: String(apiMetricsPort),
    WORKER_METRICS_PORT: String(metricsPort),
    WORKER_METRICS_URLS: `http://127.0.0.1:${metricsPort}/metrics`,
    WHATSAPP_API_BASE_URL: graph.url,
    OPENAI_API_KEY: o.ai === 'fake' ? openaiKey : '',
    ...(o.ai === 'fake' ? { OPENAI_BASE_URL: openai.url } : {}),
  });
  const config: Config = loadConfig(env);
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const connection = await Connection.connect(temporalConnectionOptions(config));
  supervisor.add('Temporal connection', () => connection.close());
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  // The same codec as the API and the worker: what the bench reads back is sealed.
  const payloadCodec = new TenantPayloadCodec(new PostgresDataKeys(knex, new SecretBox(config.ENCRYPTION_KEY)));
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: orquestraDataConverter(payloadCodec) });

  // --- API and worker, as `npm start` runs them ---
  const onUnexpected = (s: Service, how: string) => {
    const tail = readTail(s.logFile, 6);
    timeline(`${s.name} exited unexpectedly (${how})${tail ? `; last log lines:\n${tail}` : ''}`);
    if (s.unexpectedExits <= 5) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!supervisor.stopping && !s.running) {
          s.start();
          timeline(`${s.name} restarted after unexpected exit (pid ${s.proc?.pid})`);
        }
      }, 1_000);
      timers.add(t);
    }
  };
  const profArgs = (name: string) => (o.profile ? ['--cpu-prof', '--cpu-prof-dir', join(workDir, `prof-${name}`)] : []);
  // Stopped in reverse: the API first (no new work), then the worker (it drains within its grace time).
  const worker = new Service('worker', 'workers/main.ts', env, join(workDir, 'worker.log'), onUnexpected, config.WORKER_SHUTDOWN_GRACE_MS + 5_000, profArgs('worker'));
  const api = new Service('api', 'api/server.ts', env, join(workDir, 'api.log'), onUnexpected, 10_000, profArgs('api'));
  run.worker = worker;
  run.api = api;
  // No restart timer fires once stopping has begun.
  supervisor.add('timers', () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
  });
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
  const pipeline = o.bareSeconds > 0
    ? await barePipeline(client, { address: temporal.address, namespace: config.TEMPORAL_NAMESPACE, seconds: o.bareSeconds, concurrency: o.bareConcurrency, runId })
    : null;
  if (pipeline) note(`bare Temporal pipeline: ${pipeline.perSec.toFixed(0)} msg/s (${pipeline.replied} replied, ${pipeline.timedOut} timed out, ${pipeline.failed} failed in ${pipeline.seconds.toFixed(1)} s, ${o.bareConcurrency} guests)`);

  // --- Load ---
  const processes = () => ({ bench: [process.pid], api: api.pids, worker: worker.pids, temporal: temporal.pids });
  const postgresDatabases = [db.database, ...temporalDatabases];
  const cpu = new CpuSampler(processes, postgresDatabases);
  const load = new LoadGenerator(o, `${apiUrl}/webhooks/whatsapp`, env.WHATSAPP_APP_SECRET as string, number, messages);
  const chaosEvents = o.chaos ? planChaos(seededRandom(o.seed), o.seconds * 1000) : [];
  if (o.chaos) note(`chaos plan (seed ${o.seed}): ${chaosEvents.map((e) => `${e.target}@${(e.at / 1000).toFixed(1)}s/${e.downMs}ms`).join(', ')}`);

  note(`sending ${o.rate} msg/s for ${o.seconds} s from ${o.guests} guests (${o.batch} per payload)...`);
  const probes = new Probes(client, knex, `bench-bare-${runId}`, runId);
  // The same processes from the first message to the last reply: the cost of a message.
  const cpuWhole = new CpuSampler(processes, postgresDatabases);
  cpu.start();
  cpuWhole.start();
  probes.start();
  const sendStart = Date.now();
  startTimeline(sendStart);
  const drainDeadline = sendStart + o.seconds * 1000 + o.drainSeconds * 1000;
  const chaosRuns: Promise<void>[] = [];
  for (const e of chaosEvents) {
    const t = setTimeout(() => {
      timers.delete(t);
      chaosRuns.push(runChaos(e, { api, worker, temporal, apiUrl }));
    }, e.at);
    timers.add(t);
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
  cpuWhole.stop();

  // --- Collect what the processes know before stopping them ---
  const fingerprintAtEnd = sourceFingerprint();
  const codeInfo = { ...code, changedDuringRun: fingerprintAtEnd !== code.fingerprint, fingerprintAtEnd };
  const workerMetrics = await fetchText(`http://127.0.0.1:${metricsPort}/metrics`);
  const apiMetrics = await fetchText(`http://127.0.0.1:${apiMetricsPort}/metrics`);
  const dbCounts = await messageCounts(knex, tenantId).catch((err: unknown) => ({ error: (err as Error).message }));
  const result = computeResult({ o, messages, load, replies, sendStart, sendEnd, drainEnd, bare, aiAnswered, aiCalls, graph });
  const cpuPerMessage = cpuMsPerMessage(cpuWhole.result(), result.replied);
  const diagnostics = await diagnose({ knex, client, tenantId, messages, replies, sendStart }).catch((err: unknown) => [`diagnostics failed: ${(err as Error).message}`]);
  const anomalies = result.lost > 0 || result.duplicated > 0 || result.duplicateSends > 0 || api.unexpectedExits + worker.unexpectedExits + temporal.unexpectedExits > 0;
  const logs = { api: summarizeLog(api.logFile), worker: summarizeLog(worker.logFile) };
  if (anomalies) run.keepWorkDir = true;
  const restarts = {
    api: { chaosKills: api.chaosKills, unexpectedExits: api.unexpectedExits, starts: api.starts },
    worker: { chaosKills: worker.chaosKills, unexpectedExits: worker.unexpectedExits, starts: worker.starts },
    temporal: { chaosKills: temporal.chaosKills, unexpectedExits: temporal.unexpectedExits, starts: temporal.starts },
  };

  note('stopping the stack...');
  run.keepWorkDir = true; // until the profiles are read
  await cleanup();
  const profiles = o.profile ? { api: summarizeProfiles(join(workDir, 'prof-api'), ROOT), worker: summarizeProfiles(join(workDir, 'prof-worker'), ROOT) } : null;
  run.keepWorkDir = o.keep || anomalies;
  if (!run.keepWorkDir) rmSync(workDir, { recursive: true, force: true });

  printReport({ o, code: codeInfo, result, load, bare, pipeline, probes: probes.result(), cpu: cpu.result(), cpuPerMessage, restarts, workerMetrics, apiMetrics, dbCounts, logs, profiles, diagnostics, workDir, kept: run.keepWorkDir, env });
  console.log(JSON.stringify(summaryJson({ o, result, load, bare, pipeline, restarts, code: codeInfo, cpuPerMessage })));
  process.exit(0);
}

main().catch(async (err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`[bench] failed: ${(err as Error).stack ?? String(err)}`);
  for (const s of [run.api, run.worker]) {
    if (s) {
      const tail = readTail(s.logFile, 15);
      if (tail) console.error(`[bench] ${s.name} log tail:\n${tail}`);
    }
  }
  run.keepWorkDir = true;
  await cleanup().catch(() => {});
  console.error(`[bench] work directory kept: ${run.workDir}`);
  process.exit(1);
});

