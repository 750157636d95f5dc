import type { DunningStage } from './billing-statuses';
import { addCalendarDays, graceDate } from './late-charges';
import type { TenantSettings } from './tenant-settings';

// An invoice's collection schedule as calendar dates in the tenant's calendar: reminders before
// the due date, one on it, the overdue mark the day after the grace (a weekend or holiday due
// date is not late until after the next business day), notices counted from the ORIGINAL due
// date, the collectors' queue, a final notice and the tenant's consequence.

export const DUNNING_STEP_KINDS = ['reminder', 'due', 'overdue', 'notice', 'escalate', 'final_notice', 'consequence'] as const;
export type DunningStepKind = (typeof DUNNING_STEP_KINDS)[number];

// Steps that write to the debtor; the rest change records.
export const MESSAGE_STEP_KINDS: readonly DunningStepKind[] = ['reminder', 'due', 'notice', 'final_notice'];
export const isMessageStep = (kind: DunningStepKind) => MESSAGE_STEP_KINDS.includes(kind);

// The stage an invoice is in once a step has been carried out.
export const STAGE_AFTER_STEP: Record<DunningStepKind, DunningStage> = {
  reminder: 'upcoming',
  due: 'due',
  overdue: 'overdue',
  notice: 'overdue',
  escalate: 'escalated',
  final_notice: 'final_notice',
  consequence: 'exhausted',
};

export interface DunningStep {
  key: string; // unique per invoice: reminder:-3, due, overdue, notice:+5, escalate, final_notice, consequence
  kind: DunningStepKind;
  date: string; // YYYY-MM-DD, tenant calendar
}

export type DunningSchedule = Pick<
  TenantSettings['billing']['dunning'],
  'reminderDaysBefore' | 'remindOnDueDate' | 'noticeDaysAfter' | 'escalateAfterDays' | 'finalNoticeAfterDays' | 'consequenceAfterDays'
>;

const KIND_ORDER = new Map(DUNNING_STEP_KINDS.map((k, i) => [k, i]));

// Sorted by date, then by the fixed kind order (so clashing settings, e.g. a notice and the
// escalation on the same day, still run as the process reads); duplicates in a list count once.
export function dunningPlan(dueDate: string, s: DunningSchedule): DunningStep[] {
  const steps: DunningStep[] = [];
  for (const d of new Set(s.reminderDaysBefore)) {
    if (d > 0) steps.push({ key: `reminder:-${d}`, kind: 'reminder', date: addCalendarDays(dueDate, -d) });
  }
  if (s.remindOnDueDate) steps.push({ key: 'due', kind: 'due', date: dueDate });
  const overdueOn = addCalendarDays(graceDate(dueDate), 1);
  steps.push({ key: 'overdue', kind: 'overdue', date: overdueOn });
  for (const d of new Set(s.noticeDaysAfter)) {
    // A notice before the invoice is late is not a notice: it waits for the overdue mark.
    if (d > 0) steps.push({ key: `notice:+${d}`, kind: 'notice', date: maxDate(addCalendarDays(dueDate, d), overdueOn) });
  }
  steps.push({ key: 'escalate', kind: 'escalate', date: maxDate(addCalendarDays(dueDate, s.escalateAfterDays), overdueOn) });
  steps.push({ key: 'final_notice', kind: 'final_notice', date: maxDate(addCalendarDays(dueDate, s.finalNoticeAfterDays), overdueOn) });
  steps.push({ key: 'consequence', kind: 'consequence', date: maxDate(addCalendarDays(dueDate, s.consequenceAfterDays), overdueOn) });
  return steps.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : KIND_ORDER.get(a.kind)! - KIND_ORDER.get(b.kind)! || a.key.localeCompare(b.key)));
}

const maxDate = (a: string, b: string) => (a > b ? a : b);

export type StepAction = 'carry_out' | 'send' | 'skip_superseded';

// The catch-up rule, for a run that starts late (an invoice created or reopened after some dates
// passed, a promise that held the run, a worker that was away): every passed record step
// (overdue, escalate, consequence) is carried out, in order; of the passed message steps only the
// LATEST is sent now — a debtor gets one message with today's amount, not a burst of stale ones —
// and the earlier ones are recorded as superseded. `isDue` says whether a step's time has come.
export function dueActions(plan: readonly DunningStep[], done: readonly string[], isDue: (step: DunningStep) => boolean): { step: DunningStep; action: StepAction }[] {
  const due = plan.filter((step) => !done.includes(step.key) && isDue(step));
  const lastMessage = [...due].reverse().find((step) => isMessageStep(step.kind));
  return due.map((step) => ({
    step,
    action: !isMessageStep(step.kind) ? 'carry_out' : step === lastMessage ? 'send' : 'skip_superseded',
  }));
}

// The first step not yet carried out (what the run waits for), or null when the plan is spent.
export function nextStep(plan: readonly DunningStep[], done: readonly string[]): DunningStep | null {
  return plan.find((step) => !done.includes(step.key)) ?? null;
}
