import type { BillingCycle } from './billing-statuses';
import { addCalendarDays } from './late-charges';

// A subscription's calendar: the due date of its N-th invoice and the day that invoice is issued.
// Pure (the issuing activity and the schedule's spec both read it).
//
// Month-based cycles keep the ANCHOR's day of month and clamp it to each month's last day, always
// computed from the anchor: an anchor of 31 Jan gives 28 (29) Feb and then 31 Mar, never 28 Mar.
// Week-based cycles add 7 or 14 calendar days per invoice.

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const CYCLE_MONTHS: Partial<Record<BillingCycle, number>> = { MONTHLY: 1, QUARTERLY: 3, SEMIANNUALLY: 6, YEARLY: 12 };
export const CYCLE_DAYS: Partial<Record<BillingCycle, number>> = { WEEKLY: 7, BIWEEKLY: 14 };

function parts(date: string): [number, number, number] {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const back = new Date(Date.UTC(y, mo - 1, d));
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) throw new RangeError(`no such date: ${date}`);
  return [y, mo, d];
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// The due date of invoice number `sequence` (1 is the anchor itself).
export function nextDueDate(cycle: BillingCycle, anchorDueDate: string, sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new RangeError(`sequence must be an integer ≥ 1, got ${sequence}`);
  const [y, mo, d] = parts(anchorDueDate);
  const days = CYCLE_DAYS[cycle];
  if (days !== undefined) return addCalendarDays(anchorDueDate, days * (sequence - 1));
  const months = CYCLE_MONTHS[cycle];
  if (months === undefined) throw new RangeError(`unknown cycle: ${cycle}`);
  const total = (mo - 1) + months * (sequence - 1);
  const year = y + Math.floor(total / 12);
  const month = (total % 12) + 1;
  return `${pad(year, 4)}-${pad(month)}-${pad(Math.min(d, daysInMonth(year, month)))}`;
}

// The day an invoice due on `dueDate` is issued (its charge created, its reminders scheduled).
export function issueDate(dueDate: string, issueDaysBeforeDue: number): string {
  if (!Number.isSafeInteger(issueDaysBeforeDue) || issueDaysBeforeDue < 0) throw new RangeError(`issueDaysBeforeDue must be an integer ≥ 0, got ${issueDaysBeforeDue}`);
  parts(dueDate);
  return addCalendarDays(dueDate, -issueDaysBeforeDue);
}

// 0 = Sunday … 6 = Saturday, of a calendar date.
export function weekdayOf(date: string): number {
  const [y, mo, d] = parts(date);
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
}

// When the subscription's schedule fires, as calendar fields in the tenant's zone (06:00). Read
// from the subscription's own issue dates over four years (leap years, clamped months): every
// issue day is a firing day. The firing days of all months are combined, so some firings find
// nothing due and issue nothing — harmless, because the issuing activity decides from
// next_due_date alone and a missed day is caught up at the next firing. Week cycles fire weekly
// on the issue weekday (a biweekly one finds nothing every other week).
export type ScheduleCalendar =
  | { kind: 'weekly'; daysOfWeek: number[]; hour: number }
  | { kind: 'monthly'; months: number[]; daysOfMonth: number[]; hour: number };

export const SCHEDULE_HOUR = 6;

export function scheduleCalendarFor(cycle: BillingCycle, firstDueDate: string, issueDaysBeforeDue: number): ScheduleCalendar {
  if (CYCLE_DAYS[cycle] !== undefined) return { kind: 'weekly', daysOfWeek: [weekdayOf(issueDate(firstDueDate, issueDaysBeforeDue))], hour: SCHEDULE_HOUR };
  const perYear = 12 / (CYCLE_MONTHS[cycle] as number);
  const months = new Set<number>();
  const days = new Set<number>();
  for (let seq = 1; seq <= perYear * 4; seq++) {
    const [, mo, d] = parts(issueDate(nextDueDate(cycle, firstDueDate, seq), issueDaysBeforeDue));
    months.add(mo);
    days.add(d);
  }
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { kind: 'monthly', months: sorted(months), daysOfMonth: sorted(days), hour: SCHEDULE_HOUR };
}
