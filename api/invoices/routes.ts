import type { Knex } from 'knex';
import { invoiceEventData, tenantToday } from '../../activities/billing-schedules';
import { startAutomationEvent } from '../../activities/automation-events';
import { createInvoice, invoiceAmountDue } from '../../db/invoices';
import { GatewayCharge, Invoice, Payment } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { isUniqueViolation, withTenant } from '../../db/tenant-scope';
import { CONSUMER_MAX_FINE_PERCENT, isConsumerDocument } from '../../domain/billing-terms';
import { formatBrl } from '../../domain/contract-template';
import { lateChargesRuleText } from '../../domain/late-charges';
import { BILLING_ROLES } from '../../domain/roles';
import { formatTaxId } from '../../domain/tax-id';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { dunningStart, dunningWorkflowId } from '../../workflows/dunning';
import type { ApiDeps } from '../deps';
import { keysetPage, pageOf } from '../pagination';
import { badRequest, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { startWorkflow } from '../workflow-calls';
import { createInvoiceBody, invoiceDetailView, invoiceListQuery, invoiceOnQuery, invoiceView, toChargeView, toInvoiceView, toPaymentView } from './schema';
import { invoiceUpdatedEvent } from '../../domain/realtime-events';

// Invoices: staff create one by hand (its dunning workflow starts after the commit); every
// invoice, whatever its origin, is read here with what it owes today and on any date (the one
// rule of domain/late-charges.ts), the rule in Portuguese, the creditor (CDC art. 42-A), its
// current charge and its payments, and as a printable page.

const read = { roles: BILLING_ROLES, scopes: ['invoices:read' as const] };
const write = { roles: BILLING_ROLES, scopes: ['invoices:write' as const] };
const idParam = uuidParam('invoiceId');

async function settingsOf(db: Knex.Transaction, tenantId: string) {
  return (await readTenantSettings(db, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
}

export async function invoiceDetail(db: Knex.Transaction, tenantId: string, invoice: Invoice, on?: string) {
  const settings = await settingsOf(db, tenantId);
  const { today } = await tenantToday(db, tenantId);
  const charge = await GatewayCharge.query(db).where({ invoiceId: invoice.id, current: true }).first();
  const payments = await Payment.query(db).where({ invoiceId: invoice.id }).orderBy([{ column: 'paidOn' }, { column: 'createdAt' }]);
  const amountDueToday = await invoiceAmountDue(db, invoice, today);
  const amountDueOn = on ? { on, ...(await invoiceAmountDue(db, invoice, on)) } : null;
  return {
    ...toInvoiceView(invoice),
    today,
    amountDueToday,
    amountDueOn,
    lateChargesRule: lateChargesRuleText({ finePercent: invoice.finePercent, monthlyInterestPercent: invoice.monthlyInterestPercent }),
    creditor: settings.billing.creditor,
    charge: charge ? toChargeView(charge) : null,
    payments: payments.map(toPaymentView),
  };
}

async function found(db: Knex.Transaction, id: string): Promise<Invoice> {
  const invoice = await Invoice.query(db).findById(id);
  if (!invoice) throw notFound('Fatura não encontrada.');
  return invoice;
}

// After the commit: the invoice's collection, its automation event and its live card.
async function afterCreated(deps: ApiDeps, tenantId: string, invoice: Invoice, totalCents: number): Promise<void> {
  await startWorkflow(deps, dunningStart({ tenantId, invoiceId: invoice.id }), { onDuplicate: 'A cobrança desta fatura já está em andamento.' }).catch((err: unknown) => {
    // A retry of the same Idempotency-Key finds the run the first call started.
    if ((err as { status?: number }).status === 409) return;
    throw err;
  });
  await startAutomationEvent(deps, tenantId, `invoice:${invoice.id}:created`, 'invoice.created', invoiceEventData(invoice));
  await deps.realtime.emit({ tenantId, roles: BILLING_ROLES }, 'invoice:updated', invoiceUpdatedEvent(invoice, totalCents));
}

export const createInvoiceRoute = route({
  method: 'post',
  path: '/invoices',
  summary: 'Creates an invoice by hand and starts its collection (dunning workflow)',
  tags: ['billing'],
  access: write,
  body: createInvoiceBody,
  idempotencyKey: true,
  responses: {
    201: { description: 'Created; its dunning workflow has started', schema: invoiceDetailView },
    200: { description: 'The same Idempotency-Key: the invoice the first call created', schema: invoiceDetailView },
    400: { description: 'A due date in the past, a consumer fine above 2%' },
    404: { description: 'No such contact' },
  },
  async handler({ body, deps, tenantId, actor, db, audit, idempotencyKey }) {
    if (idempotencyKey) {
      const again = await Invoice.query(db).where({ idempotencyKey }).first();
      if (again) {
        await afterCreated(deps, tenantId, again, (await invoiceAmountDue(db, again, (await tenantToday(db, tenantId)).today)).totalCents);
        return { status: 200, body: await invoiceDetail(db, tenantId, again) };
      }
    }
    let invoice: Invoice;
    try {
      invoice = await withTenant(deps.knex, tenantId, async (trx) => {
        const contact = await trx('contacts').where({ id: body.contactId }).first('id', 'document');
        if (!contact) throw notFound('Contato não encontrado.');
        const settings = await settingsOf(trx, tenantId);
        const { today } = await tenantToday(trx, tenantId);
        if (body.dueDate < today) throw badRequest('O vencimento não pode estar no passado.', [{ path: 'body.dueDate', message: `a partir de ${today}` }]);
        const finePercent = body.finePercent ?? settings.billing.lateCharges.finePercent;
        if (isConsumerDocument(contact.document ?? null) && finePercent > CONSUMER_MAX_FINE_PERCENT) {
          throw badRequest(`Multa acima de ${CONSUMER_MAX_FINE_PERCENT}% não é permitida para consumidor (CDC art. 52 §1).`, [{ path: 'body.finePercent', message: `no máximo ${CONSUMER_MAX_FINE_PERCENT}%` }]);
        }
        const row = await createInvoice(
          trx,
          {
            tenantId,
            contactId: body.contactId,
            origin: 'manual',
            description: body.description,
            amountCents: body.amountCents,
            dueDate: body.dueDate,
            finePercent,
            monthlyInterestPercent: body.monthlyInterestPercent ?? settings.billing.lateCharges.monthlyInterestPercent,
            billingType: body.billingType ?? settings.billing.invoices.billingType,
            createdBy: actor.type === 'user' ? actor.id : null,
          },
          dunningWorkflowId,
        );
        if (idempotencyKey) await Invoice.query(trx).patch({ idempotencyKey }).where({ id: row.id });
        return row;
      });
    } catch (err) {
      if (idempotencyKey && isUniqueViolation(err, 'invoices_idempotency')) {
        const again = await Invoice.query(db).where({ idempotencyKey }).first();
        if (again) return { status: 200, body: await invoiceDetail(db, tenantId, again) };
      }
      throw err;
    }
    await afterCreated(deps, tenantId, invoice, invoice.amountCents);
    await audit({ action: 'invoice.created', entityType: 'invoice', entityId: invoice.id, workflowId: invoice.workflowId, details: { amountCents: invoice.amountCents, dueDate: invoice.dueDate } });
    return { status: 201, body: await invoiceDetail(db, tenantId, await found(db, invoice.id)) };
  },
});

export const listInvoices = route({
  method: 'get',
  path: '/invoices',
  summary: 'Invoices, newest first (keyset pages), by status, contact, origin, subscription and due dates',
  tags: ['billing'],
  access: read,
  query: invoiceListQuery,
  responses: { 200: { description: 'A page of invoices', schema: pageOf(invoiceView) } },
  async handler({ query, db }) {
    const qb = Invoice.query(db);
    if (query.status) qb.where({ status: query.status });
    if (query.contactId) qb.where({ contactId: query.contactId });
    if (query.origin) qb.where({ origin: query.origin });
    if (query.subscriptionId) qb.where({ subscriptionId: query.subscriptionId });
    if (query.dueFrom) qb.where('dueDate', '>=', query.dueFrom);
    if (query.dueTo) qb.where('dueDate', '<=', query.dueTo);
    const page = await keysetPage(qb, query);
    return { body: { items: page.rows.map(toInvoiceView), nextCursor: page.nextCursor } };
  },
});

export const getInvoice = route({
  method: 'get',
  path: '/invoices/:invoiceId',
  summary: 'An invoice with what it owes today (and on ?on=YYYY-MM-DD), the rule in Portuguese, the creditor, its charge and payments',
  tags: ['billing'],
  access: read,
  params: idParam,
  query: invoiceOnQuery,
  responses: { 200: { description: 'The invoice', schema: invoiceDetailView }, 404: { description: 'No such invoice in this tenant' } },
  async handler({ params, query, db, tenantId }) {
    return { body: await invoiceDetail(db, tenantId, await found(db, params.invoiceId), query.on) };
  },
});

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const brDate = (d: string) => d.split('-').reverse().join('/');

export const getInvoiceDocument = route({
  method: 'get',
  path: '/invoices/:invoiceId/document',
  summary: 'The printable invoice (text/html, pt-BR): creditor, customer, amounts, boleto line, PIX code and the late-charges rule',
  tags: ['billing'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'text/html' }, 404: { description: 'No such invoice in this tenant' } },
  async handler({ params, db, tenantId }) {
    const invoice = await found(db, params.invoiceId);
    const d = await invoiceDetail(db, tenantId, invoice);
    const contact = await db('contacts').where({ id: invoice.contactId }).first('name', 'profileName', 'document');
    const e = (v: string | null | undefined, missing = '—') => escape(v ?? missing);
    const creditorId = d.creditor.taxId ? formatTaxId(d.creditor.taxId) : null;
    const rows: [string, string][] = [
      ['Fatura', `nº ${invoice.number}`],
      ['Descrição', e(invoice.description)],
      ['Cliente', e((contact?.name ?? contact?.profileName) as string | null)],
      ['CPF/CNPJ do cliente', e(contact?.document ? formatTaxId(contact.document as string) : null)],
      ['Valor', escape(formatBrl(invoice.amountCents))],
      ['Vencimento', escape(brDate(invoice.dueDate))],
      ['Valor pago', escape(formatBrl(invoice.paidCents))],
      [`Valor devido em ${escape(brDate(d.today))}`, escape(formatBrl(d.amountDueToday.totalCents)) + (d.amountDueToday.daysLate ? ` (principal ${escape(formatBrl(d.amountDueToday.principalCents))}, multa ${escape(formatBrl(d.amountDueToday.fineCents))}, juros ${escape(formatBrl(d.amountDueToday.interestCents))}, ${d.amountDueToday.daysLate} dia(s) de atraso)` : '')],
      ['Linha digitável do boleto', e(d.charge?.boletoLine)],
      ['PIX copia e cola', e(d.charge?.pixPayload)],
      ['Link de pagamento', e(d.charge?.invoiceUrl)],
    ];
    const html = `<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>Fatura nº ${invoice.number}</title>
<style>body{font-family:sans-serif;max-width:720px;margin:2em auto}th{text-align:left;padding-right:1em;vertical-align:top}td{word-break:break-all}</style></head>
<body>
<h1>Fatura nº ${invoice.number}</h1>
<section><h2>Credor</h2><p>${e(d.creditor.legalName, 'Credor não configurado')}<br>CNPJ/CPF: ${e(creditorId)}<br>${e(d.creditor.address)}</p></section>
<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('\n')}</table>
<section><h2>Multa e juros</h2><p>${escape(d.lateChargesRule)}</p></section>
</body></html>`;
    return { body: html, headers: { 'content-type': 'text/html; charset=utf-8' } };
  },
});

export const invoiceRoutes = [createInvoiceRoute, listInvoices, getInvoice, getInvoiceDocument];
