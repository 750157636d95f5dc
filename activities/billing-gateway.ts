import { randomUUID } from 'node:crypto';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { Contact, GatewayAccount, GatewayCharge, GatewayCustomer, Invoice } from '../db/models';
import { invoiceAmountDue } from '../db/invoices';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { SETTLED_INVOICE_STATUSES } from '../domain/billing-statuses';
import { todayIn } from '../domain/contract-template';
import { normalizeTaxId } from '../domain/tax-id';
import { AsaasClient, asaasBaseUrl, GatewayError, type AsaasCharge } from '../infra/asaas-client';
import type { SecretBox } from '../infra/secret-box';
import { activityCancellation } from './call-signal';
import type { ActivityDeps } from './deps';

// The invoice's charge at the payment gateway (Asaas): created when the dunning run needs a
// payment link, again after a partial payment (for what is left) or a deleted charge, and
// removed when the invoice is cancelled. Every call can be retried: the charge's
// externalReference (`<invoiceId>:<n>`) lets a retry find the charge its first attempt created
// before creating another, and the customer is found by its externalReference (the contact id).

export interface InvoiceCharge {
  chargeId: string; // gateway_charges.id
  externalId: string; // Asaas pay_…
  invoiceUrl: string | null;
  boletoLine: string | null;
  pixPayload: string | null;
  valueCents: number;
  dueDate: string;
}

// Why there is no charge although the tenant has a gateway: the contact has no valid CPF/CNPJ,
// which Asaas requires. Nothing was written; the dunning run carries on without a payment link.
export interface ChargeSkipped {
  skipped: 'customer_document_missing';
}

export type EnsureChargeResult = InvoiceCharge | ChargeSkipped | null;

const PAYABLE = new Set(['pending', 'overdue']);

export function asaasClientFor(deps: Pick<ActivityDeps, 'gateway'> & { secrets: SecretBox }, account: GatewayAccount): AsaasClient {
  return new AsaasClient({
    baseUrl: asaasBaseUrl(account.environment, deps.gateway?.asaasBaseUrl),
    apiKey: deps.secrets.open(account.apiKeySealed),
    timeoutMs: deps.gateway?.timeoutMs,
    cancellation: activityCancellation(),
  });
}

// A 4xx from the gateway repeats on every retry: the run hears it once.
function failure(err: unknown): unknown {
  if (err instanceof GatewayError && !err.retryable) {
    return ApplicationFailure.create({ type: 'GatewayRefused', message: err.descriptions || err.message, nonRetryable: true, details: [{ status: err.status, errors: err.errors }] });
  }
  return err;
}

export function billingGatewayActivities(deps: ActivityDeps) {
  const { knex } = deps;

  async function ensureInvoiceCharge(a: { tenantId: string; invoiceId: string }): Promise<EnsureChargeResult> {
    const ctx = await withTenant(knex, a.tenantId, async (trx) => {
      const account = await GatewayAccount.query(trx).findOne({ tenantId: a.tenantId });
      if (!account) return null;
      const invoice = await Invoice.query(trx).findById(a.invoiceId).throwIfNotFound();
      if ((SETTLED_INVOICE_STATUSES as readonly string[]).includes(invoice.status)) return null;
      const settings = await readTenantSettings(trx, a.tenantId);
      const today = todayIn(settings?.settings.timeZone ?? 'America/Sao_Paulo', new Date());
      const due = await invoiceAmountDue(trx, invoice, today);
      const current = await GatewayCharge.query(trx).findOne({ invoiceId: invoice.id, current: true });
      const contact = await Contact.query(trx).findById(invoice.contactId).throwIfNotFound();
      const customer = await GatewayCustomer.query(trx).findOne({ contactId: contact.id, provider: 'asaas' });
      const count = await chargeCount(trx, invoice.id);
      return { account, invoice, today, principal: due.principalCents, current, contact, customer, count };
    });
    if (!ctx) return null;
    const { account, invoice, today, principal, current, contact } = ctx;
    if (principal <= 0) return null;
    if (current && PAYABLE.has(current.status) && current.valueCents === principal) return view(current);

    const taxId = contact.document ? normalizeTaxId(contact.document) : null;
    if (!taxId) {
      log.warn('invoice not charged at the gateway: the contact has no valid CPF/CNPJ', { tenantId: a.tenantId, invoiceId: a.invoiceId, contactId: contact.id });
      return { skipped: 'customer_document_missing' };
    }
    const client = asaasClientFor(deps, account);
    try {
      // A payable charge for another amount (a payment was recorded since) must not be paid too.
      if (current && PAYABLE.has(current.status)) {
        await client.deleteCharge(current.externalId);
        await withTenant(knex, a.tenantId, async (trx) => {
          await GatewayCharge.query(trx).patch({ status: 'deleted', current: false, updatedAt: new Date() }).where({ id: current.id });
        });
      } else if (current) {
        await withTenant(knex, a.tenantId, async (trx) => {
          await GatewayCharge.query(trx).patch({ current: false, updatedAt: new Date() }).where({ id: current.id });
        });
      }

      const customerId = ctx.customer?.externalId ?? (await ensureCustomer(client, a.tenantId, contact, taxId.digits));
      const dueDate = invoice.dueDate >= today ? invoice.dueDate : today;
      let charge: AsaasCharge | undefined;
      let n = ctx.count + 1;
      for (; !charge && n <= ctx.count + 20; n++) {
        const reference = `${invoice.id}:${n}`;
        const found = (await client.findChargesByExternalReference(reference)).filter((c) => !c.deleted);
        const same = found.find((c) => c.valueCents === principal && ['PENDING', 'OVERDUE'].includes(c.status));
        if (same) {
          charge = same;
        } else if (found.length) {
          // An earlier attempt's charge for an amount no longer owed: removed, and the number skipped.
          for (const c of found) if (['PENDING', 'OVERDUE'].includes(c.status)) await client.deleteCharge(c.id);
        } else {
          charge = await client.createCharge({
            customer: customerId,
            billingType: invoice.billingType,
            valueCents: principal,
            dueDate,
            description: `Fatura nº ${invoice.number} — ${invoice.description}`,
            externalReference: reference,
            finePercent: invoice.finePercent,
            monthlyInterestPercent: invoice.monthlyInterestPercent,
          });
        }
      }
      if (!charge) throw new Error(`no charge could be created for invoice ${invoice.id}`);
      const boletoLine = invoice.billingType === 'PIX' ? null : await optional(() => client.identificationField(charge.id).then((f) => f.identificationField));
      const pixPayload = invoice.billingType === 'BOLETO' ? null : await optional(() => client.pixQrCode(charge.id).then((q) => q.payload));

      const stored = await withTenant(knex, a.tenantId, async (trx) => {
        // Two callers at once (the run after a payment, a retried attempt) may have found the same
        // charge, or each created one for the same amount: the invoice's row lock orders them, and
        // the later one keeps what the first stored, so there is one charge to pay.
        await Invoice.query(trx).findById(invoice.id).forUpdate();
        const again = await GatewayCharge.query(trx).findOne({ provider: 'asaas', externalId: charge.id });
        if (again) return { row: again };
        const rival = await GatewayCharge.query(trx).findOne({ invoiceId: invoice.id, current: true });
        if (rival && PAYABLE.has(rival.status) && rival.valueCents === charge.valueCents) return { row: rival, surplus: charge.id };
        await GatewayCharge.query(trx).patch({ current: false, updatedAt: new Date() }).where({ invoiceId: invoice.id, current: true });
        const row = await GatewayCharge.query(trx).insertAndFetch({
          id: randomUUID(),
          tenantId: a.tenantId,
          invoiceId: invoice.id,
          provider: 'asaas',
          externalId: charge.id,
          status: 'pending',
          current: true,
          valueCents: charge.valueCents,
          dueDate: charge.dueDate,
          invoiceUrl: charge.invoiceUrl,
          bankSlipUrl: charge.bankSlipUrl,
          boletoLine,
          pixPayload,
        });
        return { row };
      });
      if (stored.surplus) {
        await client.deleteCharge(stored.surplus).catch((err: unknown) =>
          log.warn('a duplicate charge could not be removed at the gateway', { tenantId: a.tenantId, invoiceId: a.invoiceId, externalId: stored.surplus, err: String(err) }),
        );
      }
      return view(stored.row);
    } catch (err) {
      throw failure(err);
    }
  }

  // Found by its externalReference first: a retry after a lost answer creates no second customer.
  async function ensureCustomer(client: AsaasClient, tenantId: string, contact: Contact, document: string): Promise<string> {
    const existing = (await client.findCustomersByExternalReference(contact.id))[0];
    const customer =
      existing ??
      (await client.createCustomer({
        name: contact.name ?? contact.profileName ?? 'Cliente',
        cpfCnpj: document,
        email: contact.email,
        mobilePhone: contact.waId ? nationalPhone(contact.waId) : null,
        externalReference: contact.id,
      }));
    await withTenant(knex, tenantId, async (trx) => {
      await GatewayCustomer.query(trx).insert({ tenantId, contactId: contact.id, provider: 'asaas', externalId: customer.id }).onConflict(['contactId', 'provider']).ignore();
    });
    return customer.id;
  }

  async function cancelInvoiceCharge(a: { tenantId: string; invoiceId: string }): Promise<{ cancelled: boolean }> {
    const found = await withTenant(knex, a.tenantId, async (trx) => {
      const account = await GatewayAccount.query(trx).findOne({ tenantId: a.tenantId });
      const current = await GatewayCharge.query(trx).findOne({ invoiceId: a.invoiceId, current: true });
      return account && current ? { account, current } : null;
    });
    if (!found) return { cancelled: false };
    const { account, current } = found;
    let cancelled = false;
    if (PAYABLE.has(current.status)) {
      try {
        // 404: already gone at the gateway (deleted there, or by an earlier attempt).
        cancelled = await asaasClientFor(deps, account).deleteCharge(current.externalId);
      } catch (err) {
        throw failure(err);
      }
    }
    await withTenant(knex, a.tenantId, async (trx) => {
      await GatewayCharge.query(trx)
        .patch({ current: false, ...(PAYABLE.has(current.status) ? { status: 'deleted' as const } : {}), updatedAt: new Date() })
        .where({ id: current.id });
    });
    return { cancelled };
  }

  return { ensureInvoiceCharge, cancelInvoiceCharge };
}

async function chargeCount(trx: Knex.Transaction, invoiceId: string): Promise<number> {
  const row = (await GatewayCharge.query(trx).where({ invoiceId }).count('* as n').first()) as unknown as { n: string | number } | undefined;
  return Number(row?.n ?? 0);
}

function view(c: GatewayCharge): InvoiceCharge {
  return { chargeId: c.id, externalId: c.externalId, invoiceUrl: c.invoiceUrl, boletoLine: c.boletoLine, pixPayload: c.pixPayload, valueCents: c.valueCents, dueDate: c.dueDate };
}

// The boleto line and the PIX code are extras of a charge that exists: a refusal (an account
// without a PIX key) leaves them out; a retryable failure retries the activity (which then finds
// the charge by its reference).
async function optional(get: () => Promise<string>): Promise<string | null> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof GatewayError && !err.retryable) return null;
    throw err;
  }
}

// WhatsApp ids are E.164 digits; Asaas wants the national number (DDD + number).
function nationalPhone(waId: string): string | null {
  const d = waId.replace(/\D/g, '');
  if (d.startsWith('55') && (d.length === 12 || d.length === 13)) return d.slice(2);
  return null;
}
