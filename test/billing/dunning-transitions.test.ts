import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dunningPlan } from '../../domain/dunning-plan';
import { DUNNING_REFUSALS } from '../../workflows/dunning/definitions';
import * as rules from '../../workflows/dunning/transitions';

// The dunning run's pure decisions, without a server. 2026-12-10 is a Thursday.
const plan = dunningPlan('2026-12-10', { reminderDaysBefore: [3], remindOnDueDate: true, noticeDaysAfter: [1, 5], escalateAfterDays: 15, finalNoticeAfterDays: 20, consequenceAfterDays: 25 });
const step = (key: string) => plan.find((s) => s.key === key)!;

describe('dunning transitions', () => {
  it('promises: not in the past, not past the tenant limit, at least a centavo', () => {
    const cases: [string, { promisedDate: string; amountCents?: number | null }, string | null][] = [
      ['today is fine', { promisedDate: '2026-12-12' }, null],
      ['the limit is fine', { promisedDate: '2026-12-22' }, null],
      ['yesterday', { promisedDate: '2026-12-11' }, 'A data prometida já passou.'],
      ['past the limit', { promisedDate: '2026-12-23' }, 'A promessa de pagamento pode ser de no máximo 10 dias.'],
      ['not a date', { promisedDate: '12/12/2026' }, 'Informe a data prometida no formato AAAA-MM-DD.'],
      ['no such date', { promisedDate: '2026-02-30' }, 'A data prometida não existe.'],
      ['zero centavos', { promisedDate: '2026-12-13', amountCents: 0 }, 'O valor prometido precisa ser de pelo menos 1 centavo.'],
    ];
    for (const [why, req, message] of cases) {
      const r = rules.promiseRefusal(req, '2026-12-12', 10);
      assert.equal(r?.message ?? null, message, why);
      if (r) assert.equal(r.type, DUNNING_REFUSALS.invalidPromise);
    }
  });

  it('renegotiations: 1 to 60 installments, none due in the past, each at least a centavo', () => {
    const ok = { dueDate: '2026-12-20', amountCents: 100 };
    const cases: [string, { dueDate: string; amountCents: number }[], string | null][] = [
      ['one', [ok], null],
      ['sixty', Array.from({ length: 60 }, () => ok), null],
      ['none', [], 'Informe pelo menos uma parcela.'],
      ['sixty-one', Array.from({ length: 61 }, () => ok), 'A renegociação pode ter no máximo 60 parcelas.'],
      ['past', [ok, { dueDate: '2026-12-01', amountCents: 100 }], 'Parcela 2: o vencimento já passou.'],
      ['zero', [{ ...ok, amountCents: 0 }], 'Parcela 1: o valor precisa ser de pelo menos 1 centavo.'],
      ['fraction', [{ ...ok, amountCents: 1.5 }], 'Parcela 1: o valor precisa ser de pelo menos 1 centavo.'],
    ];
    for (const [why, installments, message] of cases) {
      const r = rules.renegotiationRefusal({ installments }, '2026-12-12');
      assert.equal(r?.message ?? null, message, why);
      if (r) assert.equal(r.type, DUNNING_REFUSALS.invalidRenegotiation);
    }
  });

  it('a settled invoice or an ended run refuses every change', () => {
    for (const status of ['paid', 'cancelled', 'renegotiated'] as const) assert.equal(rules.settledRefusal(status, false)?.type, DUNNING_REFUSALS.settled);
    assert.equal(rules.settledRefusal('overdue', true)?.type, DUNNING_REFUSALS.settled);
    assert.equal(rules.settledRefusal('open', false), null);
    assert.equal(rules.settledRefusal('overdue', false), null);
  });

  it('stages follow the steps and never move back', () => {
    const cases: [string, string, string][] = [
      ['upcoming', 'reminder:-3', 'upcoming'],
      ['upcoming', 'due', 'due'],
      ['due', 'overdue', 'overdue'],
      ['overdue', 'notice:+5', 'overdue'],
      ['overdue', 'escalate', 'escalated'],
      ['escalated', 'notice:+5', 'escalated'], // a late notice (catch-up) does not step back
      ['escalated', 'final_notice', 'final_notice'],
      ['final_notice', 'consequence', 'exhausted'],
    ];
    for (const [from, key, to] of cases) assert.equal(rules.stageAfter(from as never, step(key)), to, `${from} + ${key}`);
  });

  it('the stage a broken promise resumes at is what its done steps say', () => {
    assert.equal(rules.stageOf(plan, [], '2026-12-10', '2026-12-08'), 'upcoming');
    assert.equal(rules.stageOf(plan, ['reminder:-3'], '2026-12-10', '2026-12-10'), 'due');
    assert.equal(rules.stageOf(plan, ['reminder:-3', 'due', 'overdue', 'notice:+1'], '2026-12-10', '2026-12-14'), 'overdue');
    assert.equal(rules.stageOf(plan, ['reminder:-3', 'due', 'overdue', 'notice:+1', 'notice:+5', 'escalate'], '2026-12-10', '2026-12-27'), 'escalated');
  });

  it('the compressed clock: whole elapsed days from the start date; a date at its distance', () => {
    const clock = { startMs: 1_000_000, startDate: '2026-12-30' };
    assert.equal(rules.compressedToday(clock, 1000, 1_000_000), '2026-12-30');
    assert.equal(rules.compressedToday(clock, 1000, 1_000_999), '2026-12-30');
    assert.equal(rules.compressedToday(clock, 1000, 1_003_000), '2027-01-02');
    assert.equal(rules.compressedMoment(clock, 1000, '2027-01-02'), 1_003_000);
    assert.equal(rules.compressedMoment(clock, 1000, '2026-12-28'), 998_000);
  });
});
