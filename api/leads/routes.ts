import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { intakeLead } from '../../activities/lead-intake';
import { emitLeadUpdated, moveLeadStage } from '../../activities/lead-stages';
import { Contact, Lead, LeadEvent, Offering, User } from '../../db/models';
import { isUniqueViolation, withTenant } from '../../db/tenant-scope';
import { interestKey } from '../../domain/lead-interest';
import { SALES_ROLES } from '../../domain/roles';
import { LEAD_STAGES, type LeadSource } from '../../domain/sales-statuses';
import type { Principal } from '../auth/principal';
import { decodeCursor, encodeCursor, pageQuery } from '../pagination';
import { badRequest, conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { boardQuery, createLeadBody, leadView, patchLeadBody, stageBody, timelineItem, toLeadView, type LeadView } from './schema';
import { leadTimeline } from './timeline';

// Leads: the board (by stage, with filters and keyset pages), a lead, its timeline, and the
// changes staff make (owner, interest, score, stage). Arrivals go through the intake, which joins
// a duplicate to the open lead of the same interest.

const readers = { roles: SALES_ROLES, scopes: ['leads:read' as const] };
const writers = { roles: SALES_ROLES, scopes: ['leads:write' as const] };
const idParam = uuidParam('leadId');

async function leadRow(db: Knex.Transaction, id: string, lock = false): Promise<Lead> {
  const q = Lead.query(db).findById(id);
  const row = await (lock ? q.forUpdate() : q);
  if (!row) throw notFound('Lead não encontrado.');
  return row;
}

async function viewsOf(db: Knex.Transaction, leads: Lead[]): Promise<LeadView[]> {
  const ids = [...new Set(leads.map((l) => l.contactId))];
  const contacts = ids.length ? await Contact.query(db).whereIn('id', ids) : [];
  const byId = new Map(contacts.map((c) => [c.id, c]));
  return leads.map((l) => toLeadView(l, byId.get(l.contactId)));
}

const oneView = async (db: Knex.Transaction, lead: Lead) => (await viewsOf(db, [lead]))[0] as LeadView;

const invalid = (path: string, detail: string) => badRequest(detail, [{ path, message: detail }]);

export const createLead = route({
  method: 'post',
  path: '/leads',
  summary: 'A lead arrives (staff, or an automation with leads:write); the same contact and interest while open joins the open lead',
  tags: ['leads'],
  access: writers,
  idempotencyKey: true,
  body: createLeadBody,
  responses: {
    201: { description: 'A new lead; its nurturing started', schema: leadView.extend({ created: z.literal(true) }) },
    200: { description: 'Joined the open lead of this contact and interest', schema: leadView.extend({ created: z.literal(false) }) },
    400: { description: 'Unknown contact or offering' },
  },
  async handler({ body, db, deps, tenantId, actor, principal, idempotencyKey }) {
    if (body.contact.id && !(await Contact.query(db).findById(body.contact.id))) throw invalid('body.contact.id', 'Contato não encontrado.');
    if (body.offeringId && !(await Offering.query(db).findById(body.offeringId))) throw invalid('body.offeringId', 'Oferta não encontrada.');
    const source: LeadSource = principal.kind === 'apiKey' ? 'automation' : (body.source ?? 'staff');
    // Committed on its own: the nurturing workflow starts only once the lead is there to read.
    const { lead, created } = await intakeLead(deps, {
      tenantId,
      contact: body.contact,
      offeringId: body.offeringId ?? null,
      interest: body.interest,
      source,
      sourceDetail: body.sourceDetail ?? null,
      actor,
      idempotencyKey,
    });
    const fresh = await leadRow(db, lead.id);
    return { status: created ? 201 : 200, headers: { location: `/api/leads/${lead.id}` }, body: { ...(await oneView(db, fresh)), created } };
  },
});

const boardCursor = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

function filtered(db: Knex.Transaction, query: z.infer<typeof boardQuery>, principal: Principal, withStage: boolean) {
  const qb = Lead.query(db);
  if (withStage && query.stage) qb.where('leads.stage', query.stage);
  if (query.ownerId === 'none') qb.whereNull('leads.ownerId');
  else if (query.ownerId === 'me') {
    if (principal.kind !== 'user') throw invalid('query.ownerId', 'ownerId=me só vale para usuários.');
    qb.where('leads.ownerId', principal.userId);
  } else if (query.ownerId) qb.where('leads.ownerId', query.ownerId);
  if (query.source) qb.where('leads.source', query.source);
  if (query.temperature) qb.where('leads.temperature', query.temperature);
  if (query.offeringId) qb.where('leads.offeringId', query.offeringId);
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    qb.where((w) =>
      w.whereILike('leads.interest', like).orWhereExists((sub) =>
        sub
          .from('contacts')
          .whereRaw('contacts.id = leads.contact_id')
          .where((c) => c.whereILike('contacts.name', like).orWhereILike('contacts.profileName', like).orWhereILike('contacts.email', like).orWhereILike('contacts.waId', like)),
      ),
    );
  }
  return qb;
}

export const listLeads = route({
  method: 'get',
  path: '/leads',
  summary: 'The leads board: newest first with filters (stage, owner, source, temperature, offering, text), and the count per stage under the same filters',
  tags: ['leads'],
  access: readers,
  query: pageQuery.extend(boardQuery.shape),
  responses: {
    200: {
      description: 'A page of leads and the counts per stage',
      schema: z.object({ items: z.array(leadView), nextCursor: z.string().nullable(), counts: z.record(z.enum(LEAD_STAGES), z.number().int()) }),
    },
  },
  async handler({ query, db, principal }) {
    const qb = filtered(db, query, principal, true);
    if (query.cursor) {
      const c = decodeCursor(boardCursor, query.cursor);
      qb.whereRaw(`(date_trunc('milliseconds', leads.created_at), leads.id) < (?::timestamptz, ?::uuid)`, [c.createdAt, c.id]);
    }
    const rows = await qb.orderByRaw(`date_trunc('milliseconds', leads.created_at) DESC, leads.id DESC`).limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null;
    const grouped = (await filtered(db, query, principal, false).select('leads.stage').count('* as n').groupBy('leads.stage')) as unknown as { stage: string; n: string }[];
    const counts = Object.fromEntries(LEAD_STAGES.map((s) => [s, Number(grouped.find((g) => g.stage === s)?.n ?? 0)]));
    return { body: { items: await viewsOf(db, page), nextCursor, counts } };
  },
});

export const getLead = route({
  method: 'get',
  path: '/leads/:leadId',
  summary: 'One lead',
  tags: ['leads'],
  access: readers,
  params: idParam,
  responses: { 200: { description: 'The lead', schema: leadView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db }) {
    return { body: await oneView(db, await leadRow(db, params.leadId)) };
  },
});

export const getLeadTimeline = route({
  method: 'get',
  path: '/leads/:leadId/timeline',
  summary: 'The lead’s timeline, newest first: messages, lead events (cadence steps, stage changes), appointments, consent, proposals, contracts',
  tags: ['leads'],
  access: readers,
  params: idParam,
  query: pageQuery,
  responses: { 200: { description: 'A page of the timeline', schema: z.object({ items: z.array(timelineItem), nextCursor: z.string().nullable() }) }, 404: { description: 'Not in this tenant' } },
  async handler({ params, query, db }) {
    const lead = await leadRow(db, params.leadId);
    return { body: await leadTimeline(db, lead, query) };
  },
});

export const patchLead = route({
  method: 'patch',
  path: '/leads/:leadId',
  summary: 'Change a lead’s owner, interest or offering, or override its score',
  tags: ['leads'],
  access: writers,
  params: idParam,
  body: patchLeadBody,
  responses: { 200: { description: 'Updated', schema: leadView }, 404: { description: 'Not in this tenant' }, 409: { description: 'Another open lead of this contact has that interest' } },
  async handler({ params, body, db, deps, actor, tenantId }) {
    const lead = await leadRow(db, params.leadId, true);
    if (body.ownerId) {
      const owner = await User.query(db).findById(body.ownerId);
      if (!owner || !owner.active || !(SALES_ROLES as readonly string[]).includes(owner.role)) throw invalid('body.ownerId', 'O responsável precisa ser um usuário ativo de vendas.');
    }
    if (body.offeringId && !(await Offering.query(db).findById(body.offeringId))) throw invalid('body.offeringId', 'Oferta não encontrada.');
    const now = new Date();
    const patch: Partial<Lead> = { updatedAt: now };
    if (body.ownerId !== undefined) patch.ownerId = body.ownerId;
    if (body.interest !== undefined) patch.interest = body.interest;
    if (body.offeringId !== undefined) patch.offeringId = body.offeringId;
    if (body.interest !== undefined || body.offeringId !== undefined) {
      patch.interestKey = interestKey({ offeringId: patch.offeringId !== undefined ? patch.offeringId : lead.offeringId, interest: patch.interest ?? lead.interest });
    }
    if (body.score !== undefined) {
      patch.score = body.score;
      patch.scoreReasons = ['Pontuação definida manualmente pela equipe.'];
    }
    if (body.temperature !== undefined) patch.temperature = body.temperature;
    let updated: Lead;
    try {
      updated = await db.transaction(async (sp) => Lead.query(sp).patchAndFetchById(lead.id, patch));
    } catch (err) {
      if (isUniqueViolation(err, 'leads_open_interest')) throw conflict('Este contato já tem um lead aberto com este interesse.');
      throw err;
    }
    const event = (type: 'assigned' | 'scored' | 'note', data: Record<string, unknown>) =>
      LeadEvent.query(db).insert({ id: randomUUID(), tenantId, leadId: lead.id, type, data, actorType: actor.type, actorId: actor.id, occurredAt: now });
    if (body.ownerId !== undefined && body.ownerId !== lead.ownerId) await event('assigned', { from: lead.ownerId, to: body.ownerId });
    if (body.score !== undefined || body.temperature !== undefined) await event('scored', { score: updated.score, temperature: updated.temperature, manual: true });
    if (patch.interestKey !== undefined) await event('note', { change: 'interest', interest: updated.interest, offeringId: updated.offeringId });
    await emitLeadUpdated(deps, updated);
    return { body: await oneView(db, updated) };
  },
});

export const moveLead = route({
  method: 'post',
  path: '/leads/:leadId/stage',
  summary: 'Move a lead along the funnel (won and lost end its nurturing); 409 when the lead is already closed',
  tags: ['leads'],
  access: writers,
  params: idParam,
  body: stageBody,
  responses: { 200: { description: 'The lead at its stage', schema: leadView }, 404: { description: 'Not in this tenant' }, 409: { description: 'Refused (the lead is closed)' } },
  async handler({ params, body, db, deps, tenantId, actor }) {
    await leadRow(db, params.leadId);
    const r = await moveLeadStage(deps, { tenantId, leadId: params.leadId, stage: body.stage, actor, reason: body.reason });
    if (r.outcome === 'not_found') throw notFound('Lead não encontrado.');
    if (r.outcome === 'refused') throw conflict(r.reason);
    const lead = await withTenant(deps.knex, tenantId, async (trx) => Lead.query(trx).findById(params.leadId).throwIfNotFound());
    return { body: await oneView(db, lead) };
  },
});

export const leadRoutes = [createLead, listLeads, getLead, getLeadTimeline, patchLead, moveLead];
