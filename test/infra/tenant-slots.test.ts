import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import Redis from 'ioredis';
import { createTenantSlots, type TenantSlots } from '../../infra/tenant-slots';

// The per-tenant semaphore of the tenant-endpoint activities, against the real Redis `npm test`
// checked (under a prefix of this run's own) and in process.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
after(async () => {
  await redis.quit();
});

const kinds: [string, () => TenantSlots][] = [
  ['in Redis', () => createTenantSlots(redis, `${process.env.REDIS_KEY_PREFIX ?? 'orq-test:'}${randomUUID().slice(0, 8)}:`)],
  ['in process', () => createTenantSlots(null, '')],
];

for (const [name, make] of kinds) {
  describe(`tenant slots ${name}`, () => {
    it('gives at most `limit` holders a slot per key, and a released slot to the next', async () => {
      const slots = make();
      const key = `tenant-${randomUUID()}:automation`;
      assert.equal(await slots.tryAcquire(key, 'h1', 2, 60_000), true);
      assert.equal(await slots.tryAcquire(key, 'h2', 2, 60_000), true);
      assert.equal(await slots.tryAcquire(key, 'h3', 2, 60_000), false, 'the tenant is at its limit');
      assert.equal(await slots.tryAcquire(`other-${key}`, 'h3', 2, 60_000), true, 'another tenant is counted apart');
      await slots.release(key, 'h1');
      assert.equal(await slots.tryAcquire(key, 'h3', 2, 60_000), true, 'the released slot is taken');
      assert.equal(await slots.tryAcquire(key, 'h4', 2, 60_000), false);
    });

    it('frees the slot of a holder that never releases it (a dead worker) when its expiry passes', async () => {
      const slots = make();
      const key = `tenant-${randomUUID()}:ai`;
      assert.equal(await slots.tryAcquire(key, 'dead', 1, 300), true);
      assert.equal(await slots.tryAcquire(key, 'next', 1, 300), false);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await slots.tryAcquire(key, 'next', 1, 60_000), true, 'the expired holder no longer counts');
    });
  });
}
