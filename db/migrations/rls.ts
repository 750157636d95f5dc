import type { Knex } from 'knex';

// The lines every migration repeats: tenant isolation, grants to the application role, the
// SECURITY DEFINER look-ups that run before a tenant is known, and CHECKs over the domain's lists.
// The catalog tests in test/db/ fail if a table forgets its policy or a CHECK drifts from its list.

export interface MigrationRoles {
  app: string;
  auth: string;
}

// Rows of the current tenant only.
export const TENANT_ONLY = `tenant_id = app_current_tenant()`;
// Rows with no tenant (the platform's super admins, their sessions, platform audit events) are
// visible only in the platform context.
export const TENANT_OR_PLATFORM = `tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_access())`;

// Enabled and forced (the owner is held to it too), one policy for reads and writes alike.
export async function isolate(knex: Knex, table: string, predicate: string): Promise<void> {
  await knex.raw(`
    ALTER TABLE ?? ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ?? FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ?? USING (${predicate}) WITH CHECK (${predicate});
  `, [table, table, table]);
}

const READ_WRITE = 'SELECT, INSERT, UPDATE, DELETE';

export async function grantToApp(knex: Knex, roles: MigrationRoles, tables: readonly string[], privileges: string = READ_WRITE): Promise<void> {
  await knex.raw(`GRANT ${privileges} ON ${tables.map(() => '??').join(', ')} TO ??`, [...tables, roles.app]);
}

// Isolated and granted read-write to the application, the shape of most tenant-owned tables.
export async function tenantTables(knex: Knex, roles: MigrationRoles, tables: readonly string[], predicate = TENANT_ONLY): Promise<void> {
  for (const table of tables) {
    await isolate(knex, table, predicate);
    await grantToApp(knex, roles, [table]);
  }
}

export interface Lookup {
  name: string;
  // As in CREATE FUNCTION, e.g. `p_email text`; the types alone name the function afterwards.
  params: string;
  returns: string;
  // The SQL between the dollar quotes, kept verbatim.
  body: string;
}

// Look-ups that must find a row before the tenant is known (login by e-mail, a webhook's phone
// number). Owned by the auth role, the only one that bypasses RLS, and executable by the
// application alone; each returns only what the caller needs to reach the tenant's context.
export async function definerLookups(knex: Knex, roles: MigrationRoles, reads: readonly string[], lookups: readonly Lookup[]): Promise<void> {
  await knex.raw(`
    GRANT SELECT ON ${reads.map(() => '??').join(', ')} TO ??;
    ${lookups.map((l) => `
    CREATE FUNCTION ${l.name}(${l.params})
      RETURNS ${l.returns}
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$${l.body} $$;`).join('\n')}
  `, [...reads, roles.auth]);
  for (const l of lookups) {
    const fn = `${l.name}(${l.params.split(',').map((p) => p.trim().split(/\s+/).slice(1).join(' ')).join(', ')})`;
    await knex.raw(`ALTER FUNCTION ${fn} OWNER TO ??; REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC; GRANT EXECUTE ON FUNCTION ${fn} TO ??;`, [roles.auth, roles.app]);
  }
}

// `('a', 'b')`, for a CHECK or a generated column over one of the domain's `as const` lists.
export function sqlList(values: readonly string[]): string {
  return `(${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')})`;
}

// A migration that has run keeps the list it ran with: a value added to a domain list later needs
// a new migration that replaces the constraint, or deployed databases refuse it (the catalog test
// only sees the freshly migrated test database).
export function checkIn(column: string, values: readonly string[]): string {
  return `CHECK (${column} IN ${sqlList(values)})`;
}
