import { z } from 'zod';
import { Contract, ContractDocument, ContractEvent, ContractSigner } from '../../db/models';
import { SALES_ROLES } from '../../domain/roles';
import { cancelContractUpdate, contractSigningStateQuery, type ContractSigningView } from '../../workflows/contract-signing';
import { keysetPage, pageOf } from '../pagination';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow, queryBestEffort } from '../workflow-calls';
import { contractSpecFromProposal, createContract } from './contract-service';
import {
  cancelContractBody,
  contractEventView,
  contractListQuery,
  contractView,
  createContractBody,
  documentQuery,
  toContractEventView,
  toContractView,
} from './schema';

// Contracts: created from an accepted proposal or standalone, each driven by its signing
// workflow; staff read them with their signers and evidence, download the documents and cancel.

const read = { roles: SALES_ROLES, scopes: ['contracts:read' as const] };
const write = { roles: SALES_ROLES, scopes: ['contracts:write' as const] };
const idParam = uuidParam('contractId');

async function contractWithSigners(db: Parameters<typeof Contract.query>[0], id: string) {
  const contract = await Contract.query(db).findById(id);
  if (!contract) throw notFound('Contrato não encontrado.');
  const signers = await ContractSigner.query(db).where({ contractId: id }).orderBy(['position', 'id']);
  return { contract, signers };
}

export const createContractRoute = route({
  method: 'post',
  path: '/contracts',
  summary: 'Creates a contract (from a proposal, or standalone with its total and signers) and starts its signing',
  tags: ['contracts'],
  access: write,
  body: createContractBody,
  responses: { 201: { description: 'Created; the signing workflow has started', schema: contractView }, 404: { description: 'No such proposal, contact or template' }, 409: { description: 'The proposal already has a contract' } },
  async handler({ body, deps, tenantId, actor, db }) {
    const overrides = {
      ...(body.signers ? { signers: body.signers } : {}),
      ...(body.signingOrder ? { signingOrder: body.signingOrder } : {}),
      ...(body.templateId ? { templateId: body.templateId } : {}),
      ...(body.title ? { title: body.title } : {}),
      ...(body.billingTerms ? { billingTerms: body.billingTerms } : {}),
    };
    const spec = body.proposalId
      ? await contractSpecFromProposal(deps, tenantId, body.proposalId, overrides)
      : { contactId: body.contactId as string, leadId: body.leadId ?? null, totalCents: body.totalCents as number, signers: body.signers ?? [], ...overrides };
    const contract = await createContract(deps, tenantId, actor, spec);
    const { signers } = await contractWithSigners(db, contract.id);
    return { status: 201, body: toContractView(contract, signers) };
  },
});

export const listContracts = route({
  method: 'get',
  path: '/contracts',
  summary: 'Contracts with their signing status, newest first (keyset pages)',
  tags: ['contracts'],
  access: read,
  query: contractListQuery,
  responses: { 200: { description: 'A page of contracts', schema: pageOf(contractView) } },
  async handler({ query, db }) {
    const qb = Contract.query(db);
    if (query.status) qb.where({ status: query.status });
    if (query.leadId) qb.where({ leadId: query.leadId });
    const page = await keysetPage(qb, query);
    const signers = page.rows.length ? await ContractSigner.query(db).whereIn('contractId', page.rows.map((c) => c.id)).orderBy(['position', 'id']) : [];
    return { body: { items: page.rows.map((c) => toContractView(c, signers.filter((s) => s.contractId === c.id))), nextCursor: page.nextCursor } };
  },
});

const liveView = z.object({ phase: z.string(), status: z.string(), nextReminderAt: z.string().nullable(), expiresAt: z.string().nullable() }).passthrough();

export const getContract = route({
  method: 'get',
  path: '/contracts/:contractId',
  summary: 'A contract with its signers, its evidence (hash-chained events) and the workflow’s live state',
  tags: ['contracts'],
  access: read,
  params: idParam,
  responses: {
    200: { description: 'The contract', schema: contractView.extend({ events: z.array(contractEventView), workflow: liveView.nullable() }) },
    404: { description: 'No such contract in this tenant' },
  },
  async handler({ params, db, deps }) {
    const { contract, signers } = await contractWithSigners(db, params.contractId);
    const events = await ContractEvent.query(db).where({ contractId: contract.id }).orderBy('seq');
    const workflow = await queryBestEffort<ContractSigningView>(deps, deps.temporal.client.workflow.getHandle(contract.workflowId), contractSigningStateQuery);
    return { body: { ...toContractView(contract, signers), events: events.map(toContractEventView), workflow } };
  },
});

export const getContractDocument = route({
  method: 'get',
  path: '/contracts/:contractId/document',
  summary: 'The rendered original or the sealed final PDF',
  tags: ['contracts'],
  access: read,
  params: idParam,
  query: documentQuery,
  responses: { 200: { description: 'application/pdf' }, 404: { description: 'No such contract or document yet' } },
  async handler({ params, query, db }) {
    const contract = await Contract.query(db).findById(params.contractId);
    if (!contract) throw notFound('Contrato não encontrado.');
    const doc = await ContractDocument.query(db).where({ contractId: contract.id, kind: query.kind }).first();
    if (!doc) throw notFound(query.kind === 'final' ? 'O documento final existe só depois de todas as assinaturas.' : 'O documento ainda não foi gerado.');
    return {
      body: doc.content,
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': `inline; filename="contrato-${contract.number}-${query.kind}.pdf"`,
        'x-document-sha256': doc.sha256,
      },
    };
  },
});

export const cancelContract = route({
  method: 'post',
  path: '/contracts/:contractId/cancel',
  summary: 'Cancels a contract: ends its signing, or, once active, compensates what billing started',
  tags: ['contracts'],
  access: write,
  params: idParam,
  body: cancelContractBody,
  idempotencyKey: true,
  responses: { 200: { description: 'Cancelled', schema: contractView }, 404: { description: 'No such contract' }, 409: { description: 'Already ended, or being finalized' } },
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const contract = await Contract.query(db).findById(params.contractId);
    if (!contract) throw notFound('Contrato não encontrado.');
    if (['declined', 'expired', 'cancelled'].includes(contract.status)) throw conflict('O contrato já foi encerrado.');
    const handle = deps.temporal.client.workflow.getHandle(contract.workflowId);
    await callWorkflow(
      deps,
      () => handle.executeUpdate(cancelContractUpdate, { args: [{ actor, reason: body.reason }], ...(idempotencyKey ? { updateId: `cancel:${idempotencyKey}` } : {}) }),
      { deadlineMs: 20_000, onNotFound: () => conflict('O processo deste contrato já terminou.') },
    );
    // Read committed: the request's transaction sees what the workflow's activities committed.
    const fresh = await contractWithSigners(db, contract.id);
    return { body: toContractView(fresh.contract, fresh.signers) };
  },
});

export const contractRoutes = [createContractRoute, listContracts, getContract, getContractDocument, cancelContract];
