import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import makeKnex from 'knex/lib/knex-builder/make-knex';
import type pg from 'pg';
import type { Scope } from './tenant-scope';

// An API request holds at most one pooled connection, and none while it waits on something that
// is not the database (a workflow update may take 10 s). Its transaction begins at its first query,
// is committed before any Temporal call or nested withScope, and begins again if the request
// queries afterwards. So what the handler read or wrote before a call is committed by then, which
// the workflow needs anyway: its activities read those rows on connections of their own.

type Connection = pg.Client & { __knex__disposed?: unknown };

interface RequestContext {
  transaction?: RequestTransaction;
  // withScope transactions of this request open right now (each on a connection of its own).
  nested: number;
}

const requests = new AsyncLocalStorage<RequestContext>();

// A slip costs a held connection in production, a failed request everywhere else (the tests).
const strict = () => process.env.NODE_ENV !== 'production';

export class ConnectionHeldError extends Error {
  override name = 'ConnectionHeldError';
}

// Public routes have no transaction of their own; their withScope calls are still checked.
export function inRequest<T>(work: () => Promise<T>): Promise<T> {
  return requests.run({ nested: 0 }, work);
}

// Runs an authenticated request's work with its lazily begun, scoped transaction: committed when
// the work succeeds, rolled back when it throws (whatever part of it is still open).
export function withRequestTransaction<T>(knex: Knex, scope: Scope, work: (db: Knex.Transaction) => Promise<T>): Promise<T> {
  const ctx: RequestContext = { nested: 0 };
  const transaction = new RequestTransaction(knex, scope, ctx);
  ctx.transaction = transaction;
  return requests.run(ctx, async () => {
    let result: T;
    try {
      result = await work(transaction.db);
    } catch (err) {
      await transaction.end('ROLLBACK', { last: true }).catch(() => {});
      throw err;
    }
    await transaction.end('COMMIT', { last: true });
    return result;
  });
}

// Before a call to Temporal: the request's own transaction is committed, so nothing waits with it;
// a withScope transaction around the call would hold its connection through the wait.
export async function beforeTemporalCall(): Promise<void> {
  const ctx = requests.getStore();
  if (!ctx) return;
  await ctx.transaction?.end('COMMIT');
  if (ctx.nested > 0 && strict()) {
    throw new ConnectionHeldError('A Temporal call was made inside withScope/withTenant: commit first, then call Temporal.');
  }
}

// withScope inside a request: the request's own transaction is committed first, so the request
// still holds a single connection. Returns what ends the nested scope.
export async function enterNestedScope(): Promise<() => void> {
  const ctx = requests.getStore();
  if (!ctx) return () => {};
  if (ctx.nested > 0 && strict()) {
    throw new ConnectionHeldError('withScope/withTenant inside another one: a request holds one connection at a time.');
  }
  await ctx.transaction?.end('COMMIT');
  ctx.nested++;
  return () => {
    ctx.nested--;
  };
}

function scopeStatement(scope: Scope): [string, string[]] {
  return 'tenantId' in scope
    ? [`SELECT set_config('app.tenant_id', $1, true)`, [scope.tenantId]]
    : [`SELECT set_config('app.platform', 'on', true)`, []];
}

class RequestTransaction {
  readonly db: Knex.Transaction;
  private connection?: Promise<Connection>;
  private ended = false;

  constructor(
    private readonly knex: Knex,
    private readonly scope: Scope,
    private readonly ctx: RequestContext,
  ) {
    this.db = lazyTransactionKnex(knex.client, () => this.acquire());
  }

  private acquire(): Promise<Connection> {
    // Work the handler left running after its answer would begin a transaction nobody ends.
    if (this.ended) return Promise.reject(new Error("The request has ended: its db can no longer be used."));
    if (this.ctx.nested > 0 && strict()) {
      return Promise.reject(new ConnectionHeldError("The request's db was used inside withScope/withTenant: use that scope's transaction."));
    }
    if (!this.connection) {
      const begun = this.begin();
      this.connection = begun;
      begun.catch(() => {
        if (this.connection === begun) this.connection = undefined;
      });
    }
    return this.connection;
  }

  private async begin(): Promise<Connection> {
    const client = this.knex.client;
    const conn = (await client.acquireConnection()) as Connection;
    try {
      await conn.query('BEGIN');
      await conn.query(...scopeStatement(this.scope));
      return conn;
    } catch (err) {
      conn.__knex__disposed = err;
      await client.releaseConnection(conn);
      throw err;
    }
  }

  async end(how: 'COMMIT' | 'ROLLBACK', o: { last?: boolean } = {}): Promise<void> {
    if (o.last) this.ended = true;
    const pending = this.connection;
    if (!pending) return;
    this.connection = undefined;
    let conn: Connection;
    try {
      conn = await pending;
    } catch {
      return; // it never began
    }
    try {
      await conn.query(how);
    } catch (err) {
      // In an unknown state: the pool discards it rather than lend it to another request.
      conn.__knex__disposed = err;
      throw err;
    } finally {
      await this.knex.client.releaseConnection(conn);
    }
  }
}

// A knex whose every query runs on the connection `acquire` gives, never released by a query:
// what knex does for a transaction (makeTxClient), with the BEGIN deferred to the first query.
// `db.transaction()` inside it is a savepoint, as in a knex transaction.
function lazyTransactionKnex(base: Knex.Client, acquire: () => Promise<Connection>): Knex.Transaction {
  const from = base as unknown as Record<string, unknown>;
  const client = Object.create(Object.getPrototypeOf(base) as object) as Knex.Client & Record<string, unknown>;
  for (const key of ['config', 'driver', 'connectionSettings', 'valueForUndefined', 'logger', 'searchPath', 'defaultReturning']) {
    if (key in from) client[key] = from[key];
  }
  Object.defineProperty(client, 'version', { get: () => base.version, set: () => {}, enumerable: true });
  client.transacting = true;
  for (const event of ['start', 'query', 'query-error', 'query-response']) {
    client.on(event, (...args: unknown[]) => base.emit(event, ...args));
  }
  client.acquireConnection = acquire;
  client.releaseConnection = () => Promise.resolve();

  const db = makeKnex(client) as unknown as Knex.Transaction;
  const ownedByRoute = () => Promise.reject(new Error("The request's transaction is committed by route() (or before a Temporal call), not by the handler."));
  Object.assign(db, {
    isTransaction: true,
    isCompleted: () => false,
    savepoint: (container: (trx: Knex.Transaction) => Promise<unknown>, options?: Knex.TransactionConfig) => db.transaction(container, options),
    commit: ownedByRoute,
    rollback: ownedByRoute,
  });
  return db;
}
