import knexFactory from 'knex';
import type { DatabaseSettings } from './database-settings';
import { migrations, type Migration } from './migrations';

// Runs as the owner role; the app role never can change the schema.
export async function migrateToLatest(s: DatabaseSettings): Promise<string[]> {
  const knex = knexFactory({ client: 'pg', connection: s.ownerUrl, pool: { min: 0, max: 2 } });
  try {
    const [, applied] = (await knex.migrate.latest({
      migrationSource: {
        getMigrations: async () => migrations,
        getMigrationName: (m: Migration) => m.name,
        getMigration: async (m: Migration) => ({
          up: (k) => m.up(k, s.roles),
          down: async () => {
            throw new Error('Orquestra migrations only move forward');
          },
        }),
      },
    })) as [number, string[]];
    return applied;
  } finally {
    await knex.destroy();
  }
}
