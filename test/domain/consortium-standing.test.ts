import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consecutiveMissed, isUpToDate, shouldExclude, type InstallmentStanding } from '../../domain/consortium-standing';

// Four monthly installments due on the 10th, January to April 2026. `paid` gives each one's
// payment day (null: unpaid); `cancelled` the sequences cancelled by a renegotiation.
function plan(paid: (string | null)[], cancelled: number[] = []): InstallmentStanding[] {
  return paid.map((paidOn, i) => ({
    sequence: i + 1,
    dueDate: `2026-0${i + 1}-10`,
    paidOn,
    cancelled: cancelled.includes(i + 1),
  }));
}

describe('isUpToDate: every installment due by the date paid by then', () => {
  const cases: [string, InstallmentStanding[], string, boolean][] = [
    ['all paid on time', plan(['2026-01-10', '2026-02-10', '2026-03-09', null]), '2026-03-15', true],
    ['one paid late, but paid: up to date again', plan(['2026-01-10', '2026-02-25', '2026-03-10', null]), '2026-03-15', true],
    ['March unpaid on the 15th: late', plan(['2026-01-10', '2026-02-10', null, null]), '2026-03-15', false],
    ['March paid on the very day: up to date', plan(['2026-01-10', '2026-02-10', '2026-03-15', null]), '2026-03-15', true],
    ['March paid the day after: late on the 15th', plan(['2026-01-10', '2026-02-10', '2026-03-16', null]), '2026-03-15', false],
    ['due that very day and unpaid: late', plan(['2026-01-10', '2026-02-10', null, null]), '2026-03-10', false],
    ['not yet due: not late', plan(['2026-01-10', '2026-02-10', null, null]), '2026-03-09', true],
    ['an old unpaid installment makes the quota late', plan([null, '2026-02-10', '2026-03-10', null]), '2026-03-15', false],
    ['an unpaid installment cancelled by a renegotiation does not count', plan(['2026-01-10', '2026-02-10', null, null], [3]), '2026-03-15', true],
    ['no installments yet', [], '2026-03-15', true],
  ];
  for (const [what, installments, asOf, e] of cases) it(what, () => assert.equal(isUpToDate(installments, asOf), e));
});

describe('consecutiveMissed: due dates passed unpaid, counted back from the latest', () => {
  const cases: [string, InstallmentStanding[], string, number][] = [
    ['February, March and April unpaid on 11/04', plan(['2026-01-10', null, null, null]), '2026-04-11', 3],
    ['April is due on 10/04 itself: not missed yet', plan(['2026-01-10', null, null, null]), '2026-04-10', 2],
    ['a paid month in between breaks the run', plan(['2026-01-10', null, '2026-03-10', null]), '2026-04-11', 1],
    ['a late payment still breaks the run', plan(['2026-01-10', null, '2026-04-01', null]), '2026-04-11', 1],
    ['a payment made after the date does not count on it', plan(['2026-01-10', null, null, '2026-04-20']), '2026-04-11', 3],
    ['a cancelled installment is skipped, not counted', plan(['2026-01-10', null, null, null], [3]), '2026-04-11', 2],
    ['the latest paid: none missed', plan([null, null, null, '2026-04-10']), '2026-04-11', 0],
    ['all four unpaid', plan([null, null, null, null]), '2026-04-11', 4],
    ['nothing due yet', plan([null, null, null, null]), '2026-01-10', 0],
  ];
  for (const [what, installments, asOf, e] of cases) it(what, () => assert.equal(consecutiveMissed(installments, asOf), e));

  it('counts by sequence, whatever order the installments come in', () => {
    assert.equal(consecutiveMissed(plan(['2026-01-10', null, '2026-03-10', null]).reverse(), '2026-04-11'), 1);
  });
});

describe('shouldExclude: after the group limit of consecutive misses (at most 3), never a contemplated quota', () => {
  const cases: [string, Parameters<typeof shouldExclude>, boolean][] = [
    ['active, 3 missed, limit 3', ['active', 3, 3], true],
    ['active, 2 missed, limit 3', ['active', 2, 3], false],
    ['active, 4 missed, limit 3', ['active', 4, 3], true],
    ['active, 2 missed, a stricter group (limit 2)', ['active', 2, 2], true],
    ['active, 1 missed, limit 1', ['active', 1, 1], true],
    ['active, 0 missed', ['active', 0, 1], false],
    ['contemplated, 3 missed: never excluded', ['contemplated', 3, 3], false],
    ['contemplated, 12 missed: never excluded', ['contemplated', 12, 1], false],
    ['already excluded: not excluded again', ['excluded', 5, 3], false],
    ['a limit above 3 is read as 3 (BCB 285): 3 missed excludes', ['active', 3, 5], true],
  ];
  for (const [what, args, e] of cases) it(what, () => assert.equal(shouldExclude(...args), e));
});
