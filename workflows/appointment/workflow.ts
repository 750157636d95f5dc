import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { APPOINTMENT_TEMPLATES } from '../../domain/appointment-schedule';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import {
  APPOINTMENT_ERRORS,
  appointmentStateQuery,
  cancelAppointmentUpdate,
  contactAnsweredSignal,
  recordOutcomeUpdate,
  rescheduleAppointmentUpdate,
  type AppointmentInput,
  type AppointmentState,
  type AppointmentView,
} from './definitions';
import { confirmation, notice, reminder, textsOf, type Outgoing } from './messages';
import * as rules from './transitions';

// One appointment (a property visit, a test drive, a meeting) from booking to its outcome. It
// sends the contact the confirmation with three buttons, reminds them the day before and a few
// hours before, and follows what happens: the contact confirms, cancels or asks to reschedule
// (the owner is told and agrees a new time), staff move, cancel or record the outcome. After the
// slot, an owner who recorded nothing gets a follow-up task; past the limit, silence is recorded
// as a no-show (and the owner is told), so no appointment stays open forever.

const store = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// A send waits for the conversation's reply update, which waits for Meta; the send path itself
// never double-sends (deterministic update ids), so retrying is safe.
const messaging = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

export interface AppointmentResult {
  appointmentId: string;
  status: AppointmentState['status'];
}

export async function appointment(input: AppointmentInput): Promise<AppointmentResult> {
  const { tenantId, appointmentId, contactId } = input;
  const options = input.options ?? {};
  const template = options.confirmationTemplate ?? APPOINTMENT_TEMPLATES.confirmation;
  const { timeZone, businessHours, observeNationalHolidays } = DEFAULT_TENANT_SETTINGS;

  let s: AppointmentState = input.carried ?? {
    status: 'scheduled',
    startsAt: Date.parse(input.startsAt),
    endsAt: Date.parse(input.endsAt),
    version: 0,
    scheduledAt: Date.now(),
    remindersSent: [],
    contactAskedReschedule: false,
    followUpCreated: false,
    outcomeNote: null,
    contactName: null,
    answers: [],
    settings: { timeZone, businessHours, observeNationalHolidays, reminders: DEFAULT_TENANT_SETTINGS.sales.appointmentReminders },
  };
  let loaded = Boolean(input.carried);
  let wake = false;

  const view = (): AppointmentView => {
    const next = rules.pendingReminders(s, options)[0];
    return {
      appointmentId,
      status: s.status,
      startsAt: new Date(s.startsAt).toISOString(),
      endsAt: new Date(s.endsAt).toISOString(),
      version: s.version,
      contactAskedReschedule: s.contactAskedReschedule,
      nextReminder: next ? { key: next.key, at: new Date(next.at).toISOString() } : null,
      remindersSent: s.remindersSent,
      historyLength: workflowInfo().historyLength,
    };
  };

  const refuse = (r: rules.Refusal | null) => {
    if (r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
  };

  // --- Steps -------------------------------------------------------------------------------
  // A message that cannot go out (WhatsApp refusing it for the whole retry period) is logged and
  // the appointment goes on: the conversation marked it failed for the attendants to see.
  async function say(out: Outgoing, step: string): Promise<void> {
    try {
      const r = await messaging.sendAppointmentMessage({
        tenantId,
        contactId,
        updateId: `${workflowInfo().workflowId}:${s.version}:${step}`,
        content: out.content,
        fallback: out.fallback,
      });
      if (r.status === 'failed') log.warn('appointment message not sent', { appointmentId, step, failure: r.failure });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('appointment message abandoned', { appointmentId, step, error: err.message });
    }
  }

  const texts = () => textsOf(input, s);

  async function carryOut(t: rules.Transition, step: string): Promise<void> {
    s = t.state;
    wake = true;
    if (t.change) await store.recordAppointmentChange({ tenantId, appointmentId, change: t.change });
    for (const e of t.effects) {
      if (e.kind === 'notify_owner') {
        await store.notifyAppointmentOwner({ tenantId, appointmentId, taskId: uuid4(), notice: e.notice });
      } else if (e.message === 'rescheduled') {
        await say(confirmation(appointmentId, texts(), { rescheduled: true, template }), 'confirmation');
      } else {
        await say(notice(e.message, texts()), `${step}:${e.message}`);
      }
    }
  }

  // --- Handlers ------------------------------------------------------------------------------
  setHandler(appointmentStateQuery, view);

  setHandler(contactAnsweredSignal, (a) => {
    // The conversation may tell twice (a redelivered webhook): one answer per message while it
    // waits, and an answer repeated later changes nothing (see rules.answer).
    if (s.answers.some((x) => x.messageId === a.messageId)) return;
    s.answers.push(a);
    wake = true;
  });

  setHandler(
    rescheduleAppointmentUpdate,
    async ({ startsAt, endsAt }) => {
      await condition(() => loaded);
      refuse(rules.rescheduleRefusal(s, { startsAt: Date.parse(startsAt), endsAt: Date.parse(endsAt) }, Date.now()));
      const t = rules.reschedule(s, { startsAt: Date.parse(startsAt), endsAt: Date.parse(endsAt), now: Date.now() });
      const r = await store.rescheduleAppointmentSlot({ tenantId, appointmentId, change: t.change ?? {} });
      if (!r.ok) refuse({ type: APPOINTMENT_ERRORS.slotRefused, message: r.reason });
      await carryOut({ ...t, change: null }, 'reschedule');
      return view();
    },
    {
      validator: ({ startsAt, endsAt }) => refuse(rules.rescheduleRefusal(s, { startsAt: Date.parse(startsAt), endsAt: Date.parse(endsAt) }, Date.now())),
    },
  );

  setHandler(
    cancelAppointmentUpdate,
    async ({ reason }) => {
      await condition(() => loaded);
      refuse(rules.closedRefusal(s));
      await carryOut(rules.cancel(s, reason), 'cancel');
      return view();
    },
    { validator: (_request: unknown) => refuse(rules.closedRefusal(s)) },
  );

  setHandler(
    recordOutcomeUpdate,
    async ({ outcome, note }) => {
      await condition(() => loaded);
      refuse(rules.outcomeRefusal(s));
      await carryOut(rules.outcome(s, { outcome, note }), 'outcome');
      return view();
    },
    { validator: (_request: unknown) => refuse(rules.outcomeRefusal(s)) },
  );

  const historyTooLong = () =>
    workflowInfo().continueAsNewSuggested || (options.maxHistoryEvents !== undefined && workflowInfo().historyLength > options.maxHistoryEvents);

  // --- The appointment -----------------------------------------------------------------------
  if (!loaded) {
    const ctx = await store.loadAppointmentContext({ tenantId, appointmentId });
    s = { ...s, settings: ctx.settings, contactName: ctx.contactName };
    loaded = true;
    await say(confirmation(appointmentId, texts(), { rescheduled: false, template }), 'confirmation');
  }

  while (rules.isOpen(s.status)) {
    if (historyTooLong()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof appointment>({ ...input, carried: s });
    }
    const answer = s.answers.shift();
    if (answer) {
      const t = rules.answer(s, answer);
      if (t) await carryOut(t, `answer:${answer.messageId}`);
      continue;
    }
    const now = Date.now();
    const due = rules.pendingReminders(s, options).find((r) => r.at <= now);
    if (due) {
      s = rules.reminderSent(s, due.key);
      // One that comes due after the slot began (a worker away for hours) is not worth sending.
      if (now < s.startsAt || options.reminderDelaysMs) await say(reminder(appointmentId, texts()), `reminder:${due.key}`);
      continue;
    }
    const after = rules.afterSlot(s, options, now);
    if (after) {
      await carryOut(after, 'after-slot');
      continue;
    }
    wake = false;
    const deadline = rules.nextDeadline(s, options);
    await condition(() => wake || s.answers.length > 0, Math.max(1, Math.min(deadline - now, 2_147_483_647)));
  }
  await condition(allHandlersFinished);
  return { appointmentId, status: s.status };
}
