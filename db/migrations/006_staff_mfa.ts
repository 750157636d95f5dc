import type { Knex } from 'knex';
import type { Migration } from './index';
import { tenantTables, TENANT_OR_PLATFORM } from './rls';

// Staff second factor (issue 11): one row per user who has started or finished TOTP enrolment.
// The secrets are sealed with ENCRYPTION_KEY (infra/secret-box.ts); the recovery codes are kept
// as SHA-256 of 80-bit random codes, like every other bearer secret here. Platform admins have no
// tenant, so the rows follow the users table's policy.
export const staffMfa: Migration = {
  name: '006_staff_mfa',
  async up(knex: Knex, roles) {
    await knex.raw(`
      CREATE TABLE user_mfa (
        user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        secret_sealed text,
        enabled_at timestamptz,
        -- The last TOTP time step accepted: a code is good once.
        last_used_step bigint,
        -- An enrolment not yet confirmed with a first code; replaced by the next enrolment.
        pending_secret_sealed text,
        pending_since timestamptz,
        -- Spent codes are removed from the array, so a code works once.
        recovery_code_hashes text[] NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((secret_sealed IS NULL) = (enabled_at IS NULL)),
        CHECK ((pending_secret_sealed IS NULL) = (pending_since IS NULL))
      );
      CREATE INDEX user_mfa_tenant ON user_mfa (tenant_id);
    `);
    await tenantTables(knex, roles, ['user_mfa'], TENANT_OR_PLATFORM);
  },
};
