import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor } from '../domain/actor';
import { interestKey } from '../domain/lead-interest';
import { CLOSED_LEAD_STAGES, type LeadSource } from '../domain/sales-statuses';
import { resolveContactId } from './contacts';
import { isUniqueViolation } from './tenant-scope';
import { Lead, LeadEvent } from './models';

// Every way a lead arrives (the API, a website's form, an automation, a first WhatsApp message)
// ends here. A duplicate arrival (same contact, same interest, while a lead for it is open)
// joins that lead instead of opening a second; the unique partial index leads_open_interest
// decides between two arrivals racing.

export interface IntakeContact {
  id?: string;
  waId?: string;
  name?: string | null;
  email?: string | null;
}

export interface LeadIntake {
  tenantId: string;
  contact: IntakeContact;
  offeringId?: string | null;
  interest: string;
  source: LeadSource;
  sourceDetail?: string | null;
  // What the person wrote with it (a form's message), kept on the timeline.
  note?: string | null;
  actor: Actor;
  // The same key again (an automation retrying) finds the first arrival and does nothing more.
  idempotencyKey?: string;
}

export interface IntakeResult {
  lead: Lead;
  created: boolean;
  // The arrival was a retry of one already recorded under its idempotency key.
  replayed?: boolean;
}

const closedList = CLOSED_LEAD_STAGES.map((s) => `'${s}'`).join(', ');

// `workflowIdOf` names the process that will own the lead (the caller knows it; data does not).
export async function openOrJoinLead(trx: Knex.Transaction, i: LeadIntake, workflowIdOf: (tenantId: string, leadId: string) => string): Promise<IntakeResult> {
  const key = i.idempotencyKey ? `${i.actor.type}:${i.actor.id ?? ''}:${i.idempotencyKey}` : undefined;
  if (key) {
    const seen = await arrivalOf(trx, key);
    if (seen) return seen;
  }
  const contactId = await contactOf(trx, i);
  const iKey = interestKey({ offeringId: i.offeringId, interest: i.interest });
  const id = randomUUID();
  const now = new Date();
  const inserted: { id: string }[] = await trx('leads')
    .insert({
      id,
      tenantId: i.tenantId,
      contactId,
      offeringId: i.offeringId ?? null,
      interest: i.interest.trim(),
      interestKey: iKey,
      source: i.source,
      sourceDetail: i.sourceDetail ?? null,
      workflowId: workflowIdOf(i.tenantId, id),
      createdAt: now,
      updatedAt: now,
      stageChangedAt: now,
    })
    .onConflict(trx.raw(`(tenant_id, contact_id, interest_key) WHERE stage NOT IN (${closedList})`))
    .ignore()
    .returning('id');
  const created = inserted.length > 0;
  const lead = created
    ? await Lead.query(trx).findById(id).throwIfNotFound()
    : await Lead.query(trx).where({ contactId, interestKey: iKey }).whereNotIn('stage', CLOSED_LEAD_STAGES).forUpdate().first().throwIfNotFound();
  const data: Record<string, unknown> = {
    source: i.source,
    ...(i.sourceDetail ? { sourceDetail: i.sourceDetail } : {}),
    ...(i.interest ? { interest: i.interest.trim() } : {}),
    ...(i.offeringId ? { offeringId: i.offeringId } : {}),
    ...(i.note ? { note: i.note } : {}),
    ...(key ? { idempotencyKey: key } : {}),
  };
  try {
    // A savepoint: a concurrent retry under the same key loses here without aborting the rest.
    await trx.transaction(async (sp) => {
      await LeadEvent.query(sp).insert({
        id: randomUUID(),
        tenantId: i.tenantId,
        leadId: lead.id,
        type: created ? 'created' : 'joined',
        data,
        actorType: i.actor.type,
        actorId: i.actor.id,
        occurredAt: now,
      });
    });
  } catch (err) {
    if (!key || !isUniqueViolation(err, 'lead_events_idempotency')) throw err;
    const seen = await arrivalOf(trx, key);
    if (seen) return seen;
    throw err;
  }
  if (!created) await Lead.query(trx).patch({ updatedAt: now }).where({ id: lead.id });
  return { lead, created };
}

async function arrivalOf(trx: Knex.Transaction, key: string): Promise<IntakeResult | undefined> {
  const event = await LeadEvent.query(trx).whereRaw(`data->>'idempotencyKey' = ?`, [key]).first();
  if (!event) return undefined;
  const lead = await Lead.query(trx).findById(event.leadId).throwIfNotFound();
  return { lead, created: event.type === 'created', replayed: true };
}

// The contact named by id, or found (or created) by its WhatsApp number. Name and e-mail fill
// what the contact lacks; what staff already typed in is not overwritten by a form.
async function contactOf(trx: Knex.Transaction, i: LeadIntake): Promise<string> {
  let contactId = i.contact.id;
  if (!contactId) {
    if (!i.contact.waId) throw new Error('a lead needs a contact id or a WhatsApp number');
    contactId = await resolveContactId(trx, i.tenantId, { waId: i.contact.waId, profileName: i.contact.name ?? undefined });
  }
  const name = i.contact.name?.trim() || null;
  const email = i.contact.email?.trim().toLowerCase() || null;
  if (name || email) {
    await trx('contacts')
      .where({ id: contactId })
      .update({ name: trx.raw('coalesce(name, ?)', [name]), email: trx.raw('coalesce(email, ?)', [email]), updatedAt: new Date() });
  }
  return contactId;
}
