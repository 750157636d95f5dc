import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bootstrapDatabase } from '../db/bootstrap';
import { resolveDatabaseSettings } from '../db/database-settings';
import { migrateToLatest } from '../db/migrate';
import { redisReachable } from '../infra/redis';
import { loadConfig } from '../infra/config';
import { registerSearchAttributes, temporalConnectionOptions } from '../infra/temporal';
import { Connection } from '@temporalio/client';
import { findOrBuildTemporalCli, freePort, startDevServer, type DevServer } from './lib/temporal-cli';

// `npm test [file-or-folder ...]`: the whole suite against the real Temporal dev server (started
// here, in memory, on free ports, unless TEMPORAL_ADDRESS names one), a freshly created Postgres
// test database and the real Redis.
async function main() {
  const root = join(__dirname, '..');
  // Paths select test files; flags (e.g. --test-name-pattern=...) go to node's test runner.
  const targets = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  let files = (targets.length ? targets : ['test']).flatMap((t) => testFiles(join(root, t)));
  // `npm run record:histories`: every test that records a workflow history, found by its call.
  if (process.env.RECORD_HISTORIES && !targets.length) files = files.filter((f) => readFileSync(f, 'utf8').includes('recordHistory('));
  if (files.length === 0) throw new Error('no test files found');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_NAME: process.env.DATABASE_NAME ?? 'orquestra_test',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `orq-test-${randomBytes(4).toString('hex')}:`,
    JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? randomBytes(32).toString('base64'),
  };
  if (!(await redisReachable(env.REDIS_URL as string))) {
    throw new Error(`Redis is not reachable at ${env.REDIS_URL}: the tests use the real Redis.`);
  }

  const db = resolveDatabaseSettings(env);
  await bootstrapDatabase(db, { recreate: true });
  await migrateToLatest(db);

  let server: DevServer | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    const binary = findOrBuildTemporalCli((m) => console.error(m));
    server = await startDevServer({ binary, port: await freePort(), uiPort: await freePort(), headless: true });
    env.TEMPORAL_ADDRESS = server.address;
    env.TEMPORAL_CLI = binary;
    console.error(`Temporal dev server for the tests at ${server.address}`);
  } else {
    // An existing Temporal Service (e.g. the full server on Postgres) lacks our attributes until
    // someone adds them; the tests start workflows from the API and from test code alike.
    const config = loadConfig(env);
    const connection = await Connection.connect(temporalConnectionOptions(config));
    const ok = await registerSearchAttributes(connection, config.TEMPORAL_NAMESPACE, console, { attempts: 5 });
    await connection.close();
    if (!ok) throw new Error(`could not register the custom search attributes on ${config.TEMPORAL_ADDRESS}`);
  }

  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...flags, ...files.map((f) => relative(root, f))],
      { cwd: root, env, stdio: 'inherit' },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await server?.stop();
  process.exit(code);
}

function testFiles(path: string): string[] {
  if (!statSync(path, { throwIfNoEntry: false })) throw new Error(`no such test path: ${path}`);
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? testFiles(join(path, e.name)) : e.name.endsWith('.test.ts') ? [join(path, e.name)] : []))
    .sort();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
