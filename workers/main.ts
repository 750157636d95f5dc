import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import { createKnex } from '../db/connection';
import { resolveDatabaseSettings } from '../db/database-settings';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { PostgresDataKeys } from '../db/payload-data-keys';
import { TenantPayloadCodec } from '../infra/payload-codec';
import { createRedis } from '../infra/redis';
import { SecretBox } from '../infra/secret-box';
import { createTemporalClient, registerSearchAttributes, temporalConnectionOptions } from '../infra/temporal';
import { activityDepsFromConfig } from './activity-deps';
import { createOrquestraWorker, createTenantEndpointWorker, tenantEndpointLimitFromConfig } from './worker';
import { tenantEndpointsQueue } from '../workflows/workflow-start';

// The worker process for the `orquestra` task queue: runs every workflow and activity; and, in
// slots of its own, the calls to endpoints tenants chose (`orquestra-tenant-endpoints`).
async function main() {
  const config = loadConfig();
  const log = createLogger('worker', config.LOG_LEVEL);
  // The SDK's own log lines go through the same JSON logger as ours.
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
  };
  Runtime.install({
    // Our own handlers (below): the Runtime's would only ask the worker to shut down, with no
    // bound on how long that takes.
    shutdownSignals: [],
    logger: new DefaultLogger('INFO', (e) => log[levels[e.level]]({ sdk: e.meta ?? {} }, e.message)),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      // No authentication on Core's exporter: it listens on the operator's network only.
      metrics: { prometheus: { bindAddress: hostPort(config.WORKER_METRICS_HOST, config.WORKER_METRICS_PORT) } },
    },
  });

  const connection = await connectWithRetry(() => NativeConnection.connect(temporalConnectionOptions(config)), log);
  await registerSearchAttributes(connection, config.TEMPORAL_NAMESPACE, log, { attempts: 5 });
  const knex = createKnex(resolveDatabaseSettings().appUrl, config.DATABASE_POOL_MAX, log);
  const redis = createRedis(config.REDIS_URL, log, { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS });
  // The same codec for the worker's tasks and for the client its activities start workflows with.
  const payloadCodec = new TenantPayloadCodec(new PostgresDataKeys(knex, new SecretBox(config.ENCRYPTION_KEY)));
  const temporal = createTemporalClient(config, payloadCodec);
  // Shutting down, the SDK stops polling and waits for what the worker holds. A local activity
  // waiting to retry (a conversation's database step while Postgres is away, backing off up to a
  // minute) is held too, and the SDK keeps retrying it during shutdown: with the default grace of
  // 0 nothing is ever cancelled and the worker waits for it indefinitely. So: activities get
  // the grace time minus a little, then are cancelled; at the grace time the worker gives up.
  // Nothing is lost by giving up: the workflow task times out on the server and another worker
  // replays it, re-running the local activity from its last recorded attempt.
  const graceMs = config.WORKER_SHUTDOWN_GRACE_MS;
  const deps = activityDepsFromConfig(config, { knex, redis, log, client: temporal.client });
  // One limit for both workers: without Redis, its slots are counted in this process.
  const tenantEndpointLimit = tenantEndpointLimitFromConfig(config, deps);
  const shutdownTimes = { shutdownGraceTime: Math.max(0, graceMs - 2_000), shutdownForceTime: Math.max(500, graceMs - 1_000) };
  const common = { connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, deps, payloadCodec, ...shutdownTimes };
  const workers = [
    await createOrquestraWorker({ ...common, maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES, tenantEndpointLimit }),
    await createTenantEndpointWorker({ ...common, slots: config.TENANT_ENDPOINT_WORKER_SLOTS, limit: tenantEndpointLimit }),
  ];
  const shutdownAll = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  stopOnSignals(log, graceMs, shutdownAll);
  log.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      tenantEndpointsQueue: tenantEndpointsQueue(config.TEMPORAL_TASK_QUEUE),
      metrics: hostPort(config.WORKER_METRICS_HOST, config.WORKER_METRICS_PORT),
      shutdownGraceMs: graceMs,
    },
    'worker started',
  );
  let clean = true;
  try {
    // One worker failing drains the other: the process is restarted whole.
    const ran = await Promise.allSettled(
      workers.map((w) =>
        w.run().catch((err: unknown) => {
          shutdownAll();
          throw err;
        }),
      ),
    );
    const failed = ran.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    // GracefulShutdownPeriodExpiredError: the SDK's resources are in an unknown state, so no
    // orderly close below; the process exits.
    log.warn({ err: (err as Error).message }, 'worker did not drain within its shutdown grace time; exiting');
    clean = false;
  }
  if (clean) {
    await connection.close();
    await temporal.connection.close().catch(() => {});
  }
  redis?.disconnect();
  await knex.destroy();
  log.info('worker stopped');
  process.exit(clean ? 0 : 1);
}

// The first SIGTERM/SIGINT starts the drain; a second one more than a second later, or the grace
// time running out with something still hanging (a close that never returns), ends the process at
// once. Within that second it is the same request twice: under `npm run worker` a Ctrl-C reaches
// both npm and the worker, and npm forwards its copy.
function stopOnSignals(log: ReturnType<typeof createLogger>, graceMs: number, shutdown: () => void) {
  let stoppingSince = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      if (Date.now() - stoppingSince < 1_000) return;
      log.warn({ signal }, 'second stop signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal, graceMs }, 'worker stopping');
    setTimeout(() => {
      log.warn({ graceMs }, 'worker still running at the end of its shutdown grace time; exiting');
      process.exit(1);
    }, graceMs).unref();
    try {
      shutdown();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'worker shutdown refused');
      process.exit(1);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

async function connectWithRetry<T>(connect: () => Promise<T>, log: ReturnType<typeof createLogger>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      const delay = Math.min(10_000, 500 * 2 ** attempt);
      log.warn({ attempt, delay, err: (err as Error).message }, 'Temporal not reachable yet, retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
