import type { Knex } from 'knex';

// Tenant isolation, one shape for every tenant-owned table; the catalog test in
// test/db/row-level-security.test.ts fails if a new table forgets it.
export async function isolate(knex: Knex, table: string, predicate: string): Promise<void> {
  await knex.raw(`
    ALTER TABLE ?? ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ?? FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ?? USING (${predicate}) WITH CHECK (${predicate});
  `, [table, table, table]);
}

export const TENANT_ONLY = `tenant_id = app_current_tenant()`;
