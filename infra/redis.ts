import Redis from 'ioredis';
import type { Logger } from './logger';

export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2_000;

// An empty REDIS_URL (or "memory") means single-instance mode: rate limits and revocations are
// kept in process. Otherwise Redis is required and a failing command fails fast rather than queue.
// The command timeout covers a Redis that accepts the connection and then never answers (a hung
// server, a half-open connection): without it every command waits forever, and so does the
// request behind it. Blocking commands (XREAD BLOCK) need a client without it: `forBlocking`.
export function createRedis(url: string, log: Logger, opts: { commandTimeoutMs?: number } = {}): Redis | null {
  if (!url || url === 'memory') {
    log.warn('REDIS_URL is empty: running as a single instance with in-process rate limits and revocations');
    return null;
  }
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log.error({ err: err.message }, 'redis error');
    lastError = err.message;
  });
  redis.on('ready', () => (lastError = ''));
  return redis;
}

// A duplicate whose commands may wait as long as they ask to (a stream reader's XREAD BLOCK 5000
// would otherwise time out at the command timeout every time).
export function forBlocking(redis: Redis): Redis {
  return redis.duplicate({ commandTimeout: undefined });
}

export async function redisReachable(url: string, timeoutMs = 1_500): Promise<boolean> {
  if (!url || url === 'memory') return false;
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
