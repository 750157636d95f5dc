import { z } from 'zod';
import { Invoice, Payment } from '../../db/models';
import { recordPayment } from '../../db/payment-recording';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import { todayIn } from '../../domain/contract-template';
import { BILLING_ROLES } from '../../domain/roles';
import { uuidParam } from '../schemas';
import { badRequest, notFound } from '../problem';
import { route } from '../route';
import { callWorkflow } from '../workflow-calls';
import { deliverPaymentPlan, invoiceCard, paymentPlan, type PaymentPlan } from './deliveries';
import { manualPaymentBody, manualPaymentResponse, paymentView } from './schema';

// An invoice's payments and refunds, and the manual payment (baixa manual) staff record when the
// money came outside the gateway. Recorded through db/payment-recording.ts like the webhook's, then
// the dunning workflow hears of it (after the commit).

const toView = (p: Payment) => ({
  id: p.id,
  invoiceId: p.invoiceId,
  kind: p.kind,
  amountCents: p.amountCents,
  paidOn: p.paidOn,
  method: p.method,
  source: p.source,
  dunningStage: p.dunningStage,
  note: p.note,
  recordedBy: p.recordedBy,
  createdAt: new Date(p.createdAt).toISOString(),
});

export const listPayments = route({
  method: 'get',
  path: '/invoices/:invoiceId/payments',
  summary: 'An invoice’s payments and refunds, oldest first',
  tags: ['billing'],
  access: { roles: BILLING_ROLES, scopes: ['invoices:read'] },
  params: uuidParam('invoiceId'),
  responses: { 200: { description: 'Payments', schema: z.object({ items: z.array(paymentView) }) }, 404: { description: 'Not found' } },
  async handler({ params, db }) {
    const invoice = await Invoice.query(db).findById(params.invoiceId);
    if (!invoice) throw notFound('Fatura não encontrada.');
    const rows = await Payment.query(db).where({ invoiceId: invoice.id }).orderBy([{ column: 'paidOn' }, { column: 'createdAt' }, { column: 'id' }]);
    return { body: { items: rows.map(toView) } };
  },
});

export const postManualPayment = route({
  method: 'post',
  path: '/invoices/:invoiceId/payments',
  summary: 'Record a payment received outside the gateway (baixa manual); the invoice’s dunning hears of it',
  tags: ['billing'],
  access: { roles: BILLING_ROLES, scopes: ['payments:write'] },
  idempotencyKey: true,
  params: uuidParam('invoiceId'),
  body: manualPaymentBody,
  responses: {
    201: { description: 'Recorded', schema: manualPaymentResponse },
    200: { description: 'Already recorded with this Idempotency-Key', schema: manualPaymentResponse },
    400: { description: 'Invalid input (a date in the future)' },
    404: { description: 'Not found' },
    503: { description: 'Recorded, but the dunning workflow could not be told: retry with the same key' },
  },
  async handler({ params, body, deps, tenantId, principal, audit, idempotencyKey }) {
    // Committed before Temporal hears of it: the workflow reads the payments table.
    const done = await withTenant(deps.knex, tenantId, async (trx) => {
      const invoice = await Invoice.query(trx).findById(params.invoiceId);
      if (!invoice) throw notFound('Fatura não encontrada.');
      const settings = await readTenantSettings(trx, tenantId);
      const today = todayIn(settings?.settings.timeZone ?? 'America/Sao_Paulo', new Date());
      if (body.paidOn > today) throw badRequest('A data do pagamento não pode estar no futuro.', [{ path: 'body.paidOn', message: `depois de hoje (${today})`, code: 'too_big' }]);
      const outcome = await recordPayment(trx, {
        tenantId,
        invoiceId: invoice.id,
        amountCents: body.amountCents,
        paidOn: body.paidOn,
        method: body.method,
        source: 'manual',
        externalKey: idempotencyKey ? `manual:${idempotencyKey}` : null,
        recordedBy: principal.kind === 'user' ? principal.userId : null,
        note: body.note ?? null,
        today,
      });
      const fresh = await Invoice.query(trx).findById(invoice.id).throwIfNotFound();
      const card = await invoiceCard(trx, fresh, today);
      // A retry with the same key tells the workflow again (a wake-up is harmless) and re-posts
      // payment.received under the same key (posted once).
      const plan: PaymentPlan | null = outcome.duplicate
        ? {
            tenantId, invoiceId: invoice.id, signals: [{ paymentId: outcome.payment.id, kind: outcome.payment.kind }], reopened: false,
            events: [{ key: `payment.received:${outcome.payment.id}`, event: 'payment.received', data: { invoiceId: invoice.id, paymentId: outcome.payment.id, amountCents: outcome.payment.amountCents, paidOn: outcome.payment.paidOn, method: outcome.payment.method, source: 'manual' } }],
            invoiceUpdated: card,
          }
        : await paymentPlan(trx, [outcome], today);
      return { outcome, card, plan, wasSettled: !outcome.duplicate && outcome.settledBefore };
    });
    const { outcome, card, plan } = done;
    if (!outcome.duplicate) {
      await audit({ action: 'payment.recorded', entityType: 'invoice', entityId: params.invoiceId, details: { paymentId: outcome.payment.id, amountCents: body.amountCents, paidOn: body.paidOn, method: body.method } });
    }
    if (plan) await callWorkflow(deps, () => deliverPaymentPlan(deps, plan), { deadlineMs: 15_000 });
    return {
      status: outcome.duplicate ? 200 : 201,
      body: {
        payment: toView(outcome.payment),
        duplicate: outcome.duplicate,
        invoice: { id: card.invoiceId, status: card.status, paidCents: card.paidCents, amountDueTodayCents: card.amountDueTodayCents, wasSettled: done.wasSettled },
      },
    };
  },
});

export const paymentRoutes = [listPayments, postManualPayment];
