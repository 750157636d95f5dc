import type { Knex } from 'knex';
import type { Migration } from './index';
import { ACTOR_TYPES } from '../../domain/actor';
import { ROLES } from '../../domain/roles';
import { TENANT_STATUSES } from '../../domain/tenant-statuses';
import { checkIn, definerLookups, grantToApp, isolate, TENANT_ONLY, TENANT_OR_PLATFORM } from './rls';

// Tenancy core: tenants, their settings, users and sessions, API keys, the audit log and the
// WhatsApp channel each tenant brings. Every tenant-owned table gets the same policy shape via
// `isolate()`, and the catalog test fails if a new table forgets it.
export const platformCore: Migration = {
  name: '001_platform_core',
  async up(knex: Knex, roles) {
    await knex.raw(`
      CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS
        $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
      CREATE FUNCTION app_platform_access() RETURNS boolean LANGUAGE sql STABLE AS
        $$ SELECT coalesce(current_setting('app.platform', true), '') = 'on' $$;

      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        -- knex reads a bare question mark as a binding, hence the escape.
        slug text NOT NULL CHECK (slug ~ '^[a-z0-9](-\\?[a-z0-9])*$' AND length(slug) <= 63),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        plan text NOT NULL DEFAULT 'standard',
        status text NOT NULL ${checkIn('status', TENANT_STATUSES)},
        failure_reason text,
        provisioning_workflow_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        provisioned_at timestamptz
      );
      -- A failed provisioning frees its slug for the next attempt.
      CREATE UNIQUE INDEX tenants_slug_live ON tenants (slug) WHERE status <> 'failed';

      CREATE TABLE tenant_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        settings jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE users (
        id uuid PRIMARY KEY,
        tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        email text NOT NULL CHECK (email = lower(email)),
        name text NOT NULL,
        role text NOT NULL ${checkIn('role', ROLES)},
        password_hash text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        CHECK ((role = 'SUPER_ADMIN') = (tenant_id IS NULL))
      );
      -- E-mail is the login, so it is unique across the platform.
      CREATE UNIQUE INDEX users_email ON users (email);
      CREATE INDEX users_tenant_created ON users (tenant_id, created_at DESC, id DESC);

      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        replaced_by uuid,
        revoked_at timestamptz
      );
      CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
      CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        key_hash text NOT NULL,
        scopes text[] NOT NULL,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz
      );
      CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at DESC, id DESC);

      CREATE TABLE whatsapp_channels (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        phone_number_id text NOT NULL UNIQUE,
        waba_id text NOT NULL,
        display_phone_number text,
        verified_name text,
        access_token_sealed text NOT NULL,
        verified_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      -- Append-only: no foreign keys, so the record outlives what it describes.
      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        actor_type text NOT NULL ${checkIn('actor_type', ACTOR_TYPES)},
        actor_id text,
        action text NOT NULL,
        entity_type text NOT NULL,
        entity_id text,
        request_id text,
        workflow_id text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, id DESC);
      CREATE INDEX audit_events_entity ON audit_events (tenant_id, entity_type, entity_id);
      CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$;
      -- Statement-level, so the statement is refused even when it would match no row.
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
    `);

    // Tenant isolation. Rows with no tenant are visible only in the platform context.
    await isolate(knex, 'tenants', `id = app_current_tenant() OR app_platform_access()`);
    for (const table of ['users', 'refresh_tokens', 'audit_events']) await isolate(knex, table, TENANT_OR_PLATFORM);
    for (const table of ['tenant_settings', 'api_keys', 'whatsapp_channels']) await isolate(knex, table, TENANT_ONLY);

    await grantToApp(knex, roles, ['tenants', 'tenant_settings', 'users', 'refresh_tokens', 'api_keys', 'whatsapp_channels']);
    await grantToApp(knex, roles, ['audit_events'], 'SELECT, INSERT');

    // Look-ups that must run before the tenant is known. Each returns only what the caller needs
    // to authenticate; everything after that runs in the tenant's context.
    await definerLookups(knex, roles, ['tenants', 'users', 'refresh_tokens', 'api_keys'], [
      {
        name: 'auth_find_login',
        params: 'p_email text',
        returns: 'TABLE (id uuid, tenant_id uuid, role text, password_hash text, active boolean, tenant_status text)',
        body: `
          SELECT u.id, u.tenant_id, u.role, u.password_hash, u.active, t.status
          FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
          WHERE u.email = lower(p_email)`,
      },
      {
        name: 'auth_find_refresh_token',
        params: 'p_id uuid',
        returns: `TABLE (id uuid, tenant_id uuid, user_id uuid, family_id uuid, token_hash text,
                       expires_at timestamptz, used_at timestamptz, revoked_at timestamptz)`,
        body: `
          SELECT r.id, r.tenant_id, r.user_id, r.family_id, r.token_hash, r.expires_at, r.used_at, r.revoked_at
          FROM refresh_tokens r WHERE r.id = p_id`,
      },
      {
        name: 'auth_find_api_key',
        params: 'p_id uuid',
        returns: `TABLE (id uuid, tenant_id uuid, key_hash text, scopes text[], expires_at timestamptz,
                       revoked_at timestamptz, tenant_status text)`,
        body: `
          SELECT k.id, k.tenant_id, k.key_hash, k.scopes, k.expires_at, k.revoked_at, t.status
          FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = p_id`,
      },
    ]);
  },
};
