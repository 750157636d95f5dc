import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  remaining: number;
}

// Consecutive failures of one key (an account's logins): the first `freeFailures` cost nothing,
// the one that reaches it blocks the key for `baseSeconds`, and each further failure (once the
// block is over) doubles the block, up to `maxSeconds`. Failures are forgotten `forgetAfterSeconds`
// after the first one, or at once on a success (`clearFailures`).
export interface BackoffPolicy {
  freeFailures: number;
  baseSeconds: number;
  maxSeconds: number;
  forgetAfterSeconds: number;
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

  // Gives back a point consumed up front, for limits that count only failures but must be spent
  // before the work (so concurrent attempts cannot all slip through one free point).
  async reward(name: string, key: string, points: number, durationSeconds: number): Promise<void> {
    await this.limiter(name, points, durationSeconds).reward(key, 1);
  }

  // Whether the key is serving a back-off block now. Spends nothing.
  async backoffBlocked(name: string, key: string, policy: BackoffPolicy): Promise<RateDecision> {
    const res = await this.blocks(name, policy).get(key);
    if (res && res.consumedPoints > 1 && res.msBeforeNext > 0) {
      return { allowed: false, retryAfterSeconds: Math.ceil(res.msBeforeNext / 1000), remaining: 0 };
    }
    return { allowed: true, retryAfterSeconds: 0, remaining: 1 };
  }

  // Counts a failure; when it is one too many, blocks the key and says for how long.
  async recordFailure(name: string, key: string, policy: BackoffPolicy): Promise<RateDecision> {
    const failures = await this.limiter(`${name}:failures`, policy.freeFailures, policy.forgetAfterSeconds).penalty(key, 1);
    const excess = failures.consumedPoints - policy.freeFailures;
    if (excess < 0) return { allowed: true, retryAfterSeconds: 0, remaining: -excess };
    const seconds = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** Math.min(excess, 30));
    await this.blocks(name, policy).block(key, seconds);
    return { allowed: false, retryAfterSeconds: seconds, remaining: 0 };
  }

  async clearFailures(name: string, key: string, policy: BackoffPolicy): Promise<void> {
    await this.limiter(`${name}:failures`, policy.freeFailures, policy.forgetAfterSeconds).delete(key);
  }

  // One point per key: `block()` stores points + 1, which is how a block is told from nothing.
  private blocks(name: string, policy: BackoffPolicy): RateLimiterAbstract {
    return this.limiter(`${name}:block`, 1, policy.maxSeconds);
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
