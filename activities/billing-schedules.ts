import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Knex } from 'knex';
import { createInvoice, invoiceAmountDue } from '../db/invoices';
import { Invoice, Subscription } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { issueDate, nextDueDate, scheduleCalendarFor, type ScheduleCalendar } from '../domain/billing-cycle';
import type { BillingCycle, BillingType } from '../domain/billing-statuses';
import { todayIn } from '../domain/contract-template';
import { BILLING_ROLES } from '../domain/roles';
import { DEFAULT_TENANT_SETTINGS } from '../domain/tenant-settings';
import { dunningStart, dunningWorkflowId } from '../workflows/dunning';
import { billingScheduleId, type IssuedInvoices, type IssueSubscriptionInvoicesInput } from '../workflows/invoice-issuing/definitions';
import { issueSubscriptionInvoicesStart } from '../workflows/invoice-issuing/start';
import { startAutomationEvent } from './automation-events';
import { realtimeOf, type ActivityDeps } from './deps';
import { startOnce } from './temporal-calls';
import { invoiceUpdatedEvent } from '../domain/realtime-events';

// Recurring billing: a subscription (a signed contract's installments, a rent, a plan) and its
// ONE Temporal Schedule, `billing:{tenant}:{subscription}`, in the tenant's time zone. The
// schedule's firings start issueSubscriptionInvoices, whose one activity (issueDueInvoices below)
// issues what is due. The API, the contract hand-off and the activity all use these functions;
// they take the Temporal client from their deps and do nothing with Temporal when it has none
// (a worker or a test without a client), as startOnce does.

export type BillingDeps = Pick<ActivityDeps, 'knex' | 'temporal' | 'realtime'>;

// A schedule that was down (or paused by an outage of the worker) catches up on a week of firings;
// the activity issues from the row, so a late firing issues the same invoices a timely one would.
const CATCHUP_WINDOW = '7 days';
// A bound on one run's catch-up: a subscription created with a first due date long past gets its
// invoices over a few firings instead of one huge transaction.
const MAX_INVOICES_PER_RUN = 24;

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;
const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

function calendarSpec(c: ScheduleCalendar) {
  if (c.kind === 'weekly') return { hour: c.hour, dayOfWeek: c.daysOfWeek.map((d) => DAYS_OF_WEEK[d]!), comment: 'issue day of the week' };
  return {
    hour: c.hour,
    dayOfMonth: c.daysOfMonth,
    month: c.months.length === 12 ? ('*' as const) : c.months.map((m) => MONTHS[m - 1]!),
    comment: 'issue days of the month',
  };
}

type ScheduledSubscription = Pick<Subscription, 'id' | 'tenantId' | 'scheduleId' | 'cycle' | 'firstDueDate' | 'issueDaysBeforeDue' | 'status'>;

export function billingScheduleOptions(sub: ScheduledSubscription, timeZone: string, taskQueue: string): ScheduleOptions {
  const start = issueSubscriptionInvoicesStart({ tenantId: sub.tenantId, subscriptionId: sub.id });
  return {
    scheduleId: sub.scheduleId,
    spec: { calendars: [calendarSpec(scheduleCalendarFor(sub.cycle, sub.firstDueDate, sub.issueDaysBeforeDue))], timezone: timeZone },
    action: {
      type: 'startWorkflow',
      workflowType: start.workflowType,
      workflowId: start.workflowId,
      taskQueue,
      args: start.args,
      typedSearchAttributes: start.typedSearchAttributes,
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: CATCHUP_WINDOW },
    state: sub.status === 'paused' ? { paused: true, note: 'Assinatura pausada.' } : { paused: false },
    typedSearchAttributes: start.typedSearchAttributes,
  };
}

// Creates the subscription's schedule; one that exists already is fine (a retried hand-off).
export async function ensureBillingSchedule(deps: Pick<ActivityDeps, 'temporal'>, sub: ScheduledSubscription, timeZone: string): Promise<boolean> {
  if (!deps.temporal) return false;
  try {
    await deps.temporal.client.schedule.create(billingScheduleOptions(sub, timeZone, deps.temporal.taskQueue));
    return true;
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return false;
    throw err;
  }
}

export async function pauseBillingSchedule(deps: Pick<ActivityDeps, 'temporal'>, scheduleId: string, note: string): Promise<void> {
  if (!deps.temporal) return;
  await deps.temporal.client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseBillingSchedule(deps: Pick<ActivityDeps, 'temporal'>, scheduleId: string, note: string): Promise<void> {
  if (!deps.temporal) return;
  await deps.temporal.client.schedule.getHandle(scheduleId).unpause(note);
}

// A schedule already gone is what the caller wanted.
export async function deleteBillingSchedule(deps: Pick<ActivityDeps, 'temporal'>, scheduleId: string): Promise<void> {
  if (!deps.temporal) return;
  try {
    await deps.temporal.client.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return;
    throw err;
  }
}

export interface SubscriptionSpec {
  tenantId: string;
  contactId: string;
  contractId?: string | null;
  description: string;
  amountCents: number;
  firstAmountCents?: number | null;
  cycle: BillingCycle;
  billingType: BillingType;
  finePercent: number;
  monthlyInterestPercent: number;
  firstDueDate: string;
  maxInvoices: number | null;
  issueDaysBeforeDue: number;
  owner?: { name: string; document: string; pixKey: string | null; agencyFeePercent: number; payoutDay: number } | null;
  createdBy?: string | null;
}

// The row, inside the caller's transaction. The caller commits, then ensures the schedule.
export async function insertSubscription(trx: Knex.Transaction, spec: SubscriptionSpec): Promise<Subscription> {
  const id = randomUUID();
  return Subscription.query(trx).insertAndFetch({
    id,
    tenantId: spec.tenantId,
    contactId: spec.contactId,
    contractId: spec.contractId ?? null,
    description: spec.description,
    amountCents: spec.amountCents,
    firstAmountCents: spec.firstAmountCents && spec.firstAmountCents !== spec.amountCents ? spec.firstAmountCents : null,
    cycle: spec.cycle,
    billingType: spec.billingType,
    finePercent: spec.finePercent,
    monthlyInterestPercent: spec.monthlyInterestPercent,
    firstDueDate: spec.firstDueDate,
    nextDueDate: spec.firstDueDate,
    nextSequence: 1,
    maxInvoices: spec.maxInvoices,
    issueDaysBeforeDue: spec.issueDaysBeforeDue,
    status: 'active',
    scheduleId: billingScheduleId(spec.tenantId, id),
    ownerName: spec.owner?.name ?? null,
    ownerDocument: spec.owner?.document ?? null,
    ownerPixKey: spec.owner?.pixKey ?? null,
    agencyFeePercent: spec.owner ? spec.owner.agencyFeePercent : null,
    payoutDay: spec.owner ? spec.owner.payoutDay : null,
    createdBy: spec.createdBy ?? null,
  });
}

export async function tenantToday(trx: Knex.Transaction, tenantId: string, now = new Date()): Promise<{ today: string; timeZone: string }> {
  const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
  return { today: todayIn(settings.timeZone, now), timeZone: settings.timeZone };
}

const brDate = (d: string) => d.split('-').reverse().join('/');

function invoiceDescription(sub: Subscription, sequence: number, dueDate: string): string {
  return sub.maxInvoices ? `${sub.description} — parcela ${sequence}/${sub.maxInvoices}` : `${sub.description} — vencimento ${brDate(dueDate)}`;
}

// THE ISSUING STEP (the schedule's activity, and the hand-off's first run): in one tenant
// transaction, with the subscription locked, every invoice whose issue date (due date − the
// subscription's days before due) has come, while active and under max_invoices; the row's
// next_sequence and next_due_date advance past them. After max_invoices the subscription ends and
// its schedule is deleted. After commit, each unpaid invoice's dunning workflow is started (once:
// a retry after a crash between the commit and the start finds the invoice issued and starts it).
export async function issueDueInvoices(deps: BillingDeps, a: IssueSubscriptionInvoicesInput, now = new Date()): Promise<IssuedInvoices> {
  const result = await withTenant(deps.knex, a.tenantId, async (trx) => {
    const sub = await Subscription.query(trx).findById(a.subscriptionId).forUpdate();
    if (!sub) return null;
    const { today } = await tenantToday(trx, a.tenantId, now);
    const issued: Invoice[] = [];
    let sequence = sub.nextSequence;
    let dueDate = sub.nextDueDate;
    const underMax = () => sub.maxInvoices === null || sequence <= sub.maxInvoices;
    while (sub.status === 'active' && underMax() && issued.length < MAX_INVOICES_PER_RUN && issueDate(dueDate, sub.issueDaysBeforeDue) <= today) {
      issued.push(
        await createInvoice(
          trx,
          {
            tenantId: a.tenantId,
            contactId: sub.contactId,
            origin: sub.contractId ? 'contract' : 'subscription',
            originId: sub.contractId,
            subscriptionId: sub.id,
            sequence,
            description: invoiceDescription(sub, sequence, dueDate),
            amountCents: sequence === 1 && sub.firstAmountCents ? sub.firstAmountCents : sub.amountCents,
            dueDate,
            finePercent: sub.finePercent,
            monthlyInterestPercent: sub.monthlyInterestPercent,
            billingType: sub.billingType,
            createdBy: null,
          },
          dunningWorkflowId,
        ),
      );
      sequence += 1;
      dueDate = nextDueDate(sub.cycle, sub.firstDueDate, sequence);
    }
    const ended = sub.status === 'active' && !underMax();
    if (issued.length || ended) {
      const at = new Date();
      await Subscription.query(trx).patch({
        nextSequence: sequence,
        nextDueDate: dueDate,
        updatedAt: at,
        ...(ended ? { status: 'ended', endedAt: at, endReason: 'Todas as parcelas foram emitidas.' } : {}),
      }).where({ id: sub.id });
    }
    const unpaid = await Invoice.query(trx).where({ subscriptionId: sub.id }).whereIn('status', ['open', 'overdue']).orderBy('sequence');
    const cards = await Promise.all(issued.map(async (inv) => ({ inv, due: await invoiceAmountDue(trx, inv, today) })));
    return { sub, issued, cards, unpaid, ended, status: (ended ? 'ended' : sub.status) as IssuedInvoices['status'] };
  });
  if (!result) return { invoiceIds: [], status: 'missing' };
  for (const inv of result.unpaid) await startOnce(deps, dunningStart({ tenantId: a.tenantId, invoiceId: inv.id }));
  if (result.ended) await deleteBillingSchedule(deps, result.sub.scheduleId);
  for (const { inv, due } of result.cards) {
    await startAutomationEvent(deps, a.tenantId, `invoice:${inv.id}:created`, 'invoice.created', invoiceEventData(inv));
    await realtimeOf(deps).emit({ tenantId: a.tenantId, roles: BILLING_ROLES }, 'invoice:updated', invoiceUpdatedEvent(inv, due.totalCents));
  }
  return { invoiceIds: result.issued.map((i) => i.id), status: result.status };
}

export function invoiceEventData(inv: Invoice): Record<string, unknown> {
  return {
    invoiceId: inv.id,
    number: inv.number,
    contactId: inv.contactId,
    origin: inv.origin,
    originId: inv.originId,
    subscriptionId: inv.subscriptionId,
    sequence: inv.sequence,
    amountCents: inv.amountCents,
    dueDate: inv.dueDate,
    billingType: inv.billingType,
    at: new Date().toISOString(),
  };
}


// A new subscription's schedule, then what is due already (a contract signed today has its
// first invoice at once, not at the next firing).
export async function startSubscriptionBilling(deps: BillingDeps, sub: Subscription, timeZone: string): Promise<IssuedInvoices> {
  await ensureBillingSchedule(deps, sub, timeZone);
  return issueDueInvoices(deps, { tenantId: sub.tenantId, subscriptionId: sub.id });
}

// Ends a subscription (staff, or a cancelled contract): no more invoices; its schedule is deleted.
// Invoices already issued are left alone: each has its own dunning, which staff can cancel.
export async function endSubscription(deps: BillingDeps, tenantId: string, subscriptionId: string, reason: string): Promise<Subscription | undefined> {
  const sub = await withTenant(deps.knex, tenantId, async (trx) => {
    const row = await Subscription.query(trx).findById(subscriptionId).forUpdate();
    if (!row || row.status === 'ended') return row;
    const at = new Date();
    return Subscription.query(trx).patchAndFetchById(subscriptionId, { status: 'ended', endedAt: at, endReason: reason, updatedAt: at });
  });
  if (sub) await deleteBillingSchedule(deps, sub.scheduleId);
  return sub;
}

export function billingScheduleActivities(deps: ActivityDeps) {
  return {
    async issueDueInvoices(a: IssueSubscriptionInvoicesInput): Promise<IssuedInvoices> {
      return issueDueInvoices(deps, a);
    },
  };
}
