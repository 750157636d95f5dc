import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { currentConsents, recordConsent } from '../../db/consent';
import { ConsentEvent, Contact } from '../../db/models';
import { isUniqueViolation } from '../../db/tenant-scope';
import { SALES_ROLES } from '../../domain/roles';
import { CONSENT_PURPOSES } from '../../domain/sales-statuses';
import { withdrawMarketingConsent } from '../../activities/marketing-consent';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import {
  consentBody,
  consentEventView,
  consentsView,
  contactView,
  createContactBody,
  patchContactBody,
  toConsentEventView,
  toContactView,
  toCurrentConsentView,
} from './schema';

// The people leads belong to, and their consent ledger (LGPD art. 8): grants and withdrawals
// are appended, never edited; withdrawing is free and takes effect at once.

// Finance works with the same people as customers: their CPF/CNPJ for a charge, "do not contact".
const readers = { roles: [...SALES_ROLES, 'ATTENDANT' as const, 'FINANCE' as const], scopes: ['leads:read' as const] };
const writers = { roles: [...SALES_ROLES, 'FINANCE' as const], scopes: ['leads:write' as const] };

async function contactRow(db: Knex.Transaction, id: string): Promise<Contact> {
  const row = await Contact.query(db).findById(id);
  if (!row) throw notFound('Contato não encontrado.');
  return row;
}

const waIdTaken = (err: unknown) => isUniqueViolation(err, 'contacts_wa_id');

export const listContacts = route({
  method: 'get',
  path: '/contacts',
  summary: 'Contacts, newest first; q searches name, e-mail and number',
  tags: ['contacts'],
  access: readers,
  query: pageQuery.extend({ q: z.string().trim().min(1).max(100).optional() }),
  responses: { 200: { description: 'A page of contacts', schema: pageOf(contactView) } },
  async handler({ query, db }) {
    const qb = Contact.query(db);
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.where((w) => w.whereILike('name', like).orWhereILike('email', like).orWhereILike('profileName', like).orWhereILike('waId', like));
    }
    const { rows, nextCursor } = await keysetPage(qb, query);
    return { body: { items: rows.map(toContactView), nextCursor } };
  },
});

export const createContact = route({
  method: 'post',
  path: '/contacts',
  summary: 'Add a contact by WhatsApp number',
  tags: ['contacts'],
  access: writers,
  body: createContactBody,
  responses: { 201: { description: 'Created', schema: contactView }, 409: { description: 'A contact with this number exists' } },
  async handler({ body, db, tenantId, audit }) {
    const id = randomUUID();
    let row: Contact;
    try {
      row = await Contact.query(db).insertAndFetch({ id, tenantId, waId: body.waId, name: body.name ?? null, email: body.email ?? null });
    } catch (err) {
      if (waIdTaken(err)) throw conflict('Já existe um contato com este número.');
      throw err;
    }
    await audit({ action: 'contact.created', entityType: 'contact', entityId: id, details: {} });
    return { status: 201, headers: { location: `/api/contacts/${id}` }, body: toContactView(row) };
  },
});

export const getContact = route({
  method: 'get',
  path: '/contacts/:contactId',
  summary: 'One contact',
  tags: ['contacts'],
  access: readers,
  params: uuidParam('contactId'),
  responses: { 200: { description: 'The contact', schema: contactView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db }) {
    return { body: toContactView(await contactRow(db, params.contactId)) };
  },
});

export const patchContact = route({
  method: 'patch',
  path: '/contacts/:contactId',
  summary: 'Change a contact’s name, e-mail, number, CPF/CNPJ or do-not-contact flag',
  tags: ['contacts'],
  access: writers,
  params: uuidParam('contactId'),
  body: patchContactBody,
  responses: { 200: { description: 'Updated', schema: contactView }, 404: { description: 'Not in this tenant' }, 409: { description: 'Number in use' } },
  async handler({ params, body, db, audit }) {
    const row = await contactRow(db, params.contactId);
    let updated: Contact;
    try {
      const now = new Date();
      const flag =
        body.doNotContact === undefined
          ? {}
          : body.doNotContact
            ? { doNotContactAt: row.doNotContact ? row.doNotContactAt : now, doNotContactReason: body.doNotContactReason ?? row.doNotContactReason ?? 'solicitado' }
            : { doNotContactAt: null, doNotContactReason: null };
      updated = await Contact.query(db).patchAndFetchById(row.id, { ...body, ...flag, updatedAt: now });
    } catch (err) {
      if (waIdTaken(err)) throw conflict('Já existe um contato com este número.');
      throw err;
    }
    await audit({ action: 'contact.updated', entityType: 'contact', entityId: row.id, details: { fields: Object.keys(body) } });
    return { body: toContactView(updated) };
  },
});

export const recordContactConsent = route({
  method: 'post',
  path: '/contacts/:contactId/consents',
  summary: 'Record a grant (with purpose, channel, text version, evidence) or a withdrawal; a marketing withdrawal stops every cadence at once',
  tags: ['contacts'],
  access: writers,
  params: uuidParam('contactId'),
  body: consentBody,
  responses: { 201: { description: 'Appended to the ledger', schema: consentEventView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, body, db, deps, tenantId, actor, audit }) {
    const contact = await contactRow(db, params.contactId);
    await audit({ action: `consent.${body.action}`, entityType: 'contact', entityId: contact.id, details: { purpose: body.purpose, channel: body.channel } });
    if (body.purpose === 'marketing' && body.action === 'withdrawn') {
      // Committed on its own before the cadences hear of it (they read the ledger).
      const { event } = await withdrawMarketingConsent(deps, { tenantId, contactId: contact.id, channel: body.channel, evidence: body.evidence, actor });
      if (!event) throw new Error('withdrawal without a dedupe key always records');
      return { status: 201, body: toConsentEventView(event) };
    }
    const event = await recordConsent(db, {
      tenantId,
      contactId: contact.id,
      purpose: body.purpose,
      action: body.action,
      channel: body.channel,
      textVersion: body.textVersion ?? null,
      evidence: body.evidence,
      recordedBy: actor,
    });
    return { status: 201, body: toConsentEventView(event) };
  },
});

export const listContactConsents = route({
  method: 'get',
  path: '/contacts/:contactId/consents',
  summary: 'The consent ledger (newest first) and the current state per purpose',
  tags: ['contacts'],
  access: readers,
  params: uuidParam('contactId'),
  responses: { 200: { description: 'Ledger and current state', schema: consentsView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db, tenantId }) {
    const contact = await contactRow(db, params.contactId);
    const ledger = await ConsentEvent.query(db).where({ contactId: contact.id }).orderBy('seq', 'desc').limit(500);
    const state = await currentConsents(db, tenantId, contact.id);
    const none = { granted: false, since: null, textVersion: null, channel: null };
    const current = Object.fromEntries(CONSENT_PURPOSES.map((p) => [p, toCurrentConsentView(state.get(p) ?? none)]));
    return { body: { current, ledger: ledger.map(toConsentEventView) } };
  },
});

export const contactRoutes = [listContacts, createContact, getContact, patchContact, recordContactConsent, listContactConsents];
