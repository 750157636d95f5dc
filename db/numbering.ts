import type { Knex } from 'knex';

// Numbers people read (proposal 12, contract 7, fatura 103): per tenant and gapless enough for
// people; the advisory lock orders concurrent creations inside the tenant transaction.
export async function nextNumber(trx: Knex.Transaction, table: 'contracts' | 'proposals' | 'invoices', tenantId: string): Promise<number> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${table}:${tenantId}`]);
  const row = await trx(table).max<{ max: number | null }>('number as max').first();
  return (row?.max ?? 0) + 1;
}
