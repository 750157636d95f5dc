import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueDate, nextDueDate, scheduleCalendarFor } from '../../domain/billing-cycle';
import type { BillingCycle } from '../../domain/billing-statuses';

// Hand-computed: the anchor's day of month clamped per month, always from the anchor.
describe('billing cycle: the N-th due date', () => {
  const table: [BillingCycle, string, number, string, string][] = [
    ['MONTHLY', '2025-01-31', 1, '2025-01-31', 'the anchor is the first'],
    ['MONTHLY', '2025-01-31', 2, '2025-02-28', '31 Jan → 28 Feb (2025 is not leap)'],
    ['MONTHLY', '2025-01-31', 3, '2025-03-31', 'back to 31 from the anchor, not 28 from February'],
    ['MONTHLY', '2025-01-31', 4, '2025-04-30', 'April has 30'],
    ['MONTHLY', '2024-01-31', 2, '2024-02-29', 'leap year: 29 Feb'],
    ['MONTHLY', '2024-01-30', 2, '2024-02-29', '30 clamps to 29 in a leap February'],
    ['MONTHLY', '2025-01-15', 12, '2025-12-15', 'twelfth of a year'],
    ['MONTHLY', '2025-11-10', 3, '2026-01-10', 'crosses the year'],
    ['MONTHLY', '2025-12-31', 2, '2026-01-31', 'December → January'],
    ['QUARTERLY', '2025-11-30', 2, '2026-02-28', 'a quarter from 30 Nov'],
    ['QUARTERLY', '2025-11-30', 3, '2026-05-30', 'and back to the 30th'],
    ['SEMIANNUALLY', '2025-08-31', 2, '2026-02-28', 'six months from 31 Aug'],
    ['SEMIANNUALLY', '2025-08-31', 3, '2026-08-31', 'a year from 31 Aug'],
    ['YEARLY', '2024-02-29', 2, '2025-02-28', 'a leap day, a year later'],
    ['YEARLY', '2024-02-29', 5, '2028-02-29', 'four years later it is a leap day again'],
    ['WEEKLY', '2025-12-29', 2, '2026-01-05', 'a week, across the year'],
    ['WEEKLY', '2025-02-22', 2, '2025-03-01', 'a week across a short February'],
    ['BIWEEKLY', '2024-02-20', 2, '2024-03-05', 'two weeks across a leap February (29 days)'],
    ['BIWEEKLY', '2025-01-01', 4, '2025-02-12', 'three fortnights: 42 days'],
  ];
  for (const [cycle, anchor, seq, expected, why] of table) {
    it(`${cycle} ${anchor} #${seq} → ${expected} (${why})`, () => assert.equal(nextDueDate(cycle, anchor, seq), expected));
  }
  it('refuses a sequence below 1 and a non-date', () => {
    assert.throws(() => nextDueDate('MONTHLY', '2025-01-31', 0), RangeError);
    assert.throws(() => nextDueDate('MONTHLY', '2025-02-30', 1), RangeError);
  });
});

describe('billing cycle: the issue date', () => {
  const table: [string, number, string][] = [
    ['2025-03-10', 10, '2025-02-28'],
    ['2024-03-10', 10, '2024-02-29'],
    ['2025-01-05', 10, '2024-12-26'],
    ['2025-06-15', 0, '2025-06-15'],
  ];
  for (const [due, days, expected] of table) it(`${due} − ${days} → ${expected}`, () => assert.equal(issueDate(due, days), expected));
  it('refuses negative days', () => assert.throws(() => issueDate('2025-01-01', -1), RangeError));
});

describe('billing cycle: the schedule calendar', () => {
  it('monthly on the 15th, 10 days before: fires on the 5th of every month', () => {
    assert.deepEqual(scheduleCalendarFor('MONTHLY', '2025-01-15', 10), { kind: 'monthly', months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], daysOfMonth: [5], hour: 6 });
  });
  it('monthly on the 31st, on the due date: fires on every clamped last day', () => {
    // 31, 28 (Feb), 30 (Apr…), 29 (leap Feb 2028).
    const calendar = scheduleCalendarFor('MONTHLY', '2025-01-31', 0);
    assert.equal(calendar.kind, 'monthly');
    assert.deepEqual(calendar.kind === 'monthly' ? calendar.daysOfMonth : null, [28, 29, 30, 31]);
  });
  it('quarterly: only its months', () => {
    assert.deepEqual(scheduleCalendarFor('QUARTERLY', '2025-02-20', 5), { kind: 'monthly', months: [2, 5, 8, 11], daysOfMonth: [15], hour: 6 });
  });
  it('weekly: the issue weekday (due Friday 2025-01-10, 3 days before → Tuesday)', () => {
    assert.deepEqual(scheduleCalendarFor('WEEKLY', '2025-01-10', 3), { kind: 'weekly', daysOfWeek: [2], hour: 6 });
  });
});
