import type { Knex } from 'knex';
import type { Migration } from './index';
import { definerLookups } from './rls';

// Sessions and keys: the API key look-up also says when the key was last used, so authenticating
// a key writes `last_used_at` only when it is a minute old, not on every request.
export const sessions: Migration = {
  name: '007_sessions',
  async up(knex: Knex, roles) {
    // A function's result type cannot change in place: dropped (by its owner's member, this role)
    // and created again with the same grants.
    await knex.raw('DROP FUNCTION auth_find_api_key(uuid)');
    await definerLookups(knex, roles, ['tenants', 'api_keys'], [
      {
        name: 'auth_find_api_key',
        params: 'p_id uuid',
        returns: `TABLE (id uuid, tenant_id uuid, key_hash text, scopes text[], expires_at timestamptz,
                       revoked_at timestamptz, tenant_status text, last_used_at timestamptz)`,
        body: `
          SELECT k.id, k.tenant_id, k.key_hash, k.scopes, k.expires_at, k.revoked_at, t.status, k.last_used_at
          FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = p_id`,
      },
    ]);
  },
};
