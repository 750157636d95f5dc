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
}

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
  return {
    // With both URLs given the roles are someone else's business (a managed database); otherwise
    // we create them through the local superuser.
    adminUrl: env.DATABASE_ADMIN_URL ?? (explicit ? undefined : `postgres://postgres@${host}:${port}/postgres`),
    ownerUrl: env.DATABASE_OWNER_URL ?? url(roles.owner, passwords.owner),
    appUrl: env.DATABASE_URL ?? url(roles.app, passwords.app),
    database: explicit ? new URL(env.DATABASE_URL as string).pathname.slice(1) : database,
    roles,
    passwords,
  };
}
