import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { createInvoice, invoiceAmountDue, netPayments } from '../db/invoices';
import { CollectionItem, Contact, DunningConsequenceRow, DunningEvent, GatewayCharge, Invoice, Payment, Subscription } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import type { Actor } from '../domain/actor';
import type { CollectionOutcome, DunningEventType, DunningStage, InvoiceStatus } from '../domain/billing-statuses';
import { collectionNotice, type NoticeKind } from '../domain/collection-notice';
import type { PaymentOn } from '../domain/late-charges';
import { PERMANENT_FAILURE_TYPES } from '../domain/permanent-failures';
import { invoiceUpdatedEvent, type CollectionUpdatedEvent } from '../domain/realtime-events';
import { BILLING_ROLES } from '../domain/roles';
import type { TenantSettings } from '../domain/tenant-settings';
import { dunningStart, dunningWorkflowId, type DunningOptions } from '../workflows/dunning';
import { startAutomationEvent } from './automation-events';
import { sendToContact } from './contact-messaging';
import { realtimeOf, type ActivityDeps } from './deps';
import { startOnce } from './temporal-calls';
import type { billingGatewayActivities } from './billing-gateway';

// The dunning workflow's side effects, one each: the invoice's timeline row and stage, a
// collection message to the debtor (and only the debtor), the overdue mark, the collectors'
// queue, the tenant's consequence and its lifting, renegotiation and cancellation. Every row a
// step writes carries its step key, so a retried activity writes once.

// The gateway's activities (activities/billing-gateway.ts), proxied by name by the workflow.
export type GatewayChargeActivities = Pick<ReturnType<typeof billingGatewayActivities>, 'ensureInvoiceCharge' | 'cancelInvoiceCharge'>;

export interface DunningSettings {
  timeZone: string;
  billing: Pick<TenantSettings['billing'], 'collectionWindow' | 'dunning'>;
}

// What the run needs of the invoice to show what is owed today without asking the database.
export interface InvoiceFacts {
  number: number;
  status: InvoiceStatus;
  stage: DunningStage | null;
  dueDate: string;
  amountCents: number;
  finePercent: number;
  monthlyInterestPercent: number;
  paidCents: number;
  payments: PaymentOn[];
  hasSubscription: boolean;
}

interface InvoiceRef {
  tenantId: string;
  invoiceId: string;
}

interface StepRecord extends InvoiceRef {
  stepKey: string;
  type: DunningEventType;
  stage: DunningStage;
  today: string;
  data?: Record<string, unknown>;
}

const gone = (what: string) => ApplicationFailure.create({ type: PERMANENT_FAILURE_TYPES.permanent, message: `${what} not found`, nonRetryable: true });

async function factsOf(trx: Knex.Transaction, inv: Invoice): Promise<InvoiceFacts> {
  const rows = await Payment.query(trx).where({ invoiceId: inv.id }).select('kind', 'amountCents', 'paidOn');
  return {
    number: inv.number,
    status: inv.status,
    stage: inv.dunningStage,
    dueDate: inv.dueDate,
    amountCents: inv.amountCents,
    finePercent: inv.finePercent,
    monthlyInterestPercent: inv.monthlyInterestPercent,
    paidCents: inv.paidCents,
    payments: netPayments(rows),
    hasSubscription: inv.subscriptionId !== null,
  };
}

async function invoiceOf(trx: Knex.Transaction, invoiceId: string, lock = false): Promise<Invoice> {
  const q = Invoice.query(trx).findById(invoiceId);
  const inv = await (lock ? q.forUpdate() : q);
  if (!inv) throw gone(`invoice ${invoiceId}`);
  return inv;
}

// One timeline row per step key (a retry finds it), and the invoice's stage.
async function writeStep(trx: Knex.Transaction, r: StepRecord, amountDueCents: number | null): Promise<boolean> {
  const inserted = await trx('dunning_events')
    .insert({ id: randomUUID(), tenantId: r.tenantId, invoiceId: r.invoiceId, type: r.type, stage: r.stage, stepKey: r.stepKey, amountDueCents, data: JSON.stringify(r.data ?? {}) })
    .onConflict(['invoice_id', 'step_key'])
    .ignore()
    .returning('id');
  await Invoice.query(trx).patch({ dunningStage: r.stage, updatedAt: new Date() }).where({ id: r.invoiceId });
  return inserted.length > 0;
}

async function liftConsequences(trx: Knex.Transaction, inv: Invoice, today: string, stage: DunningStage): Promise<number> {
  const open = await DunningConsequenceRow.query(trx).where({ invoiceId: inv.id }).whereNull('liftedAt');
  if (open.length === 0) return 0;
  const now = new Date();
  await DunningConsequenceRow.query(trx).patch({ liftedAt: now }).whereIn('id', open.map((c) => c.id));
  for (const c of open) {
    if (c.targetType === 'subscription') {
      // Another unpaid invoice of the same subscription may still hold it suspended.
      const other = await DunningConsequenceRow.query(trx).where({ targetType: 'subscription', targetId: c.targetId }).whereNull('liftedAt').first();
      if (!other) await Subscription.query(trx).patch({ serviceSuspended: false, updatedAt: now }).where({ id: c.targetId });
    }
    if (c.targetType === 'contact') {
      const other = await DunningConsequenceRow.query(trx).where({ targetType: 'contact', targetId: c.targetId }).whereNull('liftedAt').first();
      if (!other) await Contact.query(trx).patch({ delinquentSince: null } as Partial<Contact>).where({ id: c.targetId });
    }
  }
  await writeStep(trx, { tenantId: inv.tenantId, invoiceId: inv.id, stepKey: `lifted:${stage}`, type: 'consequence_lifted', stage, today, data: { kinds: open.map((c) => c.kind) } }, null);
  return open.length;
}

async function resolveCollection(trx: Knex.Transaction, invoiceId: string, outcome: CollectionOutcome): Promise<CollectionItem | null> {
  const item = await CollectionItem.query(trx).where({ invoiceId }).whereNot({ status: 'resolved' }).first();
  if (!item) return null;
  const now = new Date();
  return CollectionItem.query(trx).patchAndFetchById(item.id, { status: 'resolved', outcome, resolvedAt: now, updatedAt: now });
}

export function collectionEvent(item: CollectionItem): CollectionUpdatedEvent {
  return {
    tenantId: item.tenantId,
    collectionId: item.id,
    invoiceId: item.invoiceId,
    contactId: item.contactId,
    status: item.status,
    assigneeId: item.assigneeId,
    amountDueCents: item.amountDueCents,
    daysLate: item.daysLate,
    updatedAt: item.updatedAt.toISOString(),
  };
}

export async function emitCollectionUpdated(deps: Pick<ActivityDeps, 'realtime'>, item: CollectionItem): Promise<void> {
  await realtimeOf(deps).emit({ tenantId: item.tenantId, roles: BILLING_ROLES }, 'collection:updated', collectionEvent(item));
}

export async function emitInvoiceUpdated(deps: Pick<ActivityDeps, 'knex' | 'realtime'>, tenantId: string, invoiceId: string, today: string): Promise<void> {
  const payload = await withTenant(deps.knex, tenantId, async (trx) => {
    const inv = await Invoice.query(trx).findById(invoiceId);
    if (!inv) return null;
    return invoiceUpdatedEvent(inv, (await invoiceAmountDue(trx, inv, today)).totalCents);
  });
  if (payload) await realtimeOf(deps).emit({ tenantId, roles: BILLING_ROLES }, 'invoice:updated', payload);
}

const SENT_TYPE: Record<Exclude<NoticeKind, 'payment_confirmed'>, DunningEventType> = {
  reminder: 'reminder_sent',
  due: 'reminder_sent',
  notice: 'notice_sent',
  final_notice: 'final_notice_sent',
};

export function dunningActivities(deps: ActivityDeps) {
  const { knex } = deps;
  const afterStep = (r: InvoiceRef & { today: string }) => emitInvoiceUpdated(deps, r.tenantId, r.invoiceId, r.today);

  return {
    async loadDunningContext(a: InvoiceRef): Promise<{ settings: DunningSettings; invoice: InvoiceFacts }> {
      return withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId);
        const read = await readTenantSettings(trx, a.tenantId);
        if (!read) throw gone(`settings of tenant ${a.tenantId}`);
        const { timeZone, billing } = read.settings;
        return { settings: { timeZone, billing: { collectionWindow: billing.collectionWindow, dunning: billing.dunning } }, invoice: await factsOf(trx, inv) };
      });
    },

    async readDunningInvoice(a: InvoiceRef): Promise<InvoiceFacts> {
      return withTenant(knex, a.tenantId, async (trx) => factsOf(trx, await invoiceOf(trx, a.invoiceId)));
    },

    // The first run of an invoice announces it (every creation path goes through here).
    async announceInvoiceCreated(a: InvoiceRef & { today: string; stage: DunningStage }): Promise<void> {
      const inv = await withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId);
        await writeStep(trx, { ...a, stepKey: 'started', type: 'started' }, inv.amountCents);
        return inv;
      });
      await startAutomationEvent(deps, a.tenantId, `invoice:${a.invoiceId}:created`, 'invoice.created', {
        invoiceId: inv.id, number: inv.number, contactId: inv.contactId, origin: inv.origin, originId: inv.originId, amountCents: inv.amountCents, dueDate: inv.dueDate,
        renegotiatedFrom: inv.renegotiatedFrom,
      });
      await afterStep(a);
    },

    async recordDunningStep(a: StepRecord): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId);
        const due = await invoiceAmountDue(trx, inv, a.today);
        await writeStep(trx, a, due.totalCents);
      });
      await afterStep(a);
    },

    // A collection message, to the invoice's own contact only, with today's amount and the link.
    async sendDunningNotice(a: InvoiceRef & { stepKey: string; kind: NoticeKind; stage: DunningStage; today: string; updateId: string }): Promise<{ sent: boolean; reason?: string }> {
      const prepared = await withTenant(knex, a.tenantId, async (trx) => {
        const done = await DunningEvent.query(trx).where({ invoiceId: a.invoiceId, stepKey: a.stepKey }).first();
        if (done) return { done };
        const inv = await invoiceOf(trx, a.invoiceId);
        const contact = await Contact.query(trx).findById(inv.contactId);
        if (!contact) throw gone(`contact ${inv.contactId}`);
        const read = await readTenantSettings(trx, a.tenantId);
        if (!read) throw gone(`settings of tenant ${a.tenantId}`);
        const due = await invoiceAmountDue(trx, inv, a.today);
        const charge = await GatewayCharge.query(trx).where({ invoiceId: inv.id, current: true }).first();
        const skip = async (reason: string, extra: Record<string, unknown> = {}) => {
          await writeStep(trx, { ...a, type: 'message_skipped', data: { reason, kind: a.kind, ...extra } }, due.totalCents);
          return { skipped: reason };
        };
        if (contact.doNotContact) return skip('do_not_contact');
        if (!contact.waId) return skip('no_channel');
        const notice = collectionNotice(a.kind, { customerName: contact.name ?? contact.profileName ?? null, invoiceNumber: inv.number, ...(a.kind === 'payment_confirmed'
            ? { amountDueCents: inv.paidCents, paymentLink: 'Pagamento recebido; nenhuma ação é necessária.' }
            : { amountDueCents: due.totalCents, paymentLink: charge?.invoiceUrl ?? null }), dueDate: inv.dueDate }, read.settings.billing);
        if ('skipped' in notice) return skip(notice.skipped, notice.problems ? { problems: notice.problems } : {});
        return { send: { contactId: inv.contactId, content: notice.content, parameters: notice.parameters, amountDueCents: due.totalCents } };
      });
      if ('done' in prepared) return { sent: prepared.done!.type !== 'message_skipped', reason: (prepared.done!.data as { reason?: string }).reason };
      if ('skipped' in prepared) {
        await afterStep(a);
        return { sent: false, reason: prepared.skipped };
      }
      const s = prepared.send!;
      const r = await sendToContact(deps, { tenantId: a.tenantId, contactId: s.contactId, content: s.content, updateId: a.updateId });
      await withTenant(knex, a.tenantId, async (trx) => {
        const type: DunningEventType = r.status === 'accepted' ? (a.kind === 'payment_confirmed' ? 'notice_sent' : SENT_TYPE[a.kind]) : 'message_skipped';
        await writeStep(trx, { ...a, type, data: { kind: a.kind, messageId: r.messageId, parameters: s.parameters, ...(r.status === 'accepted' ? {} : { reason: 'refused', failure: r.failure }) } }, s.amountDueCents);
      });
      await afterStep(a);
      return r.status === 'accepted' ? { sent: true } : { sent: false, reason: 'refused' };
    },

    async markInvoiceOverdue(a: InvoiceRef & { stepKey: string; today: string }): Promise<void> {
      const first = await withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId, true);
        const due = await invoiceAmountDue(trx, inv, a.today);
        if (inv.status === 'open') await Invoice.query(trx).patch({ status: 'overdue', overdueAt: new Date(), updatedAt: new Date() }).where({ id: inv.id });
        const wrote = await writeStep(trx, { ...a, type: 'overdue', stage: 'overdue' }, due.totalCents);
        return wrote ? { inv, due } : null;
      });
      if (first) {
        await startAutomationEvent(deps, a.tenantId, `invoice:${a.invoiceId}:overdue`, 'invoice.overdue', {
          invoiceId: a.invoiceId, number: first.inv.number, contactId: first.inv.contactId, dueDate: first.inv.dueDate, amountDueCents: first.due.totalCents, daysLate: first.due.daysLate,
        });
      }
      await afterStep(a);
    },

    // The collectors' queue: one open item per invoice.
    async escalateInvoice(a: InvoiceRef & { stepKey: string; today: string }): Promise<{ collectionId: string }> {
      const r = await withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId, true);
        const due = await invoiceAmountDue(trx, inv, a.today);
        const open = await CollectionItem.query(trx).where({ invoiceId: inv.id }).whereNot({ status: 'resolved' }).first();
        const item = open ?? (await CollectionItem.query(trx).insertAndFetch({ id: randomUUID(), tenantId: a.tenantId, invoiceId: inv.id, contactId: inv.contactId, status: 'open', assigneeId: null, amountDueCents: due.totalCents, daysLate: due.daysLate }));
        const wrote = await writeStep(trx, { ...a, type: 'escalated', stage: 'escalated', data: { collectionId: item.id } }, due.totalCents);
        return { item, wrote, inv, due };
      });
      await emitCollectionUpdated(deps, r.item);
      if (r.wrote) {
        await startAutomationEvent(deps, a.tenantId, `invoice:${a.invoiceId}:escalated`, 'dunning.escalated', {
          invoiceId: a.invoiceId, number: r.inv.number, contactId: r.inv.contactId, collectionId: r.item.id, amountDueCents: r.due.totalCents, daysLate: r.due.daysLate,
        });
      }
      await afterStep(a);
      return { collectionId: r.item.id };
    },

    // The tenant's consequence, always recorded in dunning_consequences so a payment lifts it.
    async applyDunningConsequence(a: InvoiceRef & { stepKey: string; today: string }): Promise<{ kind: string }> {
      const r = await withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId, true);
        const read = await readTenantSettings(trx, a.tenantId);
        if (!read) throw gone(`settings of tenant ${a.tenantId}`);
        const due = await invoiceAmountDue(trx, inv, a.today);
        let kind = read.settings.billing.dunning.consequence;
        if (kind === 'suspend_service' && !inv.subscriptionId) kind = 'mark_delinquent';
        if (kind === 'count_toward_exclusion' && (inv.origin !== 'consortium_quota' || !inv.originId)) kind = 'mark_delinquent';
        const now = new Date();
        const target =
          kind === 'suspend_service'
            ? { targetType: 'subscription' as const, targetId: inv.subscriptionId! }
            : kind === 'count_toward_exclusion'
              ? { targetType: 'consortium_quota' as const, targetId: inv.originId! }
              : kind === 'mark_delinquent'
                ? { targetType: 'contact' as const, targetId: inv.contactId }
                : { targetType: 'invoice' as const, targetId: inv.id };
        // A refund that reopened the invoice brings a lifted consequence back.
        await trx('dunning_consequences').insert({ id: randomUUID(), tenantId: a.tenantId, invoiceId: inv.id, kind, ...target, appliedAt: now }).onConflict(['invoice_id', 'kind']).merge({ liftedAt: null, appliedAt: now });
        if (kind === 'suspend_service') await Subscription.query(trx).patch({ serviceSuspended: true, updatedAt: now }).where({ id: inv.subscriptionId! });
        if (kind === 'mark_delinquent') await Contact.query(trx).patch({ delinquentSince: now } as Partial<Contact>).where({ id: inv.contactId }).whereNull('delinquentSince');
        await writeStep(trx, { ...a, type: 'consequence_applied', stage: 'exhausted', data: { kind, ...target } }, due.totalCents);
        const wrote = await writeStep(trx, { ...a, stepKey: 'exhausted', type: 'exhausted', stage: 'exhausted' }, due.totalCents);
        return { kind, wrote, inv, due, target };
      });
      if (r.wrote) {
        await startAutomationEvent(deps, a.tenantId, `invoice:${a.invoiceId}:exhausted`, 'dunning.exhausted', {
          invoiceId: a.invoiceId, number: r.inv.number, contactId: r.inv.contactId, consequence: r.kind, targetType: r.target.targetType, targetId: r.target.targetId, amountDueCents: r.due.totalCents,
        });
      }
      await afterStep(a);
      return { kind: r.kind };
    },

    // Paid (the payment is already recorded) or cancelled by staff: the run's end on the record.
    async settleDunning(a: InvoiceRef & { outcome: 'paid' | 'cancelled'; today: string; actor?: Actor | null; reason?: string | null; stepKey?: string }): Promise<void> {
      const item = await withTenant(knex, a.tenantId, async (trx) => {
        const inv = await invoiceOf(trx, a.invoiceId, true);
        const now = new Date();
        if (a.outcome === 'cancelled' && (inv.status === 'open' || inv.status === 'overdue')) {
          await Invoice.query(trx).patch({ status: 'cancelled', cancelledAt: now, cancelReason: a.reason ?? null, updatedAt: now }).where({ id: inv.id });
        }
        await liftConsequences(trx, inv, a.today, a.outcome);
        const item = await resolveCollection(trx, inv.id, a.outcome === 'paid' ? 'paid' : 'other');
        await writeStep(trx, { ...a, stepKey: a.stepKey ?? a.outcome, type: a.outcome, stage: a.outcome, data: { actor: a.actor ?? null, reason: a.reason ?? null } }, null);
        return item;
      });
      if (item) await emitCollectionUpdated(deps, item);
      await afterStep(a);
    },

    // New invoices replace this one (one transaction), then each gets its own dunning run. A
    // retry finds the invoices the first attempt created.
    async renegotiateInvoice(
      a: InvoiceRef & { installments: { dueDate: string; amountCents: number }[]; actor: Actor; note: string | null; today: string; options?: DunningOptions },
    ): Promise<{ invoiceIds: string[] }> {
      const r = await withTenant(knex, a.tenantId, async (trx) => {
        const old = await invoiceOf(trx, a.invoiceId, true);
        if (old.status === 'renegotiated') {
          const made = await Invoice.query(trx).where({ renegotiatedFrom: old.id }).orderBy('dueDate').orderBy('number');
          return { ids: made.map((i) => i.id), item: null };
        }
        const ids: string[] = [];
        for (const [i, p] of a.installments.entries()) {
          const inv = await createInvoice(
            trx,
            {
              tenantId: a.tenantId,
              contactId: old.contactId,
              origin: old.origin,
              originId: old.originId,
              subscriptionId: null,
              renegotiatedFrom: old.id,
              description: `${old.description} (renegociação ${i + 1}/${a.installments.length})`,
              amountCents: p.amountCents,
              dueDate: p.dueDate,
              finePercent: old.finePercent,
              monthlyInterestPercent: old.monthlyInterestPercent,
              billingType: old.billingType,
              createdBy: a.actor.type === 'user' ? a.actor.id : null,
            },
            dunningWorkflowId,
          );
          ids.push(inv.id);
        }
        const now = new Date();
        await Invoice.query(trx).patch({ status: 'renegotiated', updatedAt: now }).where({ id: old.id });
        await liftConsequences(trx, old, a.today, 'renegotiated');
        const item = await resolveCollection(trx, old.id, 'renegotiated');
        await writeStep(trx, { ...a, stepKey: 'renegotiated', type: 'renegotiated', stage: 'renegotiated', data: { invoiceIds: ids, actor: a.actor, note: a.note } }, null);
        return { ids, item };
      });
      if (r.item) await emitCollectionUpdated(deps, r.item);
      for (const invoiceId of r.ids) {
        await startOnce(deps, dunningStart({ tenantId: a.tenantId, invoiceId, ...(a.options ? { options: a.options } : {}) }));
      }
      await afterStep(a);
      return { invoiceIds: r.ids };
    },
  };
}
