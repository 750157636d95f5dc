import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  remaining: number;
}

// Fixed-window limits shared by every API instance through Redis; in process when there is no
// Redis. If Redis fails mid-flight the in-memory insurance limiter keeps limiting.
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
  ) {}

  async consume(name: string, key: string, points: number, durationSeconds: number): Promise<RateDecision> {
    try {
      const res = await this.limiter(name, points, durationSeconds).consume(key);
      return { allowed: true, retryAfterSeconds: 0, remaining: res.remainingPoints };
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        return { allowed: false, retryAfterSeconds: Math.ceil(err.msBeforeNext / 1000), remaining: 0 };
      }
      throw err;
    }
  }

  // Whether a consume now would be refused, without spending a point: lets a caller turn away a
  // key that is already over its limit before doing anything costly for it.
  async peek(name: string, key: string, points: number, durationSeconds: number): Promise<RateDecision> {
    const res = await this.limiter(name, points, durationSeconds).get(key);
    const consumed = res?.consumedPoints ?? 0;
    if (res && consumed >= points) return { allowed: false, retryAfterSeconds: Math.ceil(res.msBeforeNext / 1000), remaining: 0 };
    return { allowed: true, retryAfterSeconds: 0, remaining: points - consumed };
  }

  async reset(name: string, key: string, points: number, durationSeconds: number): Promise<void> {
    await this.limiter(name, points, durationSeconds).delete(key);
  }

  private limiter(name: string, points: number, duration: number): RateLimiterAbstract {
    const id = `${name}:${points}:${duration}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const keyPrefix = `${this.prefix}rl:${name}`;
      const memory = new RateLimiterMemory({ keyPrefix, points, duration });
      limiter = this.redis
        ? new RateLimiterRedis({ storeClient: this.redis, keyPrefix, points, duration, insuranceLimiter: memory })
        : memory;
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
