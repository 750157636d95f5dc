import { randomUUID } from 'node:crypto';
import { sha256 } from '../../infra/secret-tokens';
import { z } from 'zod';
import { Contract, Lead, Proposal } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import { todayIn } from '../../domain/contract-template';
import { proposalTotals } from '../../domain/proposal-totals';
import { SALES_ROLES } from '../../domain/roles';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { nextNumber } from '../../db/numbering';
import { keysetPage, pageOf } from '../pagination';
import { badRequest, notFound } from '../problem';
import { publicRoute, route } from '../route';
import { clientOf } from '../public-signing/routes';
import { uuidParam } from '../schemas';
import { decideProposal, isExpired, proposalExpired, sendProposal } from './proposal-service';
import {
  acceptProposalBody,
  createProposalBody,
  dateOnly,
  proposalListQuery,
  proposalToken,
  proposalView,
  publicProposalView,
  rejectProposalBody,
  toProposalView,
} from './schema';

const write = { roles: SALES_ROLES, scopes: ['proposals:write' as const] };
const read = { roles: SALES_ROLES, scopes: ['leads:read' as const] };
const idParam = uuidParam('proposalId');
const decided = z.object({ proposal: proposalView, contractId: z.uuid().nullable() });

async function contractIdOf(db: Parameters<typeof Contract.query>[0], proposalId: string) {
  return (await Contract.query(db).where({ proposalId }).select('id').first())?.id ?? null;
}

export const createProposal = route({
  method: 'post',
  path: '/leads/:leadId/proposals',
  summary: 'Drafts a proposal for a lead: items and discounts in centavos, a validity date',
  tags: ['proposals'],
  access: write,
  params: uuidParam('leadId'),
  body: createProposalBody,
  responses: { 201: { description: 'Drafted', schema: proposalView }, 404: { description: 'No such lead' } },
  async handler({ params, body, db, tenantId, actor }) {
    const lead = await Lead.query(db).findById(params.leadId);
    if (!lead) throw notFound('Lead não encontrado.');
    const tz = (await readTenantSettings(db, tenantId))?.settings.timeZone ?? DEFAULT_TENANT_SETTINGS.timeZone;
    if (body.validUntil < todayIn(tz, new Date())) {
      throw badRequest('A validade não pode ser anterior a hoje.', [{ path: 'body.validUntil', message: 'data no passado (fuso do tenant)', code: 'too_small' }]);
    }
    const totals = proposalTotals(body.items, body.discountCents);
    const proposal = await Proposal.query(db).insertAndFetch({
      id: randomUUID(),
      tenantId,
      leadId: lead.id,
      contactId: lead.contactId,
      number: await nextNumber(db, 'proposals', tenantId),
      status: 'draft',
      items: totals.items.map((i) => ({ offeringId: i.offeringId ?? null, description: i.description, quantity: i.quantity, unitPriceCents: i.unitPriceCents, discountCents: i.discountCents, totalCents: i.totalCents })),
      subtotalCents: totals.subtotalCents,
      discountCents: totals.discountCents,
      totalCents: totals.totalCents,
      validUntil: body.validUntil,
      notes: body.notes ?? null,
      createdBy: actor.type === 'user' ? actor.id : null,
    });
    return { status: 201, body: toProposalView(proposal) };
  },
});

export const listProposals = route({
  method: 'get',
  path: '/proposals',
  summary: 'Proposals by status and lead, newest first (keyset pages)',
  tags: ['proposals'],
  access: read,
  query: proposalListQuery,
  responses: { 200: { description: 'A page of proposals', schema: pageOf(proposalView) } },
  async handler({ query, db }) {
    const qb = Proposal.query(db);
    if (query.status) qb.where({ status: query.status });
    if (query.leadId) qb.where({ leadId: query.leadId });
    const page = await keysetPage(qb, query);
    const contracts = page.rows.length ? await Contract.query(db).whereIn('proposalId', page.rows.map((p) => p.id)).select('id', 'proposalId') : [];
    return { body: { items: page.rows.map((p) => toProposalView(p, contracts.find((c) => c.proposalId === p.id)?.id ?? null)), nextCursor: page.nextCursor } };
  },
});

export const getProposal = route({
  method: 'get',
  path: '/proposals/:proposalId',
  summary: 'A proposal, with its contract once accepted',
  tags: ['proposals'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The proposal', schema: proposalView }, 404: { description: 'No such proposal' } },
  async handler({ params, db }) {
    const p = await Proposal.query(db).findById(params.proposalId);
    if (!p) throw notFound('Proposta não encontrada.');
    return { body: toProposalView(p, await contractIdOf(db, p.id)) };
  },
});

export const sendProposalRoute = route({
  method: 'post',
  path: '/proposals/:proposalId/send',
  summary: 'Sends the proposal to the contact over WhatsApp with a link to accept or reject it; the lead moves to proposal',
  tags: ['proposals'],
  access: write,
  params: idParam,
  idempotencyKey: true,
  responses: { 200: { description: 'Sent', schema: proposalView }, 404: { description: 'No such proposal' }, 409: { description: 'Already decided' }, 410: { description: 'Past its validity' } },
  async handler({ params, deps, tenantId, actor, idempotencyKey }) {
    return { body: toProposalView(await sendProposal(deps, tenantId, params.proposalId, actor, idempotencyKey)) };
  },
});

export const acceptProposal = route({
  method: 'post',
  path: '/proposals/:proposalId/accept',
  summary: 'Accepts on the customer’s behalf: the contract is created and its signing starts',
  tags: ['proposals'],
  access: write,
  params: idParam,
  body: acceptProposalBody,
  idempotencyKey: true,
  responses: { 200: { description: 'Accepted', schema: decided }, 404: { description: 'No such proposal' }, 409: { description: 'Already decided' }, 410: { description: 'Past its validity' } },
  async handler({ params, body, deps, tenantId, actor }) {
    const r = await decideProposal(deps, tenantId, params.proposalId, { outcome: 'accepted', by: 'staff', actor, contract: body });
    return { body: { proposal: toProposalView(r.proposal, r.contractId), contractId: r.contractId } };
  },
});

export const rejectProposal = route({
  method: 'post',
  path: '/proposals/:proposalId/reject',
  summary: 'Records the customer’s rejection, with the reason',
  tags: ['proposals'],
  access: write,
  params: idParam,
  body: rejectProposalBody,
  responses: { 200: { description: 'Rejected', schema: decided }, 404: { description: 'No such proposal' }, 409: { description: 'Already decided' }, 410: { description: 'Past its validity' } },
  async handler({ params, body, deps, tenantId, actor }) {
    const r = await decideProposal(deps, tenantId, params.proposalId, { outcome: 'rejected', by: 'staff', actor, reason: body.reason });
    return { body: { proposal: toProposalView(r.proposal), contractId: null } };
  },
});

// --- The customer's link ------------------------------------------------------------------
const UNKNOWN = 'Proposta não encontrada. Confira se o link está completo.';

async function findProposalLink(deps: { knex: import('knex').Knex }, token: string) {
  const { rows } = await deps.knex.raw('SELECT proposal_id, tenant_id FROM public_find_proposal_link(?)', [sha256(token)]);
  const row = rows[0] as { proposal_id: string; tenant_id: string } | undefined;
  if (!row) throw notFound(UNKNOWN);
  return { proposalId: row.proposal_id, tenantId: row.tenant_id };
}

export const publicProposal = publicRoute({
  method: 'get',
  path: '/public/proposals/:token',
  summary: 'The proposal as its customer sees it',
  tags: ['public'],
  params: proposalToken,
  responses: { 200: { description: 'The proposal', schema: publicProposalView }, 404: { description: 'Unknown link' }, 410: { description: 'Past its validity' } },
  async handler({ params, deps }) {
    const link = await findProposalLink(deps, params.token);
    return withTenant(deps.knex, link.tenantId, async (trx) => {
      const p = await Proposal.query(trx).findById(link.proposalId);
      if (!p) throw notFound(UNKNOWN);
      if (p.status === 'sent' && (await isExpired(trx, link.tenantId, p))) throw proposalExpired(dateOnly(p.validUntil));
      const tenant = await trx('tenants').where({ id: link.tenantId }).first('name');
      const v = toProposalView(p);
      return { body: { number: v.number, status: v.status, items: v.items, subtotalCents: v.subtotalCents, discountCents: v.discountCents, totalCents: v.totalCents, validUntil: v.validUntil, notes: v.notes, tenantName: tenant?.name ?? '' } };
    });
  },
});

export const publicAcceptProposal = publicRoute({
  method: 'post',
  path: '/public/proposals/:token/accept',
  summary: 'The customer accepts (IP and user agent recorded); the contract’s signing links follow on WhatsApp',
  tags: ['public'],
  params: proposalToken,
  responses: { 200: { description: 'Accepted', schema: z.object({ status: z.literal('accepted') }) }, 404: { description: 'Unknown link' }, 409: { description: 'Already decided' }, 410: { description: 'Past its validity' } },
  async handler({ params, deps, koa }) {
    const link = await findProposalLink(deps, params.token);
    const client = clientOf(koa);
    await decideProposal(deps, link.tenantId, link.proposalId, { outcome: 'accepted', by: 'customer', actor: null, evidence: { ...client, at: new Date().toISOString() } });
    return { body: { status: 'accepted' as const } };
  },
});

export const publicRejectProposal = publicRoute({
  method: 'post',
  path: '/public/proposals/:token/reject',
  summary: 'The customer rejects, with a reason (IP and user agent recorded)',
  tags: ['public'],
  params: proposalToken,
  body: rejectProposalBody,
  responses: { 200: { description: 'Rejected', schema: z.object({ status: z.literal('rejected') }) }, 404: { description: 'Unknown link' }, 409: { description: 'Already decided' }, 410: { description: 'Past its validity' } },
  async handler({ params, body, deps, koa }) {
    const link = await findProposalLink(deps, params.token);
    const client = clientOf(koa);
    await decideProposal(deps, link.tenantId, link.proposalId, { outcome: 'rejected', by: 'customer', actor: null, reason: body.reason, evidence: { ...client, at: new Date().toISOString() } });
    return { body: { status: 'rejected' as const } };
  },
});

export const proposalRoutes = [createProposal, listProposals, getProposal, sendProposalRoute, acceptProposal, rejectProposal, publicProposal, publicAcceptProposal, publicRejectProposal];
