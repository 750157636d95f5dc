import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { buildApp, buildMetricsApp } from '../../api/app';
import { closeApiDeps, createApiDeps } from '../../api/create-deps';
import type { ApiDeps } from '../../api/deps';
import { attachApiRealtime } from '../../api/realtime/attach-api-realtime';
import type { Realtime } from '../../api/realtime/socket-server';
import { loadConfig, type Config } from '../../infra/config';
import { createLogger } from '../../infra/logger';
import { activityDepsFromConfig } from '../../workers/activity-deps';
import { createOrquestraWorker, createTenantEndpointWorker, tenantEndpointLimitFromConfig } from '../../workers/worker';
import { FakeAsaas } from '../../scripts/sandbox/asaas';
import { FakeGraphApi } from '../../scripts/sandbox/graph-api';
import { FakeOpenAi } from '../fakes/openai';
import { ApiClient } from './http';

export const TEST_APP_SECRET = 'test-meta-app-secret-0123456789';
export const TEST_VERIFY_TOKEN = 'test-verify-token-0123456789';

export interface TestStack {
  config: Config;
  // The environment the API and worker were configured from (a child worker process reuses it).
  env: Record<string, string | undefined>;
  deps: ApiDeps;
  api: ApiClient;
  baseUrl: string;
  // The internal metrics port (METRICS_HOST:METRICS_PORT in production), here on a free port.
  metrics: ApiClient;
  graph: FakeGraphApi;
  // The payment gateway (Asaas) on loopback: ASAAS_BASE_URL points at it.
  asaas: FakeAsaas;
  openai?: FakeOpenAi;
  worker?: Worker;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

// The real API (listening on a free port, with its Socket.io server), a real worker on a task
// queue of its own, against the Temporal dev server, Postgres and Redis that `npm test` prepared.
// Only Meta and OpenAI are fakes, as real HTTP servers on loopback.
export async function startStack(
  opts: {
    worker?: boolean;
    ai?: boolean;
    statusWebhooks?: boolean;
    env?: Record<string, string>;
    logs?: { write(line: string): void };
    // Activities the worker runs in place of the real ones (see createOrquestraWorker).
    activityOverrides?: Partial<Activities>;
  } = {},
): Promise<TestStack> {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.JWT_SECRET) {
    throw new Error('Run the tests through `npm test` (it starts Temporal and prepares the test database).');
  }
  const graph = new FakeGraphApi();
  const graphUrl = await graph.start();
  const asaas = new FakeAsaas({ retryDelayMs: 50 });
  const asaasUrl = await asaas.start();
  const openai = opts.ai ? new FakeOpenAi() : undefined;
  const openaiUrl = openai ? await openai.start() : undefined;
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    REDIS_KEY_PREFIX: `test-${randomUUID().slice(0, 8)}:`,
    WHATSAPP_API_BASE_URL: graphUrl,
    ASAAS_BASE_URL: asaasUrl,
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    WORKER_METRICS_URLS: '',
    MEDIA_DIR: join(tmpdir(), `orquestra-media-${randomUUID()}`),
    SIGNING_CERT_DIR: join(tmpdir(), 'orquestra-signing-test'),
    // The suites' automation receivers listen on loopback, which a real deployment refuses for
    // tenant URLs; n8n.example.com is a placeholder they save that resolves nowhere. The SSRF
    // tests start their stack without this (test/security/ssrf.test.ts).
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1,n8n.example.com',
    ...(openai ? { OPENAI_API_KEY: [...openai.apiKeys][0], OPENAI_BASE_URL: openaiUrl, OPENAI_TIMEOUT_MS: '3000' } : { OPENAI_API_KEY: '' }),
    ...opts.env,
  };
  const config = loadConfig(env);
  const log = opts.logs ? createLogger('test', 'info', opts.logs) : createLogger('test', config.LOG_LEVEL);
  const deps = createApiDeps(config, log, env);
  const server: Server = createServer(buildApp(deps).callback());
  const realtime: Realtime = await attachApiRealtime(server, deps);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = new ApiClient(baseUrl);
  const metricsServer: Server = createServer(buildMetricsApp(deps).callback());
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  const metrics = new ApiClient(`http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`);
  if (opts.statusWebhooks) graph.sendStatusWebhooks({ url: `${baseUrl}/webhooks/whatsapp`, appSecret: config.WHATSAPP_APP_SECRET as string });

  installQuietRuntime();
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  // The tenant-endpoint queue's worker, as workers/main.ts runs it beside the main one.
  let endpointWorker: Worker | undefined;
  let endpointRunning: Promise<void> | undefined;
  let connection: NativeConnection | undefined;
  const startWorker = async () => {
    connection ??= await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const activityDeps = activityDepsFromConfig(config, { knex: deps.knex, redis: deps.redis, log, client: deps.temporal.client });
    const workerDeps = { ...activityDeps, whatsapp: { ...activityDeps.whatsapp, timeoutMs: 3_000 }, gateway: { ...activityDeps.gateway, timeoutMs: 3_000 } };
    const tenantEndpointLimit = tenantEndpointLimitFromConfig(config, workerDeps);
    worker = await createOrquestraWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps: workerDeps,
      payloadCodec: deps.payloadCodec,
      activityOverrides: opts.activityOverrides,
      maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
      tenantEndpointLimit,
      // A test that failed midway leaves runs whose activities wait on workflows this very worker
      // no longer polls: without these, stopping it waited for them forever and hung the suite.
      shutdownGraceTime: 5_000,
      shutdownForceTime: 15_000,
    });
    endpointWorker = await createTenantEndpointWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps: workerDeps,
      payloadCodec: deps.payloadCodec,
      slots: config.TENANT_ENDPOINT_WORKER_SLOTS,
      limit: tenantEndpointLimit,
      shutdownGraceTime: 5_000,
      shutdownForceTime: 15_000,
    });
    running = worker.run();
    endpointRunning = endpointWorker.run();
  };
  const stopWorker = async () => {
    for (const w of [worker, endpointWorker]) if (w && w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(
      [running, endpointRunning].map((r) =>
        r?.catch((err: unknown) => {
          if ((err as Error).name !== 'GracefulShutdownPeriodExpiredError') throw err;
          console.error(`the test worker was stopped by force: ${(err as Error).message}`);
        }),
      ),
    );
  };
  if (opts.worker !== false) await startWorker();

  return {
    config,
    env,
    deps,
    api,
    baseUrl,
    metrics,
    graph,
    asaas,
    openai,
    get worker() {
      return worker;
    },
    startWorker,
    stopWorker,
    async stop() {
      await stopWorker();
      await connection?.close();
      await realtime.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      metricsServer.closeAllConnections();
      await new Promise((r) => metricsServer.close(r));
      await closeApiDeps(deps);
      await graph.stop();
      await asaas.stop();
      await openai?.stop();
    },
  };
}

// Activity retries are expected in these tests; only errors are worth printing.
let runtimeInstalled = false;
function installQuietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by the test file itself (e.g. with a metrics exporter)
  }
}
