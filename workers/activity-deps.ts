import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { ActivityDeps } from '../activities';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';
import { createRealtimeEmitter, realtimeStreamName } from '../infra/realtime-emitter';
import { createOutboundGuard, outboundPolicyFromConfig } from '../infra/guarded-fetch';
import { splitList } from '../infra/outbound-guard';
import { SecretBox } from '../infra/secret-box';

// The outside world as the worker's activities see it, from the same configuration the API reads.
export function activityDepsFromConfig(
  config: Config,
  parts: { knex: Knex; redis: Redis | null; log: Logger; client: Client },
): ActivityDeps {
  const outbound = createOutboundGuard(outboundPolicyFromConfig(config));
  return {
    knex: parts.knex,
    secrets: new SecretBox(config.ENCRYPTION_KEY),
    whatsapp: {
      baseUrl: config.WHATSAPP_API_BASE_URL,
      apiVersion: config.WHATSAPP_API_VERSION,
      numberMessagesPerSecond: config.WHATSAPP_NUMBER_MESSAGES_PER_SECOND,
      perCustomerIntervalMs: config.WHATSAPP_PER_CUSTOMER_INTERVAL_MS,
    },
    redis: parts.redis,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    realtime: createRealtimeEmitter(parts.redis, { streamName: realtimeStreamName(config.REDIS_KEY_PREFIX), log: parts.log }),
    ai: {
      apiKey: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL, model: config.OPENAI_MODEL, timeoutMs: config.OPENAI_TIMEOUT_MS,
      allowedModels: splitList(config.OPENAI_ALLOWED_MODELS), outbound,
    },
    mediaDir: config.MEDIA_DIR,
    media: { hosts: splitList(config.WHATSAPP_MEDIA_HOSTS), maxBytes: config.MEDIA_MAX_BYTES },
    outbound,
    signing: { p12Base64: config.SIGNING_CERT_P12_BASE64, passphrase: config.SIGNING_CERT_PASSPHRASE, dataDir: config.SIGNING_CERT_DIR },
    gateway: { asaasBaseUrl: config.ASAAS_BASE_URL, timeoutMs: config.ASAAS_TIMEOUT_MS },
    temporal: { client: parts.client, taskQueue: config.TEMPORAL_TASK_QUEUE },
  };
}
