import { bootstrapDatabase } from '../db/bootstrap';
import { resolveDatabaseSettings } from '../db/database-settings';
import { migrateToLatest } from '../db/migrate';

async function main() {
  const s = resolveDatabaseSettings();
  await bootstrapDatabase(s);
  const applied = await migrateToLatest(s);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
