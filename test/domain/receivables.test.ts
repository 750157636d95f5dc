import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agingBucket, agingReport, delinquencyReport, recoveryByStage } from '../../domain/receivables';

describe('receivables: aging buckets by days past the original due date', () => {
  const table: [number, string][] = [
    [-5, 'current'],
    [0, 'current'],
    [1, '1-30'],
    [30, '1-30'],
    [31, '31-60'],
    [60, '31-60'],
    [61, '61-90'],
    [90, '61-90'],
    [91, '90+'],
    [400, '90+'],
  ];
  for (const [days, bucket] of table) it(`${days} days → ${bucket}`, () => assert.equal(agingBucket(days), bucket));
});

describe('receivables: the aging report', () => {
  // On 2025-06-30: due 2025-06-30 → 0 days (current); 2025-06-29 → 1; 2025-05-31 → 30;
  // 2025-05-30 → 31; 2025-05-01 → 60; 2025-04-30 → 61; 2025-04-01 → 90; 2025-03-31 → 91.
  const rows = [
    { dueDate: '2025-07-10', principalCents: 100_00, totalCents: 100_00 },
    { dueDate: '2025-06-30', principalCents: 50_00, totalCents: 50_00 },
    { dueDate: '2025-06-29', principalCents: 10_00, totalCents: 10_20 },
    { dueDate: '2025-05-31', principalCents: 10_00, totalCents: 10_30 },
    { dueDate: '2025-05-30', principalCents: 20_00, totalCents: 20_80 },
    { dueDate: '2025-05-01', principalCents: 20_00, totalCents: 21_00 },
    { dueDate: '2025-04-30', principalCents: 30_00, totalCents: 31_20 },
    { dueDate: '2025-04-01', principalCents: 30_00, totalCents: 31_50 },
    { dueDate: '2025-03-31', principalCents: 40_00, totalCents: 42_00 },
    { dueDate: '2025-03-01', principalCents: 1_00, totalCents: 0 }, // nothing owed: not counted
  ];
  const report = agingReport('2025-06-30', rows);
  it('buckets the boundaries', () => {
    assert.deepEqual(report.buckets, [
      { bucket: 'current', count: 2, principalCents: 150_00, totalCents: 150_00 },
      { bucket: '1-30', count: 2, principalCents: 20_00, totalCents: 20_50 },
      { bucket: '31-60', count: 2, principalCents: 40_00, totalCents: 41_80 },
      { bucket: '61-90', count: 2, principalCents: 60_00, totalCents: 62_70 },
      { bucket: '90+', count: 1, principalCents: 40_00, totalCents: 42_00 },
    ]);
  });
  it('totals', () => assert.deepEqual(report.totals, { count: 9, principalCents: 310_00, totalCents: 317_00 }));
});

describe('receivables: delinquency', () => {
  // On Monday 2025-06-30. 2025-06-28 is a Saturday: its grace runs to Monday 06-30, so it is
  // not past grace yet. 2025-06-27 (Friday) is.
  const report = delinquencyReport('2025-06-30', [
    { dueDate: '2025-07-05', unpaid: true, totalCents: 300_00 }, // open, not due
    { dueDate: '2025-06-28', unpaid: true, totalCents: 100_00 }, // due on Saturday, grace to today
    { dueDate: '2025-06-27', unpaid: true, totalCents: 102_00 }, // past grace
    { dueDate: '2025-06-10', unpaid: false, totalCents: 0 }, // paid
    { dueDate: '2025-06-01', unpaid: true, totalCents: 98_00 }, // past grace, due in the window (06-01 .. 06-30)
    { dueDate: '2025-05-31', unpaid: true, totalCents: 50_00 }, // past grace, before the window
  ]);
  it('overdue balance ÷ open balance', () => {
    assert.equal(report.openCents, 650_00);
    assert.equal(report.overdueCents, 250_00);
    assert.equal(report.rate, 0.3846); // 250 / 650 = 0.384615…
    assert.equal(report.openCount, 5);
    assert.equal(report.overdueCount, 3);
  });
  it('the last 30 days: due 06-01 .. 06-30, unpaid past grace', () => {
    assert.deepEqual(report.recent, { from: '2025-06-01', to: '2025-06-30', dueCount: 4, unpaidPastGraceCount: 2, rate: 0.5 });
  });
  it('nothing open: rate 0', () => assert.equal(delinquencyReport('2025-06-30', []).rate, 0));
});

describe('receivables: recovery by stage', () => {
  it('sums payments less refunds per stage', () => {
    const r = recoveryByStage([
      { stage: 'overdue', kind: 'payment', amountCents: 100_00 },
      { stage: 'overdue', kind: 'payment', amountCents: 50_00 },
      { stage: 'overdue', kind: 'refund', amountCents: 20_00 },
      { stage: 'escalated', kind: 'payment', amountCents: 70_00 },
      { stage: null, kind: 'payment', amountCents: 10_00 },
    ]);
    assert.deepEqual(r.stages, [
      { stage: 'escalated', paymentCount: 1, receivedCents: 70_00, refundedCents: 0, netCents: 70_00 },
      { stage: 'none', paymentCount: 1, receivedCents: 10_00, refundedCents: 0, netCents: 10_00 },
      { stage: 'overdue', paymentCount: 2, receivedCents: 150_00, refundedCents: 20_00, netCents: 130_00 },
    ]);
    assert.deepEqual(r.totals, { paymentCount: 4, receivedCents: 230_00, refundedCents: 20_00, netCents: 210_00 });
  });
});
