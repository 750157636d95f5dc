// Where the database is and which roles the project uses.
// - owner: owns every table, runs migrations (never used by the API or the workers)
// - app: what the API and workers connect as; owns nothing, cannot bypass row-level security
// - auth: no login; owns the few SECURITY DEFINER look-ups that must find a row before the
//   tenant is known (login by e-mail, refresh token, API key)
export interface DatabaseSettings {
  adminUrl?: string;
  ownerUrl: string;
  appUrl: string;
  database: string;
  roles: { owner: string; app: string; auth: string };
  passwords: { owner: string; app: string };
  // For the app role: a statement running longer is cancelled, and a session left idle inside a
  // transaction this long is ended (with its locks and its connection). Set on the role by the
  // bootstrap and carried by appUrl, so a database whose roles someone else made gets them too.
  timeouts: { statementMs: number; idleInTransactionMs: number };
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

export function resolveDatabaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const roles = {
    owner: env.DATABASE_OWNER_ROLE ?? 'orquestra_owner',
    app: env.DATABASE_APP_ROLE ?? 'orquestra_app',
    auth: env.DATABASE_AUTH_ROLE ?? 'orquestra_auth',
  };
  const passwords = {
    owner: env.DATABASE_OWNER_PASSWORD ?? 'orquestra_owner',
    app: env.DATABASE_APP_PASSWORD ?? 'orquestra_app',
  };
  const database = env.DATABASE_NAME ?? 'orquestra';
  const host = env.DATABASE_HOST ?? '127.0.0.1';
  const port = env.DATABASE_PORT ?? '5432';
  const url = (role: string, password: string) =>
    `postgres://${encodeURIComponent(role)}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
  const explicit = Boolean(env.DATABASE_URL && env.DATABASE_OWNER_URL);
  const timeouts = {
    statementMs: milliseconds(env.DATABASE_STATEMENT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS),
    idleInTransactionMs: milliseconds(env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS, DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS),
  };
  return {
    // With both URLs given the roles are someone else's business (a managed database); otherwise
    // we create them through the local superuser.
    adminUrl: env.DATABASE_ADMIN_URL ?? (explicit ? undefined : `postgres://postgres@${host}:${port}/postgres`),
    ownerUrl: env.DATABASE_OWNER_URL ?? url(roles.owner, passwords.owner),
    appUrl: withTimeouts(env.DATABASE_URL ?? url(roles.app, passwords.app), timeouts),
    database: explicit ? new URL(env.DATABASE_URL as string).pathname.slice(1) : database,
    roles,
    passwords,
    timeouts,
  };
}

// 0 turns a timeout off, as in Postgres.
function milliseconds(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

// node-postgres sends these URL parameters as the session's settings when it connects; a URL that
// sets one already keeps its own.
function withTimeouts(appUrl: string, t: DatabaseSettings['timeouts']): string {
  const u = new URL(appUrl);
  if (!u.searchParams.has('statement_timeout')) u.searchParams.set('statement_timeout', String(t.statementMs));
  if (!u.searchParams.has('idle_in_transaction_session_timeout')) u.searchParams.set('idle_in_transaction_session_timeout', String(t.idleInTransactionMs));
  return u.toString();
}
