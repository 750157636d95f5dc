import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cadenceStepsSchema, type CadenceStep } from '../../domain/cadence';
import { heuristicLeadScore, leadTemperature, type LeadScoreInput } from '../../domain/lead-score';
import { pickOwner, type OwnerCandidate } from '../../domain/owner-assignment';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import type { NurturingState } from '../../workflows/nurturing/definitions';
import { afterSend, enrol, initialState, nextActionAt, pause, pauseRefusal, resume, resumeRefusal, skip, skipRefusal, stop } from '../../workflows/nurturing/transitions';

// The nurturing's pure rules, worked out by hand. Default calendar: São Paulo (UTC−3, no DST),
// Mon–Fri 08:00–18:00, Sat 08:00–12:00, Sunday closed, national holidays observed.
// December 2026: Tue 1, Fri 4, Sat 5, Sun 6, Mon 7; Thu 24, Fri 25 (Natal), Sat 26, Mon 28.

const ms = (iso: string) => new Date(iso).getTime();
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const SP = DEFAULT_TENANT_SETTINGS;
const send = (waitBusinessDays: number, category: 'marketing' | 'utility' = 'marketing'): CadenceStep => ({
  type: 'send_template',
  waitBusinessDays,
  template: { name: 'oferta_imovel', language: 'pt_BR' },
  category,
});
const call = (waitBusinessDays: number): CadenceStep => ({ type: 'call_task', waitBusinessDays, title: 'Ligar para o lead' });
const wait = (businessDays: number): CadenceStep => ({ type: 'wait', businessDays });

describe('nextActionAt: when a cadence step acts', () => {
  const cases: [string, string, CadenceStep, number | undefined, string][] = [
    // [why, from (UTC), step, businessDayMs, expected (UTC)]
    ['Fri 14:00 + 1 business day → Saturday 14:00 is past its 12:00 close → Mon 08:00', '2026-12-04T17:00:00Z', send(1), undefined, '2026-12-07T11:00:00Z'],
    ['Fri 10:00 + 2 → Sat (1), Sunday skipped, Mon (2) 10:00', '2026-12-04T13:00:00Z', send(2), undefined, '2026-12-07T13:00:00Z'],
    ['a send due now on a Sunday waits for Monday 08:00', '2026-12-06T13:00:00Z', send(0), undefined, '2026-12-07T11:00:00Z'],
    ['Thu 24/12 09:00 + 1 → Natal skipped → Sat 26/12 09:00', '2026-12-24T12:00:00Z', send(1), undefined, '2026-12-26T12:00:00Z'],
    ['Sat 26/12 11:00 + 1 → Sunday skipped → Mon 28/12 11:00', '2026-12-26T14:00:00Z', send(1), undefined, '2026-12-28T14:00:00Z'],
    ['a call task due on Natal → Sat 26/12 08:00', '2026-12-25T13:00:00Z', call(0), undefined, '2026-12-26T11:00:00Z'],
    ['a wait of 2 across Consciência Negra (Fri 20/11) and a closed Saturday afternoon → Mon 08:00', '2026-11-18T18:00:00Z', wait(2), undefined, '2026-11-23T11:00:00Z'],
    ['businessDayMs: 2 "days" of 1 s inside business hours', '2026-12-01T13:00:00Z', send(2), 1_000, '2026-12-01T13:00:02.000Z'],
    ['businessDayMs still sends only in business hours: a Sunday → Monday 08:00', '2026-12-06T13:00:00Z', send(1), 1_000, '2026-12-07T11:00:00Z'],
    ['businessDayMs: a wait is just the time', '2026-12-06T13:00:00Z', wait(3), 1_000, '2026-12-06T13:00:03.000Z'],
  ];
  for (const [why, from, step, bdm, expected] of cases) {
    it(why, () => assert.equal(iso(nextActionAt(SP, ms(from), step, bdm)), iso(ms(expected))));
  }
  it('a calendar with no open day has no next action', () => {
    const closed = { ...SP, businessHours: Object.fromEntries(Object.keys(SP.businessHours).map((d) => [d, null])) as TenantSettings['businessHours'] };
    assert.equal(nextActionAt(closed, ms('2026-12-01T13:00:00Z'), send(1)), null);
  });
});

describe('pickOwner: round robin skipping the inactive and the full', () => {
  const c = (userId: string, o: Partial<OwnerCandidate> = {}): OwnerCandidate => ({ userId, active: true, openLeads: 0, capacity: 2, ...o });
  const cases: [string, OwnerCandidate[], string | null, string | null][] = [
    ['nobody given one yet → the first', [c('a'), c('b'), c('c')], null, 'a'],
    ['after a → b', [c('a'), c('b'), c('c')], 'a', 'b'],
    ['after the last → wraps to the first', [c('a'), c('b'), c('c')], 'c', 'a'],
    ['b inactive → c', [c('a'), c('b', { active: false }), c('c')], 'a', 'c'],
    ['b at capacity → c', [c('a'), c('b', { openLeads: 2 }), c('c')], 'a', 'c'],
    ['b over capacity (capacity lowered) → c', [c('a'), c('b', { openLeads: 5, capacity: 3 }), c('c')], 'a', 'c'],
    ['capacity 0 means never', [c('a', { capacity: 0 }), c('b')], 'b', 'b'],
    ['only the last one is eligible → the same again', [c('a'), c('b', { active: false }), c('c', { openLeads: 2 })], 'a', 'a'],
    ['a last user no longer listed → the first eligible', [c('a', { active: false }), c('b')], 'gone', 'b'],
    ['everyone inactive or full → no owner', [c('a', { active: false }), c('b', { openLeads: 2 })], 'a', null],
    ['no sales users → no owner', [], null, null],
  ];
  for (const [why, candidates, last, expected] of cases) it(why, () => assert.equal(pickOwner(candidates, last), expected));
});

describe('heuristic lead score: points and the reasons shown', () => {
  const base: LeadScoreInput = { source: 'portal', hasOffering: false, interest: '', hasEmail: false, marketingConsent: false, arrivedInBusinessHours: false };
  const cases: [string, Partial<LeadScoreInput>, number, string[]][] = [
    ['a bare portal lead', {}, 10, ['Origem: portal (+10)']],
    [
      'WhatsApp, an offering, "comprar à vista, urgente", e-mail, consent, in hours',
      { source: 'whatsapp', hasOffering: true, interest: 'Quero comprar à vista, urgente', hasEmail: true, marketingConsent: true, arrivedInBusinessHours: true },
      95,
      [
        'Origem: WhatsApp (+20)',
        'Interesse em um item específico do catálogo (+15)',
        'Descreveu o que procura (+5)',
        'Intenção de compra: "comprar", "à vista", "urgente" (+30)',
        'Informou e-mail (+10)',
        'Aceitou receber ofertas (+10)',
        'Chegou em horário comercial (+5)',
      ],
    ],
    [
      'a short interest text is not "described"; "financiamento" still counts',
      { source: 'website_form', interest: 'Financiamento', hasEmail: true },
      35,
      ['Origem: formulário do site (+15)', 'Intenção de compra: "financiamento" (+10)', 'Informou e-mail (+10)'],
    ],
    [
      'intent words are capped at 30',
      { source: 'walk_in', hasOffering: true, interest: 'quero comprar hoje, dar entrada e financiar' },
      75,
      ['Origem: visita à loja (+25)', 'Interesse em um item específico do catálogo (+15)', 'Descreveu o que procura (+5)', 'Intenção de compra: "comprar", "financiar", "hoje", "entrada" (+30)'],
    ],
    ['a word inside another word does not count ("comprarei" is not "comprar")', { source: 'automation', interest: 'comprarei depois' }, 10, ['Origem: automação (+5)', 'Descreveu o que procura (+5)']],
  ];
  for (const [why, input, score, reasons] of cases) {
    it(why, () => assert.deepEqual(heuristicLeadScore({ ...base, ...input }), { score, reasons }));
  }
  const temps: [number, number, string][] = [
    [70, 70, 'hot'],
    [69, 70, 'warm'],
    [40, 70, 'warm'],
    [39, 70, 'cold'],
    [95, 100, 'warm'],
    [0, 0, 'hot'],
  ];
  for (const [score, hot, expected] of temps) it(`score ${score} with hotLeadScore ${hot} → ${expected}`, () => assert.equal(leadTemperature(score, hot), expected));
});

describe('nurturing transitions', () => {
  // Open every day, all day: the business-hours rule out of the way of the arithmetic.
  const open = { open: '00:00', close: '23:59' };
  const always: TenantSettings = {
    ...SP,
    observeNationalHolidays: false,
    businessHours: { sunday: open, monday: open, tuesday: open, wednesday: open, thursday: open, friday: open, saturday: open },
  };
  const NOW = ms('2026-12-01T13:00:00Z');
  const BDM = 1_000;
  const limits = { marketingLimitRetryMs: 1_000, marketingLimitMaxRetries: 2, pausedTemplateRecheckMs: 500 };
  const cadence = { id: '00000000-0000-4000-8000-000000000001', version: 3, steps: [send(0), call(1), send(2, 'utility')] };
  const enrolled = (): NurturingState => enrol({ ...initialState(), settings: always }, { cadence, marketingConsent: true, now: NOW, businessDayMs: BDM });

  it('enrolment starts step 0, due at once', () => {
    const s = enrolled();
    assert.equal(s.status, 'running');
    assert.equal(s.stepIndex, 0);
    assert.equal(s.dueAt, NOW);
  });

  const sendCases: [string, (s: NurturingState) => NurturingState, { status: 'accepted' | 'failed'; code?: number }, Partial<NurturingState> & { outcome: string }][] = [
    ['accepted → next step, counted from now', (s) => s, { status: 'accepted' }, { outcome: 'sent', status: 'running', stepIndex: 1, dueAt: NOW + 1_000 }],
    ['131049 → back off, same step', (s) => s, { status: 'failed', code: 131049 }, { outcome: 'limit_backoff', status: 'running', stepIndex: 0, dueAt: NOW + 1_000, limitRetries: 1, sendTry: 1 }],
    ['131049 past the bound → step skipped', (s) => ({ ...s, limitRetries: 2 }), { status: 'failed', code: 131049 }, { outcome: 'limit_gave_up', stepIndex: 1 }],
    ['131050 → stopped, marketing blocked', (s) => s, { status: 'failed', code: 131050 }, { outcome: 'marketing_blocked', status: 'stopped', stopReason: 'marketing_blocked', dueAt: null }],
    ['132015 → waits for the template, same step', (s) => s, { status: 'failed', code: 132015 }, { outcome: 'template_paused', status: 'waiting_template', stepIndex: 0, dueAt: NOW + 500, templateRechecks: 1 }],
    ['another failure → recorded, goes on', (s) => s, { status: 'failed', code: 131026 }, { outcome: 'failed', stepIndex: 1 }],
    ['stopped while in flight → stays stopped', (s) => stop(s, 'replied'), { status: 'accepted' }, { outcome: 'sent', status: 'stopped', stopReason: 'replied', stepIndex: 0 }],
    ['paused while in flight → next step, paused with its full delay', (s) => pause(s, NOW), { status: 'accepted' }, { outcome: 'sent', status: 'paused', stepIndex: 1, remainingMs: 1_000, dueAt: null }],
  ];
  for (const [why, prepare, result, expected] of sendCases) {
    it(why, () => {
      const { state, outcome } = afterSend(prepare(enrolled()), result, limits, NOW, BDM);
      const { outcome: expectedOutcome, ...fields } = expected;
      assert.equal(outcome, expectedOutcome);
      for (const [k, v] of Object.entries(fields)) assert.deepEqual(state[k as keyof NurturingState], v, k);
    });
  }

  it('pause keeps the delay left; resume restores it from the resume time', () => {
    const s = { ...enrolled(), dueAt: NOW + 5_000 };
    const paused = pause(s, NOW + 1_000);
    assert.equal(paused.status, 'paused');
    assert.equal(paused.remainingMs, 4_000);
    assert.equal(paused.dueAt, null);
    assert.equal(pauseRefusal(paused), 'A cadência já está pausada.');
    const resumed = resume(paused, NOW + 60_000);
    assert.equal(resumed.status, 'running');
    assert.equal(resumed.dueAt, NOW + 64_000);
    assert.equal(resumeRefusal(resumed), 'A cadência não está pausada.');
  });

  it('skip moves to the next step; skipped while paused, the next one is paused', () => {
    const s = enrolled();
    assert.equal(skip(s, NOW, BDM).stepIndex, 1);
    const pausedSkip = skip(pause(s, NOW), NOW, BDM);
    assert.equal(pausedSkip.stepIndex, 1);
    assert.equal(pausedSkip.status, 'paused');
    assert.equal(pausedSkip.remainingMs, 1_000);
  });

  it('skipping the last step ends the cadence cold', () => {
    const last = { ...enrolled(), stepIndex: 2 };
    const s = skip(last, NOW, BDM);
    assert.equal(s.status, 'cold');
  });

  it('nothing is accepted from an ended or unenrolled cadence, and the first stop reason is kept', () => {
    const stopped = stop(stop(enrolled(), 'won'), 'replied');
    assert.equal(stopped.stopReason, 'won');
    assert.ok(pauseRefusal(stopped));
    assert.ok(skipRefusal(stopped));
    assert.ok(resumeRefusal(stopped));
    assert.ok(pauseRefusal(initialState()));
  });
});

describe('cadence steps schema', () => {
  const cases: [string, unknown, boolean][] = [
    ['wait, send, call', [wait(2), send(0), call(1)], true],
    ['a call task with its own expiry', [{ type: 'call_task', waitBusinessDays: 0, title: 'Ligar', expiresInHours: 4 }], true],
    ['empty', [], false],
    ['only waits', [wait(1)], false],
    ['a wait at the end', [send(0), wait(2)], false],
    ['a negative wait', [send(-1)], false],
    ['fractional business days', [send(1.5)], false],
    ['an unknown step type', [{ type: 'email', waitBusinessDays: 0 }], false],
    ['a template name Meta would refuse', [{ ...send(0), template: { name: 'Oferta Imóvel' } }], false],
    ['an unknown category', [{ ...send(0), category: 'authentication' }], false],
    ['an unknown field', [{ ...send(0), extra: true }], false],
  ];
  for (const [why, steps, ok] of cases) it(`${why} → ${ok ? 'valid' : 'refused'}`, () => assert.equal(cadenceStepsSchema.safeParse(steps).success, ok));
});
