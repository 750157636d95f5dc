import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers, Model } from 'objection';

export type { Knex };

// The pool the API and workers use: connected as the app role, so row-level security applies.
export function createKnex(connectionString: string, poolMax = 10): Knex {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: 'orquestra' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    ...knexSnakeCaseMappers(),
  });
  Model.knex(knex);
  return knex;
}
