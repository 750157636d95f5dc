import type { Knex } from 'knex';
import { enterNestedScope } from './request-scope';

export type Scope = { tenantId: string } | { platform: true };

// Every request and every activity touches the database only through these: the transaction
// sets the tenant (or the platform context) before any query runs, and the setting dies with it,
// so a pooled connection never carries one tenant's context into another's work. Inside an API
// request it first commits the request's own transaction (db/request-scope.ts): one connection
// at a time per request.
export async function withScope<T>(knex: Knex, scope: Scope, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const leave = await enterNestedScope();
  try {
    return await knex.transaction(async (trx) => {
      if ('tenantId' in scope) {
        await trx.raw(`SELECT set_config('app.tenant_id', ?, true)`, [scope.tenantId]);
      } else {
        await trx.raw(`SELECT set_config('app.platform', 'on', true)`);
      }
      return work(trx);
    });
  } finally {
    leave();
  }
}

export function withTenant<T>(knex: Knex, tenantId: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return withScope(knex, { tenantId }, work);
}

export function withPlatform<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return withScope(knex, { platform: true }, work);
}

// Recognises the violation whether it comes raw from pg or wrapped by objection (db-errors).
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; nativeError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.nativeError?.code;
  const name = e?.constraint ?? e?.nativeError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}
