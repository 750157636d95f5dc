import pg from 'pg';
import type { DatabaseSettings } from './database-settings';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ms = (n: number) => {
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a timeout in milliseconds: ${n}`);
  return `'${n}ms'`;
};

// Creates the roles and the database if they are missing. Idempotent; runs as a superuser.
export async function bootstrapDatabase(s: DatabaseSettings, opts: { recreate?: boolean } = {}): Promise<void> {
  if (!s.adminUrl) return;
  const admin = new pg.Client({ connectionString: s.adminUrl });
  await admin.connect();
  try {
    const { owner, app, auth } = s.roles;
    await admin.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(owner)}) THEN
          CREATE ROLE ${ident(owner)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD ${literal(s.passwords.owner)};
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(app)}) THEN
          CREATE ROLE ${ident(app)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD ${literal(s.passwords.app)};
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(auth)}) THEN
          CREATE ROLE ${ident(auth)} NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB;
        END IF;
      END $$;`);
    // The owner hands the definer functions over to the auth role, which requires membership.
    await admin.query(`GRANT ${ident(auth)} TO ${ident(owner)}`);

    if (opts.recreate) {
      await admin.query(`DROP DATABASE IF EXISTS ${ident(s.database)} WITH (FORCE)`);
    }
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [s.database]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${ident(s.database)} OWNER ${ident(owner)}`);
    }
  } finally {
    await admin.end();
  }

  const inDb = new pg.Client({ connectionString: withDatabase(s.adminUrl, s.database) });
  await inDb.connect();
  try {
    const { owner, app, auth } = s.roles;
    await inDb.query(`
      ALTER SCHEMA public OWNER TO ${ident(owner)};
      REVOKE CREATE ON SCHEMA public FROM PUBLIC;
      GRANT USAGE ON SCHEMA public TO ${ident(app)};
      GRANT USAGE, CREATE ON SCHEMA public TO ${ident(auth)};
      REVOKE ALL ON DATABASE ${ident(s.database)} FROM PUBLIC;
      GRANT CONNECT, TEMPORARY ON DATABASE ${ident(s.database)} TO ${ident(app)};`);
    // In this database only: the roles are shared by every database of the server (tests run
    // several). A new session of the app role starts with them, whatever client opened it.
    await inDb.query(`
      ALTER ROLE ${ident(app)} IN DATABASE ${ident(s.database)} SET statement_timeout = ${ms(s.timeouts.statementMs)};
      ALTER ROLE ${ident(app)} IN DATABASE ${ident(s.database)} SET idle_in_transaction_session_timeout = ${ms(s.timeouts.idleInTransactionMs)};`);
  } finally {
    await inDb.end();
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
