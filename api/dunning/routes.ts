import { z } from 'zod';
import type { Knex } from 'knex';
import { DunningEvent, Invoice } from '../../db/models';
import { SETTLED_INVOICE_STATUSES } from '../../domain/billing-statuses';
import { BILLING_ROLES } from '../../domain/roles';
import { cancelInvoiceUpdate, dunningViewQuery, promiseToPayUpdate, renegotiateUpdate, type DunningView } from '../../workflows/dunning';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow, queryBestEffort } from '../workflow-calls';
import { cancelInvoiceBody, dunningEventView, dunningViewSchema, promiseBody, renegotiateBody, toDunningEventView } from './schema';

// An invoice's collection, as staff act on it: a promise to pay, a renegotiation into new
// invoices, a cancellation (each an update of its dunning workflow, which refuses in pt-BR what
// it cannot do), and the run's live view with its timeline. Invoices themselves (create, list)
// are the invoices routes'.

const read = { roles: BILLING_ROLES, scopes: ['invoices:read' as const] };
const write = { roles: BILLING_ROLES, scopes: ['invoices:write' as const] };
const idParam = uuidParam('invoiceId');
const SETTLED = 'Esta fatura já foi quitada, cancelada ou renegociada.';
const RUN_GONE = () => conflict('O processo de cobrança desta fatura já terminou.');

async function openInvoice(db: Knex.Transaction, id: string): Promise<Invoice> {
  const inv = await Invoice.query(db).findById(id);
  if (!inv) throw notFound('Fatura não encontrada.');
  if ((SETTLED_INVOICE_STATUSES as readonly string[]).includes(inv.status)) throw conflict(SETTLED);
  return inv;
}

export const promiseToPay = route({
  method: 'post',
  path: '/invoices/:invoiceId/promise',
  summary: 'Records a promise to pay: the collection pauses until the end of the promised date',
  tags: ['dunning'],
  access: write,
  params: idParam,
  body: promiseBody,
  idempotencyKey: true,
  responses: { 200: { description: 'Paused until the promised date', schema: dunningViewSchema }, 404: { description: 'No such invoice' }, 409: { description: 'Settled, or the date refused' } },
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const inv = await openInvoice(db, params.invoiceId);
    const handle = deps.temporal.client.workflow.getHandle(inv.workflowId);
    const view = await callWorkflow(
      deps,
      () =>
        handle.executeUpdate(promiseToPayUpdate, {
          args: [{ promisedDate: body.promisedDate, amountCents: body.amountCents ?? null, note: body.note ?? null, actor }],
          ...(idempotencyKey ? { updateId: `promise:${idempotencyKey}` } : {}),
        }),
      { deadlineMs: 20_000, onNotFound: RUN_GONE },
    );
    return { body: view };
  },
});

export const renegotiateInvoice = route({
  method: 'post',
  path: '/invoices/:invoiceId/renegotiate',
  summary: 'Replaces an unpaid invoice with installments, each a new invoice with its own collection',
  tags: ['dunning'],
  access: write,
  params: idParam,
  body: renegotiateBody,
  idempotencyKey: true,
  responses: {
    200: { description: 'The new invoices', schema: z.object({ invoiceIds: z.array(z.uuid()) }) },
    404: { description: 'No such invoice' },
    409: { description: 'Settled, or the installments refused' },
  },
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const inv = await openInvoice(db, params.invoiceId);
    const handle = deps.temporal.client.workflow.getHandle(inv.workflowId);
    const r = await callWorkflow(
      deps,
      () => handle.executeUpdate(renegotiateUpdate, { args: [{ actor, installments: body.installments, note: body.note ?? null }], ...(idempotencyKey ? { updateId: `renegotiate:${idempotencyKey}` } : {}) }),
      { deadlineMs: 30_000, onNotFound: RUN_GONE },
    );
    return { body: r };
  },
});

export const cancelInvoice = route({
  method: 'post',
  path: '/invoices/:invoiceId/cancel',
  summary: 'Cancels an unpaid invoice: its collection ends, its charge is cancelled, consequences lifted',
  tags: ['dunning'],
  access: write,
  params: idParam,
  body: cancelInvoiceBody,
  idempotencyKey: true,
  responses: { 200: { description: 'Cancelled', schema: dunningViewSchema }, 404: { description: 'No such invoice' }, 409: { description: 'Already settled' } },
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const inv = await openInvoice(db, params.invoiceId);
    const handle = deps.temporal.client.workflow.getHandle(inv.workflowId);
    const view = await callWorkflow(
      deps,
      () => handle.executeUpdate(cancelInvoiceUpdate, { args: [{ actor, reason: body.reason }], ...(idempotencyKey ? { updateId: `cancel:${idempotencyKey}` } : {}) }),
      { deadlineMs: 20_000, onNotFound: RUN_GONE },
    );
    return { body: view };
  },
});

export const getInvoiceDunning = route({
  method: 'get',
  path: '/invoices/:invoiceId/dunning',
  summary: 'The invoice’s collection: stage, next action and when, amount due today (live), and its timeline',
  tags: ['dunning'],
  access: read,
  params: idParam,
  responses: {
    200: {
      description: 'The collection',
      schema: z.object({ invoiceId: z.uuid(), status: z.string(), dunningStage: z.string().nullable(), workflow: dunningViewSchema.nullable(), timeline: z.array(dunningEventView) }),
    },
    404: { description: 'No such invoice' },
  },
  async handler({ params, db, deps }) {
    const inv = await Invoice.query(db).findById(params.invoiceId);
    if (!inv) throw notFound('Fatura não encontrada.');
    const events = await DunningEvent.query(db).where({ invoiceId: inv.id }).orderBy('seq');
    const workflow = await queryBestEffort<DunningView>(deps, deps.temporal.client.workflow.getHandle(inv.workflowId), dunningViewQuery);
    return { body: { invoiceId: inv.id, status: inv.status, dunningStage: inv.dunningStage, workflow, timeline: events.map(toDunningEventView) } };
  },
});

export const dunningRoutes = [promiseToPay, renegotiateInvoice, cancelInvoice, getInvoiceDunning];
