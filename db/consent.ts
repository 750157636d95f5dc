import type { Knex } from 'knex';
import { ConsentEvent } from './models';
import type { ConsentChannel, ConsentPurpose } from '../domain/sales-statuses';

// STAND-IN written by the nurturing branch until the leads branch's db/consent.ts lands on main
// (same name and shape; the merge keeps the leads branch's). A contact's current consent for a
// purpose is the latest row of the append-only ledger.

export interface CurrentConsent {
  granted: boolean;
  since: Date | null;
  textVersion: string | null;
  channel: ConsentChannel | null;
}

export async function currentConsent(trx: Knex | Knex.Transaction, tenantId: string, contactId: string, purpose: ConsentPurpose): Promise<CurrentConsent> {
  const last = await ConsentEvent.query(trx).where({ tenantId, contactId, purpose }).orderBy('seq', 'desc').first();
  if (!last) return { granted: false, since: null, textVersion: null, channel: null };
  return { granted: last.action === 'granted', since: last.occurredAt, textVersion: last.textVersion, channel: last.channel };
}
