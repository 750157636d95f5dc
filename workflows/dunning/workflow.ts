import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { DunningSettings, GatewayChargeActivities, InvoiceFacts } from '../../activities/dunning';
import type { DunningStage, InvoiceStatus } from '../../domain/billing-statuses';
import { localParts, zonedTimeToUtc } from '../../domain/calendar';
import { isWithinCollectionWindow, nextCollectionMoment } from '../../domain/collection-window';
import type { NoticeKind } from '../../domain/collection-notice';
import { dueActions, dunningPlan, isMessageStep, nextStep, type DunningStep, type DunningStepKind } from '../../domain/dunning-plan';
import { addCalendarDays, amountDue } from '../../domain/late-charges';
import {
  cancelInvoiceUpdate,
  dunningViewQuery,
  paymentRecordedSignal,
  promiseToPayUpdate,
  renegotiateUpdate,
  type DunningClock,
  type DunningInput,
  type DunningNextActionKind,
  type DunningView,
  type PaymentRecordedSignal,
  type PromiseToPay,
} from './definitions';
import * as rules from './transitions';

// One invoice's collection, from the reminders before its due date to its payment: notices with
// the updated amount and the payment link, a person in the collectors' queue, a final notice and
// the tenant's consequence, after which it waits for the money. Messages go only to the debtor,
// only inside the tenant's collection window, never to a do-not-contact contact, and always name
// the creditor. The database is the record of money: a payment signal is a wake-up to re-read it.

const store = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// A send waits for the conversation's reply update (and Meta); its update id is the step's, so a
// retry never sends twice.
const messaging = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

// The gateway's charge: a link in the next message is worth a few minutes of retries, not the run.
const gateway = proxyActivities<GatewayChargeActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const NOTICE_OF: Partial<Record<DunningStepKind, NoticeKind>> = { reminder: 'reminder', due: 'due', notice: 'notice', final_notice: 'final_notice' };
const NEXT_KIND: Record<DunningStepKind, DunningNextActionKind> = {
  reminder: 'reminder',
  due: 'due_reminder',
  overdue: 'mark_overdue',
  notice: 'notice',
  escalate: 'escalate',
  final_notice: 'final_notice',
  consequence: 'consequence',
};
const ENDED_BY_STATUS: Partial<Record<InvoiceStatus, DunningStage>> = { paid: 'paid', cancelled: 'cancelled', renegotiated: 'renegotiated' };
const NO_AMOUNT = { principalCents: 0, fineCents: 0, interestCents: 0, totalCents: 0, daysLate: 0 };
const MAX_TIMER_MS = 2_147_483_647;

export async function dunning(input: DunningInput): Promise<DunningStage> {
  const { tenantId, invoiceId } = input;
  const ref = { tenantId, invoiceId };
  const options = input.options ?? {};
  const dayMs = options.dayMs;
  const done: string[] = [...(input.resume?.done ?? [])];
  let promise: PromiseToPay | null = input.resume?.promise ?? null;
  let promisesMade = input.resume?.promisesMade ?? 0;
  let stage: DunningStage = input.resume?.stage ?? 'upcoming';
  let clock: DunningClock | null = input.resume?.clock ?? null;
  let settings: DunningSettings | null = null;
  let invoice: InvoiceFacts | null = null;
  let plan: DunningStep[] = [];
  let ended: DunningStage | null = null;
  let wake = false;
  const payments: PaymentRecordedSignal[] = [];
  let waitingFor: DunningView['waitingFor'] = null;
  let windowOpensAt: number | null = null;
  const windowWaits = new Set<string>();
  // A run reopened by a refund ends under keys of its own (the first settlement's are taken).
  const reopened = input.resume?.reopened;
  const endKey = (key: string) => (reopened ? `${key}:${reopened.paymentId}` : key);

  // --- Time: the tenant's calendar, or a test's compressed days --------------------------------
  const today = (): string => {
    if (!settings || !clock) return '';
    return dayMs ? rules.compressedToday(clock, dayMs, Date.now()) : localParts(Date.now(), settings.timeZone).date;
  };
  const momentOfDate = (date: string): number => (dayMs ? rules.compressedMoment(clock!, dayMs, date) : zonedTimeToUtc(date, 0, settings!.timeZone).getTime());
  // A message is due at the window's opening on its day; a record change at the day's start.
  const momentOf = (step: DunningStep): number => {
    const start = momentOfDate(step.date);
    if (dayMs || !isMessageStep(step.kind)) return start;
    return nextCollectionMoment(settings!, start)?.getTime() ?? start;
  };
  // A promise holds until the end of the promised day.
  const promiseEnd = (p: PromiseToPay) => momentOfDate(addCalendarDays(p.promisedDate, 1));

  const amountToday = () =>
    invoice && settings
      ? amountDue({
          amountCents: invoice.amountCents,
          dueDate: invoice.dueDate,
          on: today(),
          terms: { finePercent: invoice.finePercent, monthlyInterestPercent: invoice.monthlyInterestPercent },
          payments: invoice.payments,
        })
      : NO_AMOUNT;

  const view = (): DunningView => {
    const next = nextStep(plan, done);
    const iso = (ms: number) => new Date(ms).toISOString();
    let nextAction: DunningView['nextAction'] = null;
    if (ended || !settings) nextAction = null;
    else if (promise) nextAction = { kind: 'promise_check', stepKey: `promise:${promisesMade}`, dueAt: iso(promiseEnd(promise)) };
    else if (next) nextAction = { kind: NEXT_KIND[next.kind], stepKey: next.key, dueAt: iso(waitingFor === 'collection_window' && windowOpensAt ? windowOpensAt : momentOf(next)) };
    else nextAction = { kind: 'await_payment', stepKey: 'await_payment', dueAt: iso(Date.now()) };
    return {
      invoiceId,
      stage: ended ?? (promise ? 'promised' : stage),
      invoiceStatus: invoice?.status ?? 'open',
      nextAction,
      waitingFor: ended ? null : promise ? 'promise' : waitingFor,
      amountDueToday: amountToday(),
      today: today(),
      promise,
      done: [...done],
      number: invoice?.number ?? 0,
      dueDate: invoice?.dueDate ?? '',
      historyLength: workflowInfo().historyLength,
    };
  };

  const refuse = (r: rules.Refusal | null) => {
    if (r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
  };
  const loaded = () => settings !== null && invoice !== null;
  const settledRefusal = () => rules.settledRefusal(invoice?.status ?? 'open', ended !== null);

  // --- Steps -------------------------------------------------------------------------------
  async function refreshCharge(): Promise<void> {
    try {
      await gateway.ensureInvoiceCharge(ref);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('no gateway charge for the invoice', { invoiceId, error: err.message });
    }
  }

  async function send(kind: NoticeKind, stepKey: string, atStage: DunningStage): Promise<void> {
    try {
      const r = await messaging.sendDunningNotice({ ...ref, stepKey, kind, stage: atStage, today: today(), updateId: `${workflowInfo().workflowId}:${stepKey}` });
      if (!r.sent) log.info('collection message not sent', { invoiceId, stepKey, reason: r.reason });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // WhatsApp refusing for the whole retry period: the run goes on (the conversation shows it).
      log.warn('collection message abandoned', { invoiceId, stepKey, error: err.message });
      await store.recordDunningStep({ ...ref, stepKey, type: 'message_skipped', stage: atStage, today: today(), data: { reason: 'send_failed', kind } });
    }
  }

  async function carryOut(step: DunningStep, atStage: DunningStage): Promise<void> {
    const a = { ...ref, stepKey: step.key, today: today() };
    if (step.kind === 'overdue') {
      await store.markInvoiceOverdue(a);
      if (invoice && invoice.status === 'open') invoice = { ...invoice, status: 'overdue' };
    } else if (step.kind === 'escalate') await store.escalateInvoice(a);
    else if (step.kind === 'consequence') await store.applyDunningConsequence(a);
    else await store.recordDunningStep({ ...a, type: 'message_skipped', stage: atStage, data: { reason: 'unknown_step' } });
  }

  async function finish(outcome: DunningStage): Promise<void> {
    ended = outcome;
    stage = outcome;
    if (outcome !== 'paid') return;
    await store.settleDunning({ ...ref, outcome: 'paid', today: today(), stepKey: endKey('paid') });
    // A payment confirmation is not collection: it answers the customer's own act at once (the
    // collection window does not hold it), still never to a contact flagged "do not contact".
    await send('payment_confirmed', endKey('payment_confirmed'), 'paid');
  }

  // The money moved: the database says how much is left.
  async function onPayment(p: PaymentRecordedSignal): Promise<void> {
    invoice = await store.readDunningInvoice(ref);
    const settled = ENDED_BY_STATUS[invoice.status];
    if (settled) {
      if (promise && settled === 'paid') await store.recordDunningStep({ ...ref, stepKey: `promise:${promisesMade}:kept`, type: 'promise_kept', stage: 'promised', today: today() });
      return finish(settled);
    }
    await store.recordDunningStep({ ...ref, stepKey: `${p.kind}:${p.paymentId}`, type: p.kind, stage: promise ? 'promised' : stage, today: today(), data: { paymentId: p.paymentId } });
    await refreshCharge();
  }

  // --- Handlers ------------------------------------------------------------------------------
  setHandler(dunningViewQuery, view);

  setHandler(paymentRecordedSignal, (p) => {
    if (!payments.some((x) => x.paymentId === p.paymentId && x.kind === p.kind)) payments.push(p);
    wake = true;
  });

  setHandler(
    promiseToPayUpdate,
    async (req) => {
      await condition(loaded);
      refuse(settledRefusal());
      refuse(rules.promiseRefusal(req, today(), settings!.billing.dunning.maxPromiseDays));
      promise = { promisedDate: req.promisedDate, amountCents: req.amountCents ?? null, actor: req.actor, note: req.note ?? null };
      promisesMade++;
      await store.recordDunningStep({ ...ref, stepKey: `promise:${promisesMade}`, type: 'promise_made', stage: 'promised', today: today(), data: { ...promise } });
      wake = true;
      return view();
    },
    {
      validator: (req) => {
        refuse(settledRefusal());
        if (settings) refuse(rules.promiseRefusal(req, today(), settings.billing.dunning.maxPromiseDays));
      },
    },
  );

  setHandler(
    renegotiateUpdate,
    async (req) => {
      await condition(loaded);
      refuse(settledRefusal());
      refuse(rules.renegotiationRefusal(req, today()));
      ended = 'renegotiated';
      wake = true;
      const r = await store.renegotiateInvoice({ ...ref, installments: req.installments, actor: req.actor, note: req.note ?? null, today: today(), ...(input.options ? { options: input.options } : {}) });
      invoice = { ...invoice!, status: 'renegotiated' };
      await gateway.cancelInvoiceCharge(ref);
      return r;
    },
    {
      validator: (req) => {
        refuse(settledRefusal());
        if (settings) refuse(rules.renegotiationRefusal(req, today()));
      },
    },
  );

  setHandler(
    cancelInvoiceUpdate,
    async (req) => {
      await condition(loaded);
      refuse(settledRefusal());
      ended = 'cancelled';
      wake = true;
      await store.settleDunning({ ...ref, outcome: 'cancelled', today: today(), actor: req.actor, reason: req.reason ?? null, stepKey: endKey('cancelled') });
      invoice = { ...invoice!, status: 'cancelled' };
      await gateway.cancelInvoiceCharge(ref);
      return view();
    },
    { validator: (_req: unknown) => refuse(settledRefusal()) },
  );

  const historyTooLong = () =>
    workflowInfo().continueAsNewSuggested || (options.maxHistoryEvents !== undefined && workflowInfo().historyLength > options.maxHistoryEvents);
  const waitFor = async (untilMs: number | null) => {
    wake = false;
    const ms = untilMs === null ? undefined : Math.max(1, Math.min(untilMs - Date.now(), MAX_TIMER_MS));
    await condition(() => wake || ended !== null || payments.length > 0, ms);
  };

  // --- The collection ------------------------------------------------------------------------
  const ctx = await store.loadDunningContext(ref);
  settings = ctx.settings;
  invoice = ctx.invoice;
  clock ??= { startMs: Date.now(), startDate: localParts(Date.now(), settings.timeZone).date };
  plan = dunningPlan(invoice.dueDate, settings.billing.dunning);

  const settledAtStart = ENDED_BY_STATUS[invoice.status];
  if (settledAtStart) {
    ended = settledAtStart;
  } else if (!input.resume) {
    stage = rules.initialStage(invoice.dueDate, today());
    await store.announceInvoiceCreated({ ...ref, today: today(), stage });
    await refreshCharge();
  } else if (reopened && !input.resume.clock) {
    // The first run after a refund: on the record, then a charge for what is owed again.
    stage = rules.stageOf(plan, done, invoice.dueDate, today());
    await store.recordDunningStep({ ...ref, stepKey: `reopened:${reopened.paymentId}`, type: 'reopened', stage, today: today(), data: { paymentId: reopened.paymentId } });
    await refreshCharge();
  }

  while (!ended) {
    if (historyTooLong()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof dunning>({ ...input, resume: { done, promise, clock, stage, promisesMade, ...(reopened ? { reopened } : {}) } });
    }
    const payment = payments.shift();
    if (payment) {
      await onPayment(payment);
      continue;
    }

    if (promise) {
      waitingFor = 'promise';
      const end = promiseEnd(promise);
      if (Date.now() < end) {
        await waitFor(end);
        continue;
      }
      invoice = await store.readDunningInvoice(ref);
      const settled = ENDED_BY_STATUS[invoice.status];
      if (settled) {
        await store.recordDunningStep({ ...ref, stepKey: `promise:${promisesMade}:kept`, type: 'promise_kept', stage: 'promised', today: today() });
        await finish(settled);
        continue;
      }
      // Broken: back where it was; what came due meanwhile follows the catch-up rule.
      stage = rules.stageOf(plan, done, invoice.dueDate, today());
      await store.recordDunningStep({ ...ref, stepKey: `promise:${promisesMade}:broken`, type: 'promise_broken', stage, today: today(), data: { promisedDate: promise.promisedDate } });
      promise = null;
      waitingFor = null;
      continue;
    }

    const now = Date.now();
    const actions = dueActions(plan, done, (s) => momentOf(s) <= now);
    // Outside the window only the message waits: the record steps (overdue, the collectors'
    // queue, the consequence) are carried out on their day.
    const windowOpen = isWithinCollectionWindow(settings, now);
    const first = windowOpen ? actions[0] : (actions.find((a) => a.action !== 'send') ?? actions[0]);
    if (first) {
      const { step, action } = first;
      const atStage = rules.stageAfter(stage, step);
      if (action === 'send') {
        if (!windowOpen) {
          // Outside the window: wait for its opening (or for a later step that supersedes this one).
          windowOpensAt = nextCollectionMoment(settings, now)?.getTime() ?? null;
          waitingFor = 'collection_window';
          if (!windowWaits.has(step.key)) {
            windowWaits.add(step.key);
            await store.recordDunningStep({ ...ref, stepKey: `window:${step.key}`, type: 'window_wait', stage, today: today(), data: { opensAt: windowOpensAt ? new Date(windowOpensAt).toISOString() : null } });
          }
          const later = nextStep(plan, [...done, ...actions.map((a) => a.step.key)]);
          const candidates = [windowOpensAt, later ? momentOf(later) : null].filter((x): x is number => x !== null);
          await waitFor(candidates.length ? Math.min(...candidates) : null);
          continue;
        }
        waitingFor = null;
        windowOpensAt = null;
        await send(NOTICE_OF[step.kind]!, step.key, atStage);
      } else if (action === 'skip_superseded') {
        await store.recordDunningStep({ ...ref, stepKey: step.key, type: 'message_skipped', stage: atStage, today: today(), data: { reason: 'superseded' } });
      } else {
        await carryOut(step, atStage);
      }
      done.push(step.key);
      if (!ended) stage = atStage;
      continue;
    }

    waitingFor = null;
    const next = nextStep(plan, done);
    await waitFor(next ? momentOf(next) : null);
  }

  await condition(allHandlersFinished);
  return ended;
}
