import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor } from '../domain/actor';
import type { ConsentAction, ConsentChannel, ConsentPurpose } from '../domain/sales-statuses';
import { ConsentEvent, Contact } from './models';

// The consent ledger (LGPD art. 8): every grant and withdrawal is a new row, never an edit (the
// table's trigger refuses UPDATE and DELETE). A contact's current consent for a purpose is the
// latest row for it; without any row there is none.

export interface ConsentRecord {
  tenantId: string;
  contactId: string;
  purpose: ConsentPurpose;
  action: ConsentAction;
  channel: ConsentChannel;
  // The version of the text the person agreed to; required for a grant (the table's CHECK).
  textVersion?: string | null;
  evidence?: Record<string, unknown>;
  recordedBy: Actor;
  occurredAt?: Date;
}

export async function recordConsent(trx: Knex.Transaction, r: ConsentRecord): Promise<ConsentEvent> {
  return ConsentEvent.query(trx).insertAndFetch({
    id: randomUUID(),
    tenantId: r.tenantId,
    contactId: r.contactId,
    purpose: r.purpose,
    action: r.action,
    channel: r.channel,
    textVersion: r.textVersion ?? null,
    evidence: r.evidence ?? {},
    recordedByType: r.recordedBy.type,
    recordedById: r.recordedBy.id,
    occurredAt: r.occurredAt ?? new Date(),
  });
}

export interface CurrentConsent {
  granted: boolean;
  since: Date | null;
  textVersion: string | null;
  channel: ConsentChannel | null;
}

export async function currentConsent(trx: Knex.Transaction, tenantId: string, contactId: string, purpose: ConsentPurpose): Promise<CurrentConsent> {
  const last = await ConsentEvent.query(trx).where({ tenantId, contactId, purpose }).orderBy('seq', 'desc').first();
  if (!last) return { granted: false, since: null, textVersion: null, channel: null };
  return { granted: last.action === 'granted', since: last.occurredAt, textVersion: last.textVersion, channel: last.channel };
}

// A marketing send needs consent AND a contact not flagged "do not contact" (SP's Não me Ligue,
// Lei 13.226/2008: it covers messages by app, whatever consent was given before the registration).
export async function marketingAllowed(trx: Knex.Transaction, tenantId: string, contactId: string): Promise<boolean> {
  const contact = await Contact.query(trx).findById(contactId).select('doNotContact');
  if (!contact || contact.doNotContact) return false;
  return (await currentConsent(trx, tenantId, contactId, 'marketing')).granted;
}

// Every purpose's current state at once, for the contact's consent view.
export async function currentConsents(trx: Knex.Transaction, tenantId: string, contactId: string): Promise<Map<ConsentPurpose, CurrentConsent>> {
  const rows = await ConsentEvent.query(trx)
    .where({ tenantId, contactId })
    .distinctOn('purpose')
    .orderBy([{ column: 'purpose' }, { column: 'seq', order: 'desc' }]);
  return new Map(rows.map((r) => [r.purpose, { granted: r.action === 'granted', since: r.occurredAt, textVersion: r.textVersion, channel: r.channel }]));
}
