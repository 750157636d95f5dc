import type { Knex } from 'knex';
import type { Migration } from './index';

// `GET /api/messages?afterSeq=` reads "the tenant's messages after seq N, oldest first". The
// UNIQUE on seq alone orders the whole table, so a tenant with few recent messages was found by
// walking every other tenant's rows after N; this index starts at (tenant, N) and reads in order.
export const opsIndexes: Migration = {
  name: '008_ops_indexes',
  async up(knex: Knex) {
    await knex.raw('CREATE INDEX IF NOT EXISTS messages_tenant_seq ON messages (tenant_id, seq)');
  },
};
