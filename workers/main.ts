import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import { createKnex } from '../db/connection';
import { resolveDatabaseSettings } from '../db/database-settings';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { createRedis } from '../infra/redis';
import { createTemporalClient, registerSearchAttributes, temporalConnectionOptions } from '../infra/temporal';
import { activityDepsFromConfig } from './activity-deps';
import { createOrquestraWorker } from './worker';

// The worker process for the `orquestra` task queue: runs every workflow and activity.
async function main() {
  const config = loadConfig();
  const log = createLogger('worker', config.LOG_LEVEL);
  // The SDK's own log lines go through the same JSON logger as ours.
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (e) => log[levels[e.level]]({ sdk: e.meta ?? {} }, e.message)),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      metrics: { prometheus: { bindAddress: `0.0.0.0:${config.WORKER_METRICS_PORT}` } },
    },
  });

  const connection = await connectWithRetry(() => NativeConnection.connect(temporalConnectionOptions(config)), log);
  await registerSearchAttributes(connection, config.TEMPORAL_NAMESPACE, log, { attempts: 5 });
  const knex = createKnex(resolveDatabaseSettings().appUrl, config.DATABASE_POOL_MAX, log);
  const redis = createRedis(config.REDIS_URL, log);
  const temporal = createTemporalClient(config);
  const worker = await createOrquestraWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: activityDepsFromConfig(config, { knex, redis, log, client: temporal.client }),
  });
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metricsPort: config.WORKER_METRICS_PORT }, 'worker started');
  // Runtime shuts the worker down on SIGINT/SIGTERM; in-flight activities get their grace period.
  await worker.run();
  await connection.close();
  await temporal.connection.close().catch(() => {});
  redis?.disconnect();
  await knex.destroy();
  log.info('worker stopped');
}

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
