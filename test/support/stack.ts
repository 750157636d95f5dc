import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { buildApp } from '../../api/app';
import { closeApiDeps, createApiDeps } from '../../api/create-deps';
import type { ApiDeps } from '../../api/deps';
import { loadConfig, type Config } from '../../infra/config';
import { createLogger } from '../../infra/logger';
import { createOrquestraWorker } from '../../workers/worker';
import { FakeGraphApi } from '../fakes/graph-api';
import { ApiClient } from './http';

export interface TestStack {
  config: Config;
  deps: ApiDeps;
  api: ApiClient;
  graph: FakeGraphApi;
  worker?: Worker;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

// The real API (listening on a free port), a real worker on a task queue of its own, against the
// Temporal dev server, Postgres and Redis that `npm test` prepared. Only Meta is a fake.
export async function startStack(
  opts: { worker?: boolean; env?: Record<string, string>; logs?: { write(line: string): void } } = {},
): Promise<TestStack> {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.JWT_SECRET) {
    throw new Error('Run the tests through `npm test` (it starts Temporal and prepares the test database).');
  }
  const graph = new FakeGraphApi();
  const graphUrl = await graph.start();
  const env = {
    ...process.env,
    PORT: '0',
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    WHATSAPP_API_BASE_URL: graphUrl,
    WORKER_METRICS_URLS: '',
    ...opts.env,
  };
  const config = loadConfig(env);
  const log = opts.logs ? createLogger('test', 'info', opts.logs) : createLogger('test', config.LOG_LEVEL);
  const deps = createApiDeps(config, log, env);
  const server: Server = await new Promise((resolve) => {
    const s = buildApp(deps).listen(0, '127.0.0.1', () => resolve(s));
  });
  const api = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  installQuietRuntime();
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let connection: NativeConnection | undefined;
  const startWorker = async () => {
    connection ??= await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    worker = await createOrquestraWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps: {
        knex: deps.knex,
        secrets: deps.secrets,
        whatsapp: { baseUrl: graphUrl, apiVersion: config.WHATSAPP_API_VERSION, timeoutMs: 3_000 },
      },
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
  if (opts.worker !== false) await startWorker();

  return {
    config,
    deps,
    api,
    graph,
    get worker() {
      return worker;
    },
    startWorker,
    stopWorker,
    async stop() {
      await stopWorker();
      await connection?.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closeApiDeps(deps);
      await graph.stop();
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
