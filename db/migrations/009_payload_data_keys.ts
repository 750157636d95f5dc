import type { Knex } from 'knex';
import type { Migration } from './index';
import { definerLookups, tenantTables, TENANT_OR_PLATFORM } from './rls';

// The data keys Temporal payloads are sealed with (infra/payload-codec.ts): one active key per
// tenant, and one for the platform (tenant_id NULL), each sealed by the platform key
// (ENCRYPTION_KEY). A rotated key stays to open older payloads; a destroyed one loses its sealed
// bytes, and what it sealed can no longer be read by anyone. No foreign key to tenants: a
// tenant's provisioning workflow is sealed under its key before the tenant row exists.
export const payloadDataKeys: Migration = {
  name: '009_payload_data_keys',
  async up(knex: Knex, roles) {
    await knex.raw(`
      CREATE TABLE payload_data_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid,
        sealed_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        destroyed_at timestamptz,
        CHECK ((destroyed_at IS NULL) = (sealed_key IS NOT NULL))
      );
      CREATE UNIQUE INDEX payload_data_keys_one_active
        ON payload_data_keys ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)))
        WHERE retired_at IS NULL;
    `);
    await tenantTables(knex, roles, ['payload_data_keys'], TENANT_OR_PLATFORM);
    // The codec opens payloads of any tenant (the Web UI's codec endpoint, a worker replaying a
    // history) knowing only the key id in the payload's metadata.
    await definerLookups(knex, roles, ['payload_data_keys'], [
      {
        name: 'codec_data_key',
        params: 'p_id uuid',
        returns: 'TABLE (id uuid, tenant_id uuid, sealed_key text)',
        body: `SELECT k.id, k.tenant_id, k.sealed_key FROM payload_data_keys k WHERE k.id = p_id`,
      },
      {
        name: 'codec_active_data_key',
        params: 'p_tenant uuid',
        returns: 'TABLE (id uuid, sealed_key text)',
        body: `
          SELECT k.id, k.sealed_key FROM payload_data_keys k
          WHERE k.tenant_id IS NOT DISTINCT FROM p_tenant AND k.retired_at IS NULL AND k.destroyed_at IS NULL`,
      },
    ]);
  },
};
