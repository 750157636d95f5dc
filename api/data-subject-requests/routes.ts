import { randomUUID } from 'node:crypto';
import type { UpdateDefinition } from '@temporalio/common';
import type { Knex } from 'knex';
import { z } from 'zod';
import { registerDataSubjectRequest, workflowStartOf } from '../../activities/data-subject-requests';
import { startOnce } from '../../activities/temporal-calls';
import { DataSubjectRequest } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { OPEN_DATA_SUBJECT_REQUEST_STATUSES, protocolOf } from '../../domain/data-subject-requests';
import { PRIVACY_ROLES } from '../../domain/roles';
import { confirmIdentityUpdate, dataSubjectRequestStateQuery, refuseDataSubjectRequestUpdate } from '../../workflows/data-subject-request';
import type { ApiDeps } from '../deps';
import { decodeCursor, encodeCursor } from '../pagination';
import { badRequest, conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow, queryBestEffort } from '../workflow-calls';
import { listQuery, liveView, refuseBody, registerBody, requestView, toRequestView } from './schema';

// LGPD data-subject requests (art. 18). Staff register one for a contact (the contact may also
// ask on WhatsApp), confirm the person's identity or refuse the request; the request's workflow
// does the rest (export, correction or erasure) within the 15-day deadline and reminds them as
// it nears. The export of an access or portability request is downloaded here.

const read = { roles: PRIVACY_ROLES, scopes: ['privacy:read' as const] };
const write = { roles: PRIVACY_ROLES, scopes: ['privacy:write' as const] };
const idParam = uuidParam('requestId');
const UPDATE_DEADLINE_MS = 15_000;
const isOpen = (status: string) => (OPEN_DATA_SUBJECT_REQUEST_STATUSES as readonly string[]).includes(status);

// The list never carries the exports themselves.
const LIST_COLUMNS = (db: Knex.Transaction) => [
  'id', 'tenantId', 'number', 'contactId', 'kind', 'status', 'channel', 'sourceMessageId', 'requestedByType', 'requestedById', 'requestedAt', 'dueAt',
  'identityConfirmedBy', 'identityConfirmedAt', 'refusedBy', 'refusedAt', 'refusalReason', 'completedAt', 'completion', 'exportedAt', 'workflowId', 'createdAt', 'updatedAt',
  db.raw(`CASE WHEN export_data IS NULL THEN NULL ELSE '{}'::jsonb END AS export_data`),
];

async function requestRow(db: Knex.Transaction, id: string): Promise<DataSubjectRequest> {
  const row = await DataSubjectRequest.query(db).findById(id).select(LIST_COLUMNS(db));
  if (!row) throw notFound('Solicitação não encontrada.');
  return row;
}

const actionResponses = {
  200: { description: 'Done; the workflow’s view', schema: liveView },
  404: { description: 'No such request in this tenant' },
  409: { description: 'The request was already decided (identity confirmed, refused or completed)' },
  503: { description: 'Temporal unavailable; retry' },
};

export const registerRequest = route({
  method: 'post',
  path: '/data-subject-requests',
  summary: 'Register an LGPD request of a contact (access, portability, correction, erasure); its answer is due in 15 days',
  tags: ['privacy'],
  access: write,
  body: registerBody,
  responses: {
    201: { description: 'Registered; it waits for the identity confirmation', schema: requestView },
    400: { description: 'Invalid body, or no such contact' },
    409: { description: 'The contact already has an open request of this kind' },
  },
  async handler({ body, deps, tenantId, actor }) {
    // The row commits on its own (withTenant) before the workflow starts: its first step reads it.
    const r = await registerDataSubjectRequest(deps.knex, { tenantId, contactId: body.contactId, kind: body.kind, channel: 'staff', actor, correction: body.correction ?? null });
    if (r.outcome === 'no_contact') throw badRequest('Contato não encontrado.', [{ path: 'body.contactId', message: 'no contact with this id in the tenant' }]);
    if (r.outcome === 'existing') throw conflict(`O contato já tem uma solicitação deste tipo em aberto (protocolo ${protocolOf(r.request.number)}).`);
    try {
      await callWorkflow(deps, () => startOnce(deps, workflowStartOf(r.request)));
    } catch (err) {
      // No workflow, no request: the caller may retry.
      await withTenant(deps.knex, tenantId, async (trx) => DataSubjectRequest.query(trx).deleteById(r.request.id));
      throw err;
    }
    return { status: 201, headers: { location: `/api/data-subject-requests/${r.request.id}` }, body: toRequestView(r.request) };
  },
});

const listCursor = z.object({ at: z.iso.datetime(), id: z.uuid() });

export const listRequests = route({
  method: 'get',
  path: '/data-subject-requests',
  summary: 'LGPD requests, newest first (keyset pages), by status, kind or contact',
  tags: ['privacy'],
  access: read,
  query: listQuery,
  responses: { 200: { description: 'A page of requests', schema: z.object({ items: z.array(requestView), nextCursor: z.string().nullable() }) } },
  async handler({ query, db }) {
    const qb = DataSubjectRequest.query(db).select(LIST_COLUMNS(db));
    if (query.status) qb.where('status', query.status);
    if (query.kind) qb.where('kind', query.kind);
    if (query.contactId) qb.where('contactId', query.contactId);
    if (query.cursor) {
      const c = decodeCursor(listCursor, query.cursor);
      qb.whereRaw('(requested_at, id) < (?::timestamptz, ?::uuid)', [c.at, c.id]);
    }
    const rows = await qb.orderBy([{ column: 'requestedAt', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last ? encodeCursor({ at: last.requestedAt.toISOString(), id: last.id }) : null;
    return { body: { items: page.map(toRequestView), nextCursor } };
  },
});

export const getRequest = route({
  method: 'get',
  path: '/data-subject-requests/:requestId',
  summary: 'One LGPD request, with its workflow’s live state (deadline, next reminder) while it is open',
  tags: ['privacy'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The request', schema: requestView.extend({ live: liveView.nullable() }) }, 404: { description: 'Not found' } },
  async handler({ params, db, deps }) {
    const row = await requestRow(db, params.requestId);
    const live = isOpen(row.status) ? await queryBestEffort(deps, deps.temporal.client.workflow.getHandle(row.workflowId), dataSubjectRequestStateQuery, 2_000) : null;
    return { body: { ...toRequestView(row), live } };
  },
});

async function decide<Args extends [unknown, ...unknown[]]>(deps: ApiDeps, row: DataSubjectRequest, update: UpdateDefinition<unknown, Args>, args: Args) {
  if (row.status !== 'awaiting_identity') throw conflict(row.status === 'refused' ? 'A solicitação já foi recusada.' : 'A identidade do titular já foi confirmada.');
  const handle = deps.temporal.client.workflow.getHandle(row.workflowId);
  return callWorkflow(deps, () => handle.executeUpdate(update, { args, updateId: randomUUID() }), {
    deadlineMs: UPDATE_DEADLINE_MS,
    onNotFound: () => conflict('A solicitação já foi encerrada.'),
  });
}

export const confirmIdentity = route({
  method: 'post',
  path: '/data-subject-requests/:requestId/confirm-identity',
  summary: 'Confirm the person’s identity: only then is the request answered (export, correction or erasure)',
  tags: ['privacy'],
  access: write,
  params: idParam,
  responses: actionResponses,
  async handler({ params, db, deps, actor }) {
    const row = await requestRow(db, params.requestId);
    return { body: await decide(deps, row, confirmIdentityUpdate, [{ actor }]) };
  },
});

export const refuseRequest = route({
  method: 'post',
  path: '/data-subject-requests/:requestId/refuse',
  summary: 'Refuse the request (identity not confirmed, not a request the law covers): it ends without changing anything',
  tags: ['privacy'],
  access: write,
  params: idParam,
  body: refuseBody,
  responses: actionResponses,
  async handler({ params, body, db, deps, actor }) {
    const row = await requestRow(db, params.requestId);
    return { body: await decide(deps, row, refuseDataSubjectRequestUpdate, [{ actor, reason: body.reason }]) };
  },
});

export const downloadExport = route({
  method: 'get',
  path: '/data-subject-requests/:requestId/export',
  summary: 'The export of an access or portability request: everything held about the contact, as JSON',
  tags: ['privacy'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'application/json, as an attachment' }, 404: { description: 'No such request, or no export (yet, or cleared by an erasure)' } },
  async handler({ params, db, audit }) {
    const row = await DataSubjectRequest.query(db).findById(params.requestId);
    if (!row) throw notFound('Solicitação não encontrada.');
    if (!row.exportData) throw notFound(row.kind === 'access' || row.kind === 'portability' ? 'A exportação ainda não foi gerada (ou foi apagada por uma exclusão posterior).' : 'Esta solicitação não gera exportação.');
    // Who downloaded a person's data is on the record.
    await audit({ action: 'data_subject_request.export_downloaded', entityType: 'data_subject_request', entityId: row.id, details: { contactId: row.contactId } });
    return {
      headers: { 'content-disposition': `attachment; filename="dados-${protocolOf(row.number)}.json"`, 'cache-control': 'no-store' },
      body: row.exportData,
    };
  },
});

export const dataSubjectRequestRoutes = [registerRequest, listRequests, getRequest, confirmIdentity, refuseRequest, downloadExport];
