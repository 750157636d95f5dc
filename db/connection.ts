import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers, Model } from 'objection';
import type { Logger } from '../infra/logger';

export type { Knex };

// The pool the API and workers use: connected as the app role, so row-level security applies.
export function createKnex(connectionString: string, poolMax = 10, log?: Logger): Knex {
  const knex = knexFactory({
    log: log && {
      warn: (m: unknown) => log.warn({ knex: m }, 'knex warning'),
      error: (m: unknown) => log.error({ knex: m }, 'knex error'),
      deprecate: (m: unknown) => log.warn({ knex: m }, 'knex deprecation'),
      debug: () => {},
    },
    client: 'pg',
    connection: { connectionString, application_name: 'orquestra' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    ...knexSnakeCaseMappers(),
  });
  Model.knex(knex);
  return knex;
}
