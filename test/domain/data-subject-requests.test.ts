import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anonymizedContact,
  compressedDeadline,
  dataSubjectDeadline,
  dataSubjectRequestKindOf,
  identifyingStrings,
  protocolOf,
  pseudonymOf,
  registeredReply,
} from '../../domain/data-subject-requests';
import { answerSteps, decisionRefusal, dueReminder, isOverdue, nextWake } from '../../workflows/data-subject-request/transitions';
import type { DataSubjectRequestState } from '../../workflows/data-subject-request/definitions';

// Hand-computed: São Paulo is UTC−3 all year (no daylight saving since 2019), Manaus UTC−4.
describe('the 15-day deadline of an LGPD request', () => {
  const cases: { requestedAt: string; tz: string; dueAt: string; day10: string; day14: string }[] = [
    // 10:00 local on 4 Dec → end of 19 Dec local; reminders 14 Dec and 18 Dec at 09:00 local.
    { requestedAt: '2026-12-04T13:00:00.000Z', tz: 'America/Sao_Paulo', dueAt: '2026-12-20T02:59:59.999Z', day10: '2026-12-14T12:00:00.000Z', day14: '2026-12-18T12:00:00.000Z' },
    // 22:30 local on 31 Dec (already 1 Jan in UTC): counted from the local day, across the year.
    { requestedAt: '2027-01-01T01:30:00.000Z', tz: 'America/Sao_Paulo', dueAt: '2027-01-16T02:59:59.999Z', day10: '2027-01-10T12:00:00.000Z', day14: '2027-01-14T12:00:00.000Z' },
    // Calendar days: a deadline on a Sunday or a holiday stays there (15 Feb 2027 is Carnival Monday).
    { requestedAt: '2027-01-31T15:00:00.000Z', tz: 'America/Sao_Paulo', dueAt: '2027-02-16T02:59:59.999Z', day10: '2027-02-10T12:00:00.000Z', day14: '2027-02-14T12:00:00.000Z' },
    // The tenant's zone decides the day: 02:00 UTC on 5 Dec is still 4 Dec in Manaus.
    { requestedAt: '2026-12-05T02:00:00.000Z', tz: 'America/Manaus', dueAt: '2026-12-20T03:59:59.999Z', day10: '2026-12-14T13:00:00.000Z', day14: '2026-12-18T13:00:00.000Z' },
  ];
  for (const c of cases) {
    it(`${c.requestedAt} in ${c.tz} → due ${c.dueAt}`, () => {
      const plan = dataSubjectDeadline(new Date(c.requestedAt), c.tz);
      assert.equal(plan.dueAt.toISOString(), c.dueAt);
      assert.deepEqual(plan.reminders.map((r) => [r.key, r.at.toISOString()]), [['day10', c.day10], ['day14', c.day14]]);
    });
  }

  it('compressed for tests: a day of dayMs after the start', () => {
    assert.deepEqual(compressedDeadline(1_000, 100), { dueAtMs: 2_500, reminders: [{ key: 'day10', atMs: 2_000 }, { key: 'day14', atMs: 2_400 }] });
  });
});

describe('a WhatsApp message read as a request', () => {
  const cases: [string, string | null][] = [
    ['apagar meus dados', 'erasure'],
    ['Quero EXCLUIR meus dados, por favor', 'erasure'],
    ['Por favor, excluam... não: exclua minhas informações', 'erasure'],
    ['quero meus dados', 'access'],
    ['Gostaria de acesso aos meus dados', 'access'],
    ['acesso às minhas informações', 'access'],
    ['Quero a portabilidade dos meus dados', 'portability'],
    ['preciso corrigir meus dados cadastrais', 'correction'],
    ['Quero apagar meus dados e receber uma cópia', 'erasure'],
    ['Vocês aceitam pets?', null],
    ['meus dados de reserva estão corretos?', null],
    ['', null],
    [`Olá, ${'quero saber sobre a reserva do chalé e também '.repeat(3)}apagar meus dados`, null],
  ];
  for (const [text, kind] of cases) it(`"${text.slice(0, 50)}" → ${kind}`, () => assert.equal(dataSubjectRequestKindOf(text), kind));
});

describe('what the contact reads and what an erased contact becomes', () => {
  it('protocol numbers', () => {
    assert.equal(protocolOf(1), 'LGPD-000001');
    assert.equal(protocolOf(1234567), 'LGPD-1234567');
  });

  it('the pt-BR reply names the kind, the protocol and the last day in the tenant’s zone', () => {
    assert.equal(
      registeredReply({ kind: 'erasure', protocol: 'LGPD-000042', dueAt: new Date('2026-12-20T02:59:59.999Z'), timeZone: 'America/Sao_Paulo' }),
      'Recebemos sua solicitação de exclusão (anonimização) dos seus dados (LGPD, art. 18). Protocolo: LGPD-000042. Nossa equipe vai confirmar sua identidade e responder em até 15 dias, até 19/12/2026.',
    );
  });

  const id = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  it('the pseudonym is short, stable and says what it is', () => assert.equal(pseudonymOf(id), 'titular-anonimizado-0a1b2c3d'));

  const table: { keepDocument: boolean; document: string | null; expected: string | null }[] = [
    { keepDocument: true, document: '12345678909', expected: '12345678909' },
    { keepDocument: false, document: '12345678909', expected: null },
    { keepDocument: true, document: null, expected: null },
  ];
  for (const c of table) {
    it(`anonymized contact, keepDocument=${c.keepDocument}, document=${c.document}`, () => {
      assert.deepEqual(anonymizedContact(id, c), {
        waId: null, userId: 'titular-anonimizado-0a1b2c3d', profileName: 'titular-anonimizado-0a1b2c3d', name: 'titular-anonimizado-0a1b2c3d', email: null, document: c.expected, doNotContact: true,
      });
    });
  }

  it('the strings searched for: longest first, none too short to be safe', () => {
    assert.deepEqual(identifyingStrings({ waId: '5511988887777', userId: null, profileName: 'Ana', name: 'Ana Souza', email: 'ana.souza@x.com', document: null }), ['ana.souza@x.com', '5511988887777', 'Ana Souza']);
  });
});

describe('the request workflow’s moves', () => {
  const base: DataSubjectRequestState = {
    kind: 'erasure', status: 'awaiting_identity', dueAtMs: 1_500, reminders: [{ key: 'day10', atMs: 1_000 }, { key: 'day14', atMs: 1_400 }],
    remindersSent: [], overdueNoted: false, identity: null, refusal: null, completion: null,
  };

  it('identity is decided once', () => {
    assert.equal(decisionRefusal(base), null);
    for (const status of ['in_progress', 'completed', 'refused'] as const) assert.equal(decisionRefusal({ status })?.type, 'DataSubjectRequestNotAwaitingIdentity');
  });

  const timeline: { now: number; sent: string[]; overdue: boolean; due: string | null; isOverdue: boolean; wake: number | null }[] = [
    { now: 999, sent: [], overdue: false, due: null, isOverdue: false, wake: 1_000 },
    { now: 1_000, sent: [], overdue: false, due: 'day10', isOverdue: false, wake: 1_000 },
    { now: 1_450, sent: [], overdue: false, due: 'day10', isOverdue: false, wake: 1_000 },
    { now: 1_450, sent: ['day10'], overdue: false, due: 'day14', isOverdue: false, wake: 1_400 },
    { now: 1_450, sent: ['day10', 'day14'], overdue: false, due: null, isOverdue: false, wake: 1_501 },
    { now: 1_501, sent: ['day10', 'day14'], overdue: false, due: null, isOverdue: true, wake: 1_501 },
    { now: 9_999, sent: ['day10', 'day14'], overdue: true, due: null, isOverdue: false, wake: null },
  ];
  for (const c of timeline) {
    it(`at ${c.now} with ${c.sent.join('+') || 'none'} sent${c.overdue ? ', overdue noted' : ''}`, () => {
      const s = { ...base, remindersSent: c.sent, overdueNoted: c.overdue };
      assert.equal(dueReminder(s, c.now), c.due);
      assert.equal(isOverdue(s, c.now), c.isOverdue);
      assert.equal(nextWake(s), c.wake);
    });
  }

  it('a decided request has nothing due', () => {
    assert.equal(dueReminder({ ...base, status: 'refused' }, 5_000), null);
    assert.equal(nextWake({ ...base, status: 'completed' }), null);
  });

  it('the answer per kind: erasure touches the other stores before Postgres', () => {
    assert.deepEqual(answerSteps('access'), ['export']);
    assert.deepEqual(answerSteps('portability'), ['export']);
    assert.deepEqual(answerSteps('correction'), ['correct']);
    assert.deepEqual(answerSteps('erasure'), ['erase_workflows', 'erase_realtime', 'erase_media', 'erase_records', 'erase_late_workflows']);
  });
});
