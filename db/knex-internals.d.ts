// knex builds its transaction objects with this (lib/execution/transaction.js); the request's
// lazily begun transaction (db/request-scope.ts) is built the same way.
declare module 'knex/lib/knex-builder/make-knex' {
  import type { Knex } from 'knex';
  function makeKnex(client: Knex.Client): Knex;
  export = makeKnex;
}
