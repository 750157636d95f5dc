import type Redis from 'ioredis';

// A counting semaphore per key (a tenant's endpoint), shared by every worker through Redis, in
// process without Redis. Each holder has an expiry, so a worker that dies holding a slot gives it
// back when the expiry passes instead of keeping the tenant blocked.
export interface TenantSlots {
  // Takes one of `limit` slots for `holder` until it is released or `ttlMs` passes.
  tryAcquire(key: string, holder: string, limit: number, ttlMs: number): Promise<boolean>;
  release(key: string, holder: string): Promise<void>;
}

// One sorted set per key: members are holders, scores their expiry (Redis' own clock, so the
// workers' clocks need not agree). Expired holders are dropped before counting.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;

export function createTenantSlots(redis: Redis | null, prefix: string): TenantSlots {
  if (!redis) return memorySlots();
  const keyOf = (key: string) => `${prefix}tenant-slots:${key}`;
  return {
    async tryAcquire(key, holder, limit, ttlMs) {
      return (await redis.eval(ACQUIRE, 1, keyOf(key), limit, Math.max(1, Math.ceil(ttlMs)), holder)) === 1;
    },
    async release(key, holder) {
      await redis.zrem(keyOf(key), holder);
    },
  };
}

function memorySlots(): TenantSlots {
  const held = new Map<string, Map<string, number>>();
  return {
    async tryAcquire(key, holder, limit, ttlMs) {
      const now = Date.now();
      const holders = held.get(key) ?? new Map<string, number>();
      for (const [h, expiresAt] of holders) if (expiresAt <= now) holders.delete(h);
      if (holders.size >= limit) return false;
      holders.set(holder, now + ttlMs);
      held.set(key, holders);
      return true;
    },
    async release(key, holder) {
      const holders = held.get(key);
      holders?.delete(holder);
      if (holders?.size === 0) held.delete(key);
    },
  };
}
