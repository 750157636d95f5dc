import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';

// A socket may follow a conversation only of its own tenant: the look-up runs under the tenant's
// row-level security, so another tenant's id is simply not found.
export function conversationAccess(knex: Knex) {
  return (tenantId: string, conversationId: string): Promise<boolean> =>
    withTenant(knex, tenantId, async (trx) => Boolean(await trx('conversations').where({ id: conversationId }).first('id')));
}
