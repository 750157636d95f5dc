import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import Redis from 'ioredis';
import { RateLimits } from '../../infra/rate-limits';

// Against the real Redis `npm test` checked, under a prefix of this run's own.
describe('RateLimits.peek', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
  const limits = new RateLimits(redis, `${process.env.REDIS_KEY_PREFIX ?? 'orq-test:'}${randomUUID().slice(0, 8)}:`);
  after(async () => {
    await redis.quit();
  });

  it('tells whether the next consume would be refused, without spending a point', async () => {
    const key = `ip-${randomUUID()}`;
    assert.deepEqual(await limits.peek('peek-test', key, 2, 60), { allowed: true, retryAfterSeconds: 0, remaining: 2 });
    assert.equal((await limits.consume('peek-test', key, 2, 60)).allowed, true);
    for (let i = 0; i < 3; i++) assert.deepEqual(await limits.peek('peek-test', key, 2, 60), { allowed: true, retryAfterSeconds: 0, remaining: 1 }, 'peeking is free');
    assert.equal((await limits.consume('peek-test', key, 2, 60)).allowed, true);
    const full = await limits.peek('peek-test', key, 2, 60);
    assert.equal(full.allowed, false, 'every point spent: the next consume would be refused');
    assert.ok(full.retryAfterSeconds >= 1 && full.retryAfterSeconds <= 60);
    assert.equal((await limits.consume('peek-test', key, 2, 60)).allowed, false);
    assert.equal((await limits.peek('peek-test', key, 2, 60)).allowed, false);
    assert.equal((await limits.peek('peek-test', `other-${key}`, 2, 60)).allowed, true, 'keys are counted apart');
  });
});
