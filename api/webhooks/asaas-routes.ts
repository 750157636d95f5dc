import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';
import type { Knex } from 'knex';
import { z } from 'zod';
import { GatewayCharge, GatewayEvent, Payment } from '../../db/models';
import { recordPayment, recordRefund, type MovementOutcome } from '../../db/payment-recording';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import { APPLIED_GATEWAY_EVENTS, type ChargeStatus, type PaymentMethod } from '../../domain/billing-statuses';
import { todayIn } from '../../domain/contract-template';
import { parseCharge, type AsaasCharge } from '../../infra/asaas-client';
import type { Logger } from '../../infra/logger';
import type { ApiDeps } from '../deps';
import { deliverPaymentPlan, paymentPlan, type PaymentPlan } from '../payments/deliveries';
import { buildWebhook, type BuiltWebhook } from './webhook-builder';

// Asaas's webhook: /webhooks/asaas/{accountId}, the account's token in asaas-access-token
// (compared in constant time by the builder). Asaas delivers at least once, in no promised order,
// and counts only a 200 as success; so, in ONE tenant transaction, the event is stored (unique per
// account and event id: a duplicate changes nothing) and applied to the invoice's money through
// db/payment-recording.ts (keyed by the charge, so CONFIRMED then RECEIVED, or the reverse, is one
// payment). The answer is 200 once the dunning signal and the automation events went out; if they
// did not, 503, and the redelivery finds the event stored but not yet `applied_at` and runs the
// stored plan again.

interface AccountSecret {
  accountId: string;
  tenantId: string;
  token: string;
  tenantStatus: string;
}

const dateText = z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'YYYY-MM-DD');
const amount = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/)]);

const paymentSchema = z
  .object({
    id: z.string().min(1).max(100),
    status: z.string().min(1).max(60),
    value: amount,
    billingType: z.string().max(40).nullish(),
    dueDate: dateText.nullish(),
    paymentDate: dateText.nullish(),
    clientPaymentDate: dateText.nullish(),
    externalReference: z.string().max(500).nullish(),
    refunds: z.array(z.object({ value: amount, dateCreated: z.string().nullish(), status: z.string().nullish() }).loose()).nullish(),
  })
  .loose();

const envelopeSchema = z
  .object({
    id: z.string().min(1).max(200),
    event: z.string().min(1).max(100),
    dateCreated: z.string().max(40).optional(),
    // Every event this platform applies is about a payment; other kinds (transfers, invoices…) may come without one.
    payment: paymentSchema.optional(),
  })
  .loose()
  .superRefine((e, ctx) => {
    if ((APPLIED_GATEWAY_EVENTS as readonly string[]).includes(e.event) && !e.payment) {
      ctx.addIssue({ code: 'custom', path: ['payment'], message: `${e.event} needs its payment` });
    }
  });

type Envelope = z.infer<typeof envelopeSchema> & { raw: Record<string, unknown> };

const ACCOUNT_CACHE = { max: 1_000, ttlMs: 60_000 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function asaasWebhook(deps: ApiDeps): BuiltWebhook {
  return buildWebhook<AccountSecret, Envelope>(
    {
      name: 'asaas',
      paths: ['/webhooks/asaas/:accountId'],
      verification: { kind: 'token', header: 'asaas-access-token' },
      secret: {
        param: 'accountId',
        validKey: (id) => UUID.test(id),
        lookup: async (accountId) => {
          const { rows } = await deps.knex.raw('SELECT * FROM public_find_gateway_account(?::uuid)', [accountId]);
          const row = rows[0] as { account_id: string; tenant_id: string; webhook_token_sealed: string; tenant_status: string } | undefined;
          return row ? { accountId: row.account_id, tenantId: row.tenant_id, token: deps.secrets.open(row.webhook_token_sealed), tenantStatus: row.tenant_status } : null;
        },
        cache: ACCOUNT_CACHE,
        key: (a) => a.token,
      },
      unknownAppDetail: 'Conta de gateway desconhecida.',
      parse: (json) => {
        const r = envelopeSchema.safeParse(json);
        if (r.success) return { ok: true, value: { ...r.data, raw: json as Record<string, unknown> } };
        return {
          ok: false,
          detail: 'O evento não segue o formato de webhook do Asaas.',
          issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code })),
        };
      },
      accept: async ({ secret: account, payload, log }) => {
        if (account.tenantStatus !== 'active') log.warn({ tenantId: account.tenantId, status: account.tenantStatus }, 'gateway event for an inactive tenant: stored and applied (money is never dropped)');
        const { eventRowId, plan, result } = await withTenant(deps.knex, account.tenantId, (trx) => storeAndApply(trx, account, payload, log));
        if (!plan) return { deliveries: [], ack: result };
        return {
          deliveries: [
            async () => {
              await deliverPaymentPlan(deps, plan);
              await withTenant(deps.knex, account.tenantId, async (trx) => {
                await GatewayEvent.query(trx).patch({ appliedAt: new Date() }).where({ id: eventRowId });
              });
            },
          ],
          ack: result,
        };
      },
    },
    { rateLimits: deps.rateLimits, invalidPerMinute: deps.config.RATE_LIMIT_WEBHOOK_INVALID_PER_MINUTE, log: deps.log },
  );
}

export function asaasWebhookRouter(deps: ApiDeps): Router {
  return asaasWebhook(deps).router;
}

interface Applied {
  eventRowId: string;
  plan: PaymentPlan | null;
  result: string;
}

async function storeAndApply(trx: Knex.Transaction, account: AccountSecret, e: Envelope, log: Logger): Promise<Applied> {
  const id = randomUUID();
  const inserted = await trx('gateway_events')
    .insert({
      id,
      tenantId: account.tenantId,
      accountId: account.accountId,
      eventId: e.id,
      event: e.event,
      externalChargeId: e.payment?.id ?? null,
      payload: JSON.stringify(e.raw),
    })
    .onConflict(['accountId', 'eventId'])
    .ignore()
    .returning('id');
  if (!inserted.length) {
    const stored = await GatewayEvent.query(trx).findOne({ accountId: account.accountId, eventId: e.id }).throwIfNotFound();
    // Applied before; only the deliveries may still be owed (the first attempt answered 503).
    if (stored.appliedAt || !stored.deliveryPlan) return { eventRowId: stored.id, plan: null, result: 'DUPLICATE' };
    return { eventRowId: stored.id, plan: stored.deliveryPlan as unknown as PaymentPlan, result: 'REDELIVERED' };
  }

  const { result, plan } = await apply(trx, account, e, log);
  await GatewayEvent.query(trx)
    .patch({ result, deliveryPlan: plan as unknown as Record<string, unknown> | null, ...(plan ? {} : { appliedAt: new Date() }) })
    .where({ id });
  return { eventRowId: id, plan, result };
}

// Charge statuses only move forward: a late PAYMENT_CONFIRMED never undoes a RECEIVED.
const STATUS_RANK: Record<ChargeStatus, number> = { pending: 0, overdue: 1, confirmed: 2, received: 3, partially_refunded: 4, refunded: 5, deleted: 6 };
const forward = (from: ChargeStatus, to: ChargeStatus) => (STATUS_RANK[to] > STATUS_RANK[from] ? to : from);

const METHODS: Record<string, PaymentMethod> = { BOLETO: 'boleto', PIX: 'pix', CREDIT_CARD: 'credit_card' };

async function apply(trx: Knex.Transaction, account: AccountSecret, e: Envelope, log: Logger): Promise<{ result: string; plan: PaymentPlan | null }> {
  if (!(APPLIED_GATEWAY_EVENTS as readonly string[]).includes(e.event) || !e.payment) return { result: 'ignored', plan: null };
  let p: AsaasCharge;
  try {
    p = parseCharge(e.payment);
  } catch (err) {
    log.warn({ eventId: e.id, err: (err as Error).message }, 'gateway event payment unreadable: stored, not applied');
    return { result: 'unreadable_payment', plan: null };
  }
  const charge = await GatewayCharge.query(trx).findOne({ provider: 'asaas', externalId: p.id });
  if (!charge) {
    log.warn({ tenantId: account.tenantId, eventId: e.id, event: e.event, paymentId: p.id }, 'gateway event for a charge we do not know: stored, not applied');
    return { result: 'unknown_charge', plan: null };
  }
  const settings = await readTenantSettings(trx, account.tenantId);
  const today = todayIn(settings?.settings.timeZone ?? 'America/Sao_Paulo', new Date());
  const base = { tenantId: account.tenantId, invoiceId: charge.invoiceId, gatewayChargeId: charge.id, source: 'gateway' as const, method: METHODS[p.billingType ?? ''] ?? 'other', today };
  const outcomes: MovementOutcome[] = [];

  // The money the customer paid on this charge (also what a refund that overtook it implies).
  const recordPaid = async () => {
    const paidOn = (p.clientPaymentDate ?? p.paymentDate ?? today).slice(0, 10);
    if (p.valueCents <= 0) return;
    outcomes.push(await recordPayment(trx, { ...base, amountCents: p.valueCents, paidOn, externalKey: `asaas:${p.id}:payment` }));
  };

  let status: ChargeStatus = charge.status;
  let current = charge.current;
  switch (e.event) {
    case 'PAYMENT_CONFIRMED':
    case 'PAYMENT_RECEIVED':
      await recordPaid();
      status = forward(status, e.event === 'PAYMENT_RECEIVED' ? 'received' : 'confirmed');
      // Consumed: whatever is left is charged anew by the next ensureInvoiceCharge.
      current = false;
      break;
    case 'PAYMENT_OVERDUE':
      // Our own rule (the grace, the tenant's calendar) decides the invoice's overdue status.
      status = forward(status, 'overdue');
      break;
    case 'PAYMENT_REFUNDED':
    case 'PAYMENT_PARTIALLY_REFUNDED': {
      if (p.paymentDate || p.clientPaymentDate) await recordPaid();
      if (p.refunds.length) {
        for (const [i, r] of p.refunds.entries()) {
          if (r.valueCents <= 0) continue;
          outcomes.push(await recordRefund(trx, { ...base, amountCents: r.valueCents, paidOn: (r.dateCreated ?? today).slice(0, 10), externalKey: `asaas:${p.id}:refund:${i + 1}` }));
        }
      } else if (e.event === 'PAYMENT_REFUNDED') {
        // A full refund without its detail: everything this charge still holds.
        const rows = await Payment.query(trx).where({ gatewayChargeId: charge.id });
        const held = rows.reduce((s, r) => s + (r.kind === 'payment' ? r.amountCents : -r.amountCents), 0);
        if (held > 0) outcomes.push(await recordRefund(trx, { ...base, amountCents: held, paidOn: today, externalKey: `asaas:${p.id}:refund:full` }));
      } else {
        log.warn({ eventId: e.id, paymentId: p.id }, 'partial refund without refunds[]: the amount is unknown, nothing recorded');
      }
      status = forward(status, e.event === 'PAYMENT_REFUNDED' ? 'refunded' : 'partially_refunded');
      current = false;
      break;
    }
    case 'PAYMENT_DELETED':
      if (STATUS_RANK[status] <= STATUS_RANK.overdue) status = 'deleted';
      current = false;
      break;
  }
  if (status !== charge.status || current !== charge.current) {
    await GatewayCharge.query(trx).patch({ status, current, updatedAt: new Date() }).where({ id: charge.id });
  }
  for (const o of outcomes) {
    if (!o.duplicate && o.settledBefore) log.warn({ tenantId: account.tenantId, invoiceId: o.invoice.id, paymentId: o.payment.id, status: o.invoice.status }, 'money moved on a cancelled or renegotiated invoice: recorded, needs a person');
    if (!o.duplicate && o.payout?.change === 'already_paid') log.warn({ tenantId: account.tenantId, invoiceId: o.invoice.id, payoutId: o.payout.payoutId }, 'refund of a rent whose owner payout was already paid: settle it with the owner');
  }
  const plan = await paymentPlan(trx, outcomes, today);
  const result = outcomes.length === 0 ? `charge_${status}` : outcomes.every((o) => o.duplicate) ? 'duplicate_payment' : e.event === 'PAYMENT_REFUNDED' || e.event === 'PAYMENT_PARTIALLY_REFUNDED' ? 'refund_recorded' : 'payment_recorded';
  return { result, plan };
}
