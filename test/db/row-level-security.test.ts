import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { createKnex } from '../../db/connection';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { withPlatform, withTenant } from '../../db/tenant-scope';

// Isolation that does not depend on each query remembering `WHERE tenant_id`.
describe('row-level security', () => {
  const settings = resolveDatabaseSettings();
  let app: Knex;
  let owner: Knex;
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  before(async () => {
    app = createKnex(settings.appUrl, 4);
    owner = knexFactory({ client: 'pg', connection: settings.ownerUrl, pool: { min: 0, max: 1 } });
    for (const [id, slug] of [[tenantA, `rls-a-${tenantA.slice(0, 8)}`], [tenantB, `rls-b-${tenantB.slice(0, 8)}`]] as const) {
      await withTenant(app, id, async (trx) => {
        await trx('tenants').insert({ id, slug, name: slug, status: 'active', provisioningWorkflowId: `test:${id}` });
        await trx('users').insert({ id: randomUUID(), tenantId: id, email: `someone@${slug}.test`, name: 'x', role: 'ATTENDANT', passwordHash: 'x' });
        await trx('api_keys').insert({ id: randomUUID(), tenantId: id, name: 'k', keyHash: 'x', scopes: ['users:read'] });
        await trx('audit_events').insert({ tenantId: id, actorType: 'system', action: 'test.seeded', entityType: 'tenant', entityId: id });
      });
    }
  });
  after(async () => {
    await app.destroy();
    await owner.destroy();
  });

  it('enables and forces RLS on every tenant-owned table (catalog check)', async () => {
    const { rows } = await owner.raw(`
      SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
             (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        AND (c.relname = 'tenants' OR EXISTS (
          SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
      ORDER BY 1`);
    assert.ok(rows.length >= 7, `expected the tenant-owned tables, found ${rows.map((r: { table: string }) => r.table)}`);
    const unprotected = rows.filter((r: { enabled: boolean; forced: boolean; policies: string }) => !r.enabled || !r.forced || Number(r.policies) === 0);
    assert.deepEqual(unprotected, [], 'tables without enabled+forced RLS and a policy');

    // Tables without tenant_id are the migration bookkeeping only; anything else must be reviewed.
    const { rows: others } = await owner.raw(`
      SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'tenants'
        AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
      ORDER BY 1`);
    assert.deepEqual(others.map((r: { table: string }) => r.table), ['knex_migrations', 'knex_migrations_lock']);
  });

  it('connects the application as a role that owns nothing and cannot bypass RLS', async () => {
    const { rows } = await app.raw(`
      SELECT r.rolsuper AS super, r.rolbypassrls AS bypass,
             (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned
      FROM pg_roles r WHERE r.rolname = current_user`);
    assert.deepEqual(rows[0], { super: false, bypass: false, owned: '0' });
    await assert.rejects(app.raw('SELECT * FROM knex_migrations'), /permission denied/);
    await assert.rejects(app.raw('ALTER TABLE users DISABLE ROW LEVEL SECURITY'), /must be owner/);
  });

  it('returns none of tenant B’s rows to a query with no tenant filter in tenant A’s context', async () => {
    for (const table of ['tenants', 'users', 'api_keys', 'audit_events']) {
      const seen = await withTenant(app, tenantA, async (trx) => {
        const rows: { tenantId?: string; id: string }[] = await trx(table).select('*');
        return rows;
      });
      assert.ok(seen.length > 0, `${table}: tenant A sees its own rows`);
      for (const row of seen) assert.equal(row.tenantId ?? row.id, tenantA, `${table} leaked a row of another tenant`);
    }
  });

  it('sees nothing at all outside a tenant transaction', async () => {
    for (const table of ['tenants', 'users', 'api_keys', 'audit_events']) {
      const rows = await app(table).select('id');
      assert.equal(rows.length, 0, `${table} readable without a tenant`);
    }
  });

  it('refuses writes into another tenant and cannot move a row across tenants', async () => {
    await assert.rejects(
      withTenant(app, tenantA, (trx) =>
        trx('users').insert({ id: randomUUID(), tenantId: tenantB, email: `intruder-${randomUUID()}@x.test`, name: 'x', role: 'ATTENDANT', passwordHash: 'x' }),
      ),
      /row-level security/,
    );
    const moved = await withTenant(app, tenantA, async (trx) => {
      const n: number = await trx('users').update({ name: 'nobody' }).where({ tenantId: tenantB });
      return n;
    });
    assert.equal(moved, 0);
    await assert.rejects(
      withTenant(app, tenantA, (trx) => trx('users').update({ tenantId: tenantB }).where({ tenantId: tenantA })),
      /row-level security/,
    );
  });

  it('keeps the audit log append-only, even for its owner', async () => {
    await assert.rejects(withTenant(app, tenantA, (trx) => trx('audit_events').update({ action: 'x' })), /permission denied/);
    await assert.rejects(withTenant(app, tenantA, (trx) => trx('audit_events').delete()), /permission denied/);
    await assert.rejects(owner.raw(`UPDATE audit_events SET action = 'rewritten'`), /append-only/);
    await assert.rejects(owner.raw(`DELETE FROM audit_events`), /append-only/);
    await assert.rejects(owner.raw(`TRUNCATE audit_events`), /append-only/);
  });

  it('shows platform-level rows only in the platform context', async () => {
    const platformIds = await withPlatform(app, async (trx) => {
      const ids: string[] = await trx('tenants').pluck('id');
      return ids;
    });
    assert.ok(platformIds.includes(tenantA) && platformIds.includes(tenantB));
    const platformUsersInTenant = await withTenant(app, tenantA, async (trx) => {
      const n: string[] = await trx('users').whereNull('tenantId').pluck('id');
      return n;
    });
    assert.deepEqual(platformUsersInTenant, []);
  });
});
