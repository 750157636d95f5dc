import { randomUUID } from 'node:crypto';
import { createInvoice } from '../../db/invoices';
import { withTenant } from '../../db/tenant-scope';
import { localParts } from '../../domain/calendar';
import { addCalendarDays, isBankBusinessDay } from '../../domain/late-charges';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { templateTexts, type SentMessage } from '../../scripts/sandbox/graph-api';
import { dunningStart, dunningViewQuery, dunningWorkflowId, paymentRecordedSignal, type DunningOptions, type DunningView } from '../../workflows/dunning';
import { startOptions } from '../../workflows/workflow-start';
import { ALWAYS_OPEN } from '../sales/appointment-support';
import type { TestStack } from '../support/stack';
import { guestPhone, setTenantSettings, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// What the dunning tests share: a tenant whose collection window is always open (so nothing
// depends on the hour the suite runs), a short schedule, invoices written as every creation path
// writes them, payments recorded as the gateway would, and the templates the sandbox delivered.

export const TZ = 'America/Sao_Paulo';
export const CREDITOR = { legalName: 'Imobiliária Sol Ltda', taxId: '11222333000181', address: 'Rua das Flores, 100, São Paulo/SP' };
export const CREDITOR_LINE = 'Credor: Imobiliária Sol Ltda, CPF/CNPJ 11.222.333/0001-81, Rua das Flores, 100, São Paulo/SP';
// D-2 reminder, D due, D+1 overdue and notice, D+3 notice, D+4 collectors, D+5 final, D+6 consequence.
export const SCHEDULE: TenantSettings['billing']['dunning'] = {
  reminderDaysBefore: [2],
  remindOnDueDate: true,
  noticeDaysAfter: [1, 3],
  escalateAfterDays: 4,
  finalNoticeAfterDays: 5,
  consequenceAfterDays: 6,
  consequence: 'mark_delinquent',
  maxPromiseDays: 10,
};
export const DAY_MS = 1500;
export const OPTIONS: DunningOptions = { dayMs: DAY_MS };
export const COLLECTION_TEMPLATES = ['cobranca_lembrete', 'cobranca_vencimento', 'cobranca_atraso', 'cobranca_aviso_final'];

export type Billing = Partial<Omit<TenantSettings['billing'], 'collectionWindow'>> & { collectionWindow?: TenantSettings['billing']['collectionWindow'] };

export async function billingTenant(stack: TestStack, billing: Billing = {}, base: Partial<TenantSettings> = {}): Promise<WhatsAppTenant> {
  const t = await whatsappTenant(stack);
  await setTenantSettings(stack, t.tenantId, {
    timeZone: TZ,
    ...base,
    billing: {
      ...DEFAULT_TENANT_SETTINGS.billing,
      creditor: CREDITOR,
      collectionWindow: { preset: 'custom', hours: ALWAYS_OPEN, observeNationalHolidays: false },
      dunning: SCHEDULE,
      ...billing,
    },
  });
  return t;
}

export const todayIn = (tz = TZ) => localParts(Date.now(), tz).date;

// A due date at least two days ahead that is a bank business day, so its grace is itself and the
// hand-computed amounts below hold whatever day the suite runs.
export function businessDueDate(from = todayIn()): string {
  let d = addCalendarDays(from, 2);
  while (!isBankBusinessDay(d)) d = addCalendarDays(d, 1);
  return d;
}

export async function debtor(stack: TestStack, tenantId: string, o: { doNotContact?: boolean; name?: string } = {}) {
  const waId = guestPhone();
  const contactId = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) =>
    trx('contacts').insert({ id: contactId, tenantId, waId, name: o.name ?? 'Ana Devedora', doNotContact: o.doNotContact ?? false, doNotContactReason: o.doNotContact ? 'nao_me_ligue' : null }),
  );
  return { contactId, waId };
}

export async function newInvoice(stack: TestStack, tenantId: string, contactId: string, o: { dueDate: string; amountCents?: number; origin?: 'manual' | 'consortium_quota'; originId?: string | null; subscriptionId?: string | null }) {
  return withTenant(stack.deps.knex, tenantId, async (trx) =>
    createInvoice(
      trx,
      {
        tenantId,
        contactId,
        origin: o.origin ?? 'manual',
        originId: o.originId ?? null,
        subscriptionId: o.subscriptionId ?? null,
        description: 'Aluguel dezembro',
        amountCents: o.amountCents ?? 100_000,
        dueDate: o.dueDate,
        finePercent: 2,
        monthlyInterestPercent: 1,
        billingType: 'PIX',
      },
      dunningWorkflowId,
    ),
  );
}

export async function startDunning(stack: TestStack, tenantId: string, invoiceId: string, options: DunningOptions = OPTIONS) {
  const start = dunningStart({ tenantId, invoiceId, options });
  return stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
}

export const handleOf = (stack: TestStack, tenantId: string, invoiceId: string) => stack.deps.temporal.client.workflow.getHandle(dunningWorkflowId(tenantId, invoiceId));
export const viewOf = (stack: TestStack, tenantId: string, invoiceId: string): Promise<DunningView> => handleOf(stack, tenantId, invoiceId).query(dunningViewQuery);

export async function untilStage(stack: TestStack, tenantId: string, invoiceId: string, stage: DunningView['stage'], timeoutMs = 30_000): Promise<DunningView> {
  return until(`stage ${stage}`, async () => {
    const v = await viewOf(stack, tenantId, invoiceId);
    return v.today !== '' && v.stage === stage ? v : null;
  }, timeoutMs);
}

export async function untilDone(stack: TestStack, tenantId: string, invoiceId: string, stepKey: string, timeoutMs = 30_000): Promise<DunningView> {
  return until(`step ${stepKey}`, async () => {
    const v = await viewOf(stack, tenantId, invoiceId);
    return v.today !== '' && v.done.includes(stepKey) ? v : null;
  }, timeoutMs);
}

// As the gateway's webhook would: the payment row, the invoice's balance, then the wake-up.
export async function pay(stack: TestStack, tenantId: string, invoiceId: string, amountCents: number, paidOn: string, o: { settles: boolean }) {
  const paymentId = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    await trx('payments').insert({ id: paymentId, tenantId, invoiceId, kind: 'payment', amountCents, paidOn, method: 'pix', source: 'manual' });
    await trx('invoices')
      .where({ id: invoiceId })
      .update({ paidCents: trx.raw('paid_cents + ?', [amountCents]), ...(o.settles ? { status: 'paid', paidAt: new Date() } : {}), updatedAt: new Date() });
  });
  await handleOf(stack, tenantId, invoiceId).signal(paymentRecordedSignal, { paymentId, kind: 'payment' });
  return paymentId;
}

export const collectionSent = (stack: TestStack, waId: string): SentMessage[] => stack.graph.sentTo(waId).filter((m) => m.templateName !== undefined);
export const paramsOf = (m: SentMessage) => templateTexts(m);

// A notice the run records as sent was accepted by the conversation, which paces its own sends:
// the Graph server sees it a moment later. Counting sends before they arrive miscounts.
const SENT_EVENTS = ['reminder_sent', 'notice_sent', 'final_notice_sent'];
export async function untilDelivered(stack: TestStack, tenantId: string, invoiceId: string, waId: string): Promise<SentMessage[]> {
  return until('recorded notices delivered', async () => {
    const recorded = (await eventsOf(stack, tenantId, invoiceId)).filter((e) => SENT_EVENTS.includes(e.type)).length;
    const sent = collectionSent(stack, waId);
    return sent.length >= recorded ? sent : null;
  });
}

export async function eventsOf(stack: TestStack, tenantId: string, invoiceId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('dunning_events').where({ invoiceId }).orderBy('seq'));
}

export async function invoiceRow(stack: TestStack, tenantId: string, invoiceId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('invoices').where({ id: invoiceId }).first());
}

// For the API matrices: invoices due in 40 days (their runs started, nothing due for weeks, no
// creditor so nothing would be sent anyway) and open items in the collectors' queue.
export async function dunningMatrixFixtures(stack: TestStack, tenantId: string): Promise<Record<string, string>> {
  const { contactId } = await debtor(stack, tenantId);
  const ids: Record<string, string> = {};
  for (const name of ['invoiceId', 'renegotiableInvoiceId', 'cancellableInvoiceId']) {
    const inv = await newInvoice(stack, tenantId, contactId, { dueDate: addCalendarDays(todayIn(), 40) });
    await startDunning(stack, tenantId, inv.id, {});
    await until('dunning started', async () => (await viewOf(stack, tenantId, inv.id)).today !== '');
    ids[name] = inv.id;
  }
  // One open item per invoice: these invoices have no run (nothing else touches their items).
  for (const name of ['collectionId', 'resolvableCollectionId']) {
    const id = randomUUID();
    const queued = await newInvoice(stack, tenantId, contactId, { dueDate: addCalendarDays(todayIn(), -20) });
    await withTenant(stack.deps.knex, tenantId, async (trx) =>
      trx('collection_items').insert({ id, tenantId, invoiceId: queued.id, contactId, status: 'open', amountDueCents: 100_000, daysLate: 16 }),
    );
    ids[name] = id;
  }
  return ids;
}
