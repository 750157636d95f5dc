import type { Knex } from 'knex';
import { startAutomationEvent } from '../../activities/automation-events';
import { signalIfRunning, startOnce } from '../../activities/temporal-calls';
import { invoiceAmountDue } from '../../db/invoices';
import type { Invoice } from '../../db/models';
import type { MovementOutcome } from '../../db/payment-recording';
import type { AutomationEventName } from '../../domain/automation-events';
import { invoiceUpdatedEvent, type InvoiceUpdatedEvent } from '../../domain/realtime-events';
import { BILLING_ROLES } from '../../domain/roles';
import { dunningStart, dunningWorkflowId, paymentRecordedSignal, type PaymentRecordedSignal } from '../../workflows/dunning';
import type { ApiDeps } from '../deps';

// What a recorded payment or refund tells the rest, after its transaction committed: the
// invoice's dunning workflow (a wake-up signal; if the run had ended and a refund reopened the
// invoice, a new run), the tenant's automations (payment.received, payment.refunded,
// invoice.paid, each with a key derived from the payment so a repeat posts once) and the billing
// dashboards (invoice:updated, best effort). The plan is plain data: the webhook stores it with
// the event so a redelivery can run it again when the first attempt did not get through.

export interface PaymentPlan {
  tenantId: string;
  invoiceId: string;
  signals: PaymentRecordedSignal[];
  reopened: boolean;
  events: { key: string; event: AutomationEventName; data: Record<string, unknown> }[];
  invoiceUpdated: InvoiceUpdatedEvent;
}

const TEMPORAL_DEADLINE_MS = 5_000;

// The plan for the movements recorded on one invoice (duplicates contribute nothing), or null
// when there is nothing to tell.
export async function paymentPlan(trx: Knex.Transaction, outcomes: MovementOutcome[], today: string): Promise<PaymentPlan | null> {
  const fresh = outcomes.filter((o): o is Extract<MovementOutcome, { duplicate: false }> => !o.duplicate);
  if (!fresh.length) return null;
  const invoice = fresh[fresh.length - 1]!.invoice;
  const events: PaymentPlan['events'] = [];
  for (const o of fresh) {
    const p = o.payment;
    const data = {
      invoiceId: invoice.id,
      invoiceNumber: invoice.number,
      contactId: invoice.contactId,
      paymentId: p.id,
      amountCents: p.amountCents,
      paidOn: p.paidOn,
      method: p.method,
      source: p.source,
      invoiceStatus: o.invoice.status,
      paidCents: o.invoice.paidCents,
      amountDueCents: o.amountDue.totalCents,
      ...(o.settledBefore ? { invoiceWasSettled: true } : {}),
    };
    if (p.kind === 'payment') events.push({ key: `payment.received:${p.id}`, event: 'payment.received', data });
    else events.push({ key: `payment.refunded:${p.id}`, event: 'payment.refunded', data: { ...data, reopened: o.reopened } });
    if (o.becamePaid) events.push({ key: `invoice.paid:${invoice.id}:${p.id}`, event: 'invoice.paid', data });
  }
  return {
    tenantId: invoice.tenantId,
    invoiceId: invoice.id,
    signals: fresh.map((o) => ({ paymentId: o.payment.id, kind: o.payment.kind })),
    reopened: fresh.some((o) => o.reopened),
    events,
    invoiceUpdated: await invoiceCard(trx, invoice, today),
  };
}

export async function invoiceCard(trx: Knex.Transaction, invoice: Invoice, today: string): Promise<InvoiceUpdatedEvent> {
  return invoiceUpdatedEvent(invoice, (await invoiceAmountDue(trx, invoice, today)).totalCents);
}

// Every step repeats safely: a signal is a wake-up (the workflow reads the payments table), the
// start and the automation events are keyed by business ids.
export async function deliverPaymentPlan(deps: ApiDeps, plan: PaymentPlan): Promise<void> {
  const temporal = { client: deps.temporal.client, taskQueue: deps.temporal.taskQueue };
  const within = <T>(call: () => Promise<T>) => deps.temporal.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, call);
  const workflowId = dunningWorkflowId(plan.tenantId, plan.invoiceId);
  let running = true;
  for (const signal of plan.signals) {
    if (!running) break;
    running = await within(() => signalIfRunning({ temporal }, workflowId, paymentRecordedSignal, signal));
  }
  if (!running && plan.reopened) {
    // The run ended with the payment that was just refunded: the invoice is owed again.
    const started = await within(() => startOnce({ temporal }, dunningStart({ tenantId: plan.tenantId, invoiceId: plan.invoiceId })));
    if (started) deps.log.info({ tenantId: plan.tenantId, invoiceId: plan.invoiceId }, 'refund reopened the invoice: dunning started again');
  }
  for (const e of plan.events) await within(() => startAutomationEvent({ knex: deps.knex, temporal }, plan.tenantId, e.key, e.event, e.data));
  // A dashboard catches up on its next read: a live event that does not get out fails nothing.
  await deps.realtime.emit({ tenantId: plan.tenantId, roles: BILLING_ROLES }, 'invoice:updated', plan.invoiceUpdated).catch((err: Error) => {
    deps.log.warn({ err: err.message, invoiceId: plan.invoiceId }, 'invoice:updated not emitted');
  });
}
