import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';
import type { DataKey, DataKeys } from '../infra/payload-codec';
import type { SecretBox } from '../infra/secret-box';
import { isUniqueViolation, withScope } from './tenant-scope';

// The data keys of infra/payload-codec.ts, kept in Postgres sealed by the platform key and held
// open in memory: every workflow call and task encodes and decodes, and a key changes only when
// it is rotated or destroyed. A tenant's first payload creates its key.

const PLATFORM = 'platform';

export class PostgresDataKeys implements DataKeys {
  // Open keys by id; a rotation adds one, and `destroy` drops the tenant's (other processes
  // drop theirs when they restart: destroying is for a tenant that no longer runs).
  private readonly byId = new LRUCache<string, DataKey>({ max: 10_000 });
  // The active key per tenant, re-read now and then so a rotation done by another process is
  // picked up within a minute.
  private readonly active = new LRUCache<string, DataKey>({ max: 10_000, ttl: 60_000 });
  // One look-up in flight per tenant: a burst of first calls creates one key, not fifty.
  private readonly pending = new Map<string, Promise<DataKey>>();

  constructor(
    private readonly knex: Knex,
    private readonly secrets: SecretBox,
  ) {}

  activeKey(tenantId: string | null): Promise<DataKey> {
    const slot = tenantId ?? PLATFORM;
    const cached = this.active.get(slot);
    if (cached) return Promise.resolve(cached);
    let inFlight = this.pending.get(slot);
    if (!inFlight) {
      inFlight = this.loadOrCreate(tenantId).finally(() => this.pending.delete(slot));
      this.pending.set(slot, inFlight);
    }
    return inFlight;
  }

  async keyById(id: string): Promise<DataKey | null> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const [row] = (await this.knex.select('*').from(this.knex.raw('codec_data_key(?)', [id]))) as { id: string; sealedKey: string | null }[];
    if (!row?.sealedKey) return null;
    return this.remember(row.id, row.sealedKey);
  }

  // A new active key for the tenant: what is sealed from now on uses it, older payloads keep
  // opening with the previous one.
  async rotate(tenantId: string | null): Promise<DataKey> {
    await withScope(this.knex, scopeOf(tenantId), async (trx) => {
      await trx('payload_data_keys').where({ tenantId, retiredAt: null }).update({ retiredAt: trx.fn.now() });
      await trx('payload_data_keys').insert({ tenantId, sealedKey: this.secrets.seal(randomBytes(32).toString('base64')) });
    });
    this.active.delete(tenantId ?? PLATFORM);
    return this.activeKey(tenantId);
  }

  // Crypto-shredding: every key the tenant ever had loses its bytes, so nothing sealed under them
  // opens again (a tenant removed for good). The next payload for the tenant gets a fresh key.
  async destroy(tenantId: string): Promise<number> {
    const ids = await withScope(this.knex, { tenantId }, async (trx) => {
      const rows: { id: string }[] = await trx('payload_data_keys')
        .where({ tenantId })
        .whereNull('destroyedAt')
        .update({ sealedKey: null, destroyedAt: trx.fn.now(), retiredAt: trx.raw('coalesce(retired_at, now())') })
        .returning('id');
      return rows.map((r) => r.id);
    });
    for (const id of ids) this.byId.delete(id);
    this.active.delete(tenantId);
    return ids.length;
  }

  private async loadOrCreate(tenantId: string | null): Promise<DataKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [row] = (await this.knex.select('*').from(this.knex.raw('codec_active_data_key(?)', [tenantId]))) as { id: string; sealedKey: string }[];
      if (row) {
        const key = this.remember(row.id, row.sealedKey);
        this.active.set(tenantId ?? PLATFORM, key);
        return key;
      }
      try {
        await withScope(this.knex, scopeOf(tenantId), (trx) =>
          trx('payload_data_keys').insert({ tenantId, sealedKey: this.secrets.seal(randomBytes(32).toString('base64')) }),
        );
      } catch (err) {
        // Another process created it first: read theirs.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new Error(`no active payload data key for ${tenantId ?? 'the platform'}`);
  }

  private remember(id: string, sealedKey: string): DataKey {
    const key = { id, key: Buffer.from(this.secrets.open(sealedKey), 'base64') };
    this.byId.set(id, key);
    return key;
  }
}

const scopeOf = (tenantId: string | null) => (tenantId ? { tenantId } : { platform: true as const });
