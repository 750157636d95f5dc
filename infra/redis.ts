import Redis from 'ioredis';
import type { Logger } from './logger';

// An empty REDIS_URL (or "memory") means single-instance mode: rate limits and revocations are
// kept in process. Otherwise Redis is required and a failing command fails fast rather than queue.
export function createRedis(url: string, log: Logger): Redis | null {
  if (!url || url === 'memory') {
    log.warn('REDIS_URL is empty: running as a single instance with in-process rate limits and revocations');
    return null;
  }
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5_000 });
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log.error({ err: err.message }, 'redis error');
    lastError = err.message;
  });
  redis.on('ready', () => (lastError = ''));
  return redis;
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
