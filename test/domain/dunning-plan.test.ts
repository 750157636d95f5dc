import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dueActions, dunningPlan, nextStep, type DunningSchedule } from '../../domain/dunning-plan';

// Dates by hand: 2026-12-10 is a Thursday, 2026-12-05 a Saturday, 2026-12-25 (Natal) a Friday.
const DEFAULTS: DunningSchedule = {
  reminderDaysBefore: [3],
  remindOnDueDate: true,
  noticeDaysAfter: [1, 5, 10],
  escalateAfterDays: 15,
  finalNoticeAfterDays: 20,
  consequenceAfterDays: 25,
};
const plan = (due: string, s: Partial<DunningSchedule> = {}) => dunningPlan(due, { ...DEFAULTS, ...s }).map((x) => `${x.date} ${x.key}`);

describe('dunning plan', () => {
  it('the default schedule for a Thursday due date', () => {
    assert.deepEqual(plan('2026-12-10'), [
      '2026-12-07 reminder:-3',
      '2026-12-10 due',
      '2026-12-11 overdue',
      '2026-12-11 notice:+1',
      '2026-12-15 notice:+5',
      '2026-12-20 notice:+10',
      '2026-12-25 escalate',
      '2026-12-30 final_notice',
      '2027-01-04 consequence',
    ]);
  });

  it('a Saturday due date is late only after Monday: overdue on Tuesday, D+1 waits for it', () => {
    assert.deepEqual(plan('2026-12-05').slice(0, 5), [
      '2026-12-02 reminder:-3',
      '2026-12-05 due',
      '2026-12-08 overdue',
      '2026-12-08 notice:+1',
      '2026-12-10 notice:+5',
    ]);
  });

  it('a holiday (Natal, Friday) due date: grace to Monday 28th, overdue on the 29th', () => {
    assert.deepEqual(plan('2026-12-25').slice(1, 4), ['2026-12-25 due', '2026-12-29 overdue', '2026-12-29 notice:+1']);
  });

  it('unsorted, repeated and clashing settings still give one sane order', () => {
    assert.deepEqual(plan('2026-12-10', { reminderDaysBefore: [1, 5, 1], remindOnDueDate: false, noticeDaysAfter: [10, 2], escalateAfterDays: 10, finalNoticeAfterDays: 10, consequenceAfterDays: 3 }), [
      '2026-12-05 reminder:-5',
      '2026-12-09 reminder:-1',
      '2026-12-11 overdue',
      '2026-12-12 notice:+2',
      '2026-12-13 consequence',
      '2026-12-20 notice:+10',
      '2026-12-20 escalate',
      '2026-12-20 final_notice',
    ]);
  });

  it('no reminders, no due-date message: the plan starts at the overdue mark', () => {
    assert.deepEqual(plan('2026-12-10', { reminderDaysBefore: [], remindOnDueDate: false })[0], '2026-12-11 overdue');
  });
});

describe('catch-up rule (a run that starts late)', () => {
  const steps = dunningPlan('2026-12-10', DEFAULTS);
  const on = (today: string, done: string[] = []) => dueActions(steps, done, (s) => s.date <= today).map((a) => `${a.step.key} ${a.action}`);

  it('on time: only the step of the day', () => {
    assert.deepEqual(on('2026-12-07'), ['reminder:-3 send']);
  });

  it('created on D+6: overdue carried out, only the latest passed message (D+5) sent', () => {
    assert.deepEqual(on('2026-12-16'), ['reminder:-3 skip_superseded', 'due skip_superseded', 'overdue carry_out', 'notice:+1 skip_superseded', 'notice:+5 send']);
  });

  it('reopened on D+26: every record step carried out, one message (the final notice)', () => {
    assert.deepEqual(on('2027-01-05', ['reminder:-3', 'due', 'overdue', 'notice:+1']), [
      'notice:+5 skip_superseded',
      'notice:+10 skip_superseded',
      'escalate carry_out',
      'final_notice send',
      'consequence carry_out',
    ]);
  });

  it('nothing due: nothing to do, and the next step is what the run waits for', () => {
    assert.deepEqual(on('2026-12-01'), []);
    assert.equal(nextStep(steps, ['reminder:-3'])?.key, 'due');
    assert.equal(nextStep(steps, steps.map((s) => s.key)), null);
  });
});
