import { createKnex } from '../db/connection';
import { resolveDatabaseSettings } from '../db/database-settings';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';
import { RateLimits } from '../infra/rate-limits';
import { createRealtimeEmitter, realtimeStreamName } from '../infra/realtime-emitter';
import { createRedis } from '../infra/redis';
import { SecretBox } from '../infra/secret-box';
import { SessionRevocations } from '../infra/session-revocations';
import { TenantPayloadCodec } from '../infra/payload-codec';
import { createTemporalClient } from '../infra/temporal';
import { PostgresDataKeys } from '../db/payload-data-keys';
import { Sessions } from './auth/sessions';
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokens } from './auth/tokens';
import type { ApiDeps } from './deps';
import { createHttpMetrics } from './metrics';

export function createApiDeps(config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const knex = createKnex(resolveDatabaseSettings(env).appUrl, config.DATABASE_POOL_MAX, log);
  const redis = createRedis(config.REDIS_URL, log, { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS });
  const secrets = new SecretBox(config.ENCRYPTION_KEY);
  const payloadCodec = new TenantPayloadCodec(new PostgresDataKeys(knex, secrets));
  const { client, connection } = createTemporalClient(config, payloadCodec);
  const accessTokens = new AccessTokens(config.JWT_SECRET);
  const revocations = new SessionRevocations(redis, config.REDIS_KEY_PREFIX, ACCESS_TOKEN_TTL_SECONDS);
  return {
    config,
    log,
    knex,
    redis,
    temporal: { client, connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE },
    rateLimits: new RateLimits(redis, config.REDIS_KEY_PREFIX),
    revocations,
    accessTokens,
    sessions: new Sessions(knex, accessTokens, revocations),
    secrets,
    payloadCodec,
    metrics: createHttpMetrics(),
    realtime: createRealtimeEmitter(redis, { streamName: realtimeStreamName(config.REDIS_KEY_PREFIX), log }),
  };
}

export async function closeApiDeps(deps: ApiDeps): Promise<void> {
  await deps.temporal.connection.close().catch(() => {});
  deps.redis?.disconnect();
  await deps.knex.destroy();
}
