import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

// Meta counts every message of a business number against its throughput (80/s by default), across
// all conversations and all workers: a shared per-second budget in Redis, waited for, not failed.
export class NumberThroughput {
  private readonly limiter: RateLimiterAbstract;

  constructor(redis: Redis | null | undefined, prefix: string, perSecond: number) {
    const keyPrefix = `${prefix}wa-throughput`;
    const memory = new RateLimiterMemory({ keyPrefix, points: perSecond, duration: 1 });
    this.limiter = redis ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points: perSecond, duration: 1, insuranceLimiter: memory }) : memory;
  }

  // Resolves once a send slot is ours; gives up after `maxWaitMs` so the activity can retry.
  async take(phoneNumberId: string, maxWaitMs = 10_000): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      try {
        await this.limiter.consume(phoneNumberId);
        return;
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        if (Date.now() + err.msBeforeNext > deadline) throw new Error(`number ${phoneNumberId} is at its throughput limit`);
        await sleep(Math.max(5, err.msBeforeNext));
      }
    }
  }
}
