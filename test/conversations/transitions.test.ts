import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { CONVERSATION_ERRORS, type EscalationState } from '../../workflows/conversation';
import {
  accept,
  acceptRefusal,
  breachSla,
  close,
  escalate,
  guestNotice,
  isAssistantHandoff,
  replyRefusal,
  resolve,
  resolveRefusal,
  slaDueAt,
  transfer,
  transferRefusal,
  type CaseState,
} from '../../workflows/conversation/transitions';

// The conversation's moves between the AI and people, without a server. Expectations are worked
// out by hand from the default calendar: São Paulo (UTC−3, no DST), Mon–Fri 08:00–18:00,
// Sat 08:00–12:00, Sunday closed, national holidays observed, 5-minute acceptance SLA.
// December 2026: Tue 1, Thu 24, Fri 25 (Natal), Sat 5 and 26, Mon 7.

const ms = (iso: string) => new Date(iso).getTime();
const MIN = 60_000;

const TUE_1000 = ms('2026-12-01T13:00:00Z'); // Tuesday 10:00 local, within hours
const TUE_2100 = ms('2026-12-02T00:00:00Z'); // Tuesday 21:00 local, after closing
const WED_0800 = ms('2026-12-02T11:00:00Z'); // Wednesday's opening
const SAT_1300 = ms('2026-12-05T16:00:00Z'); // Saturday 13:00 local, Saturday closed at 12:00
const MON_0800 = ms('2026-12-07T11:00:00Z'); // Monday's opening (Sunday is closed)
const THU_1758 = ms('2026-12-24T20:58:00Z'); // Thursday 17:58 local, two minutes before closing
const THU_1900 = ms('2026-12-24T22:00:00Z'); // Thursday 19:00 local, the eve of Natal
const SAT_26_0800 = ms('2026-12-26T11:00:00Z'); // Saturday after Natal, opening

const ALWAYS_CLOSED: TenantSettings = {
  ...DEFAULT_TENANT_SETTINGS,
  businessHours: { sunday: null, monday: null, tuesday: null, wednesday: null, thursday: null, friday: null, saturday: null },
};

function state(over: Partial<CaseState> = {}): CaseState {
  return {
    status: 'ai',
    assigneeId: null,
    team: null,
    intent: 'pricing',
    escalation: null,
    pendingAiReplies: [],
    lastActivityAt: 0,
    lastInboundAt: TUE_1000 - MIN, // the guest wrote a minute ago: the 24-hour window is open
    lastReferralAt: null,
    settings: DEFAULT_TENANT_SETTINGS,
    ...over,
  };
}

function escalation(over: Partial<EscalationState> = {}): EscalationState {
  return { id: 'esc-1', reason: 'guest_asked_for_person', since: TUE_1000, acceptedAt: null, slaDueAt: TUE_1000 + 5 * MIN, breaches: 0, outOfHoursNoticeSent: false, handoffNoticeSent: false, ...over };
}

const waiting = (over: Partial<CaseState> = {}) => state({ status: 'escalated', escalation: escalation(), ...over });
const assigned = (over: Partial<CaseState> = {}) =>
  state({ status: 'assigned', assigneeId: 'user-ana', escalation: escalation({ acceptedAt: TUE_1000 + MIN, slaDueAt: null }), ...over });

describe('acceptance SLA due time', () => {
  const cases: [string, TenantSettings, number, number | null][] = [
    ['within hours: now plus 5 minutes', DEFAULT_TENANT_SETTINGS, TUE_1000, ms('2026-12-01T13:05:00Z')],
    ['after closing: the next morning’s opening plus 5 minutes', DEFAULT_TENANT_SETTINGS, TUE_2100, WED_0800 + 5 * MIN],
    ['Saturday afternoon: Monday’s opening (Sunday closed)', DEFAULT_TENANT_SETTINGS, SAT_1300, MON_0800 + 5 * MIN],
    ['two minutes before closing: may run past the closing', DEFAULT_TENANT_SETTINGS, THU_1758, ms('2026-12-24T21:03:00Z')],
    ['the eve of Natal: skips the holiday to Saturday', DEFAULT_TENANT_SETTINGS, THU_1900, SAT_26_0800 + 5 * MIN],
    ['a 30-minute SLA', { ...DEFAULT_TENANT_SETTINGS, escalation: { acceptanceSlaMinutes: 30 } }, TUE_2100, WED_0800 + 30 * MIN],
    ['no opening ahead: no deadline', ALWAYS_CLOSED, TUE_1000, null],
  ];
  for (const [name, settings, from, expected] of cases) {
    it(name, () => assert.equal(slaDueAt(settings, from), expected));
  }
});

describe('escalate', () => {
  it('from the AI, within hours: waiting for people, the AI’s queued answers dropped, SLA from now', () => {
    const t = escalate(state({ pendingAiReplies: ['Claro!'] }), { escalationId: 'esc-9', reason: 'ai:booking', team: 'reservas', now: TUE_1000 });
    assert.ok(t);
    assert.deepEqual(t.state, {
      ...state(),
      status: 'escalated',
      team: 'reservas',
      pendingAiReplies: [],
      lastActivityAt: TUE_1000,
      escalation: { id: 'esc-9', reason: 'ai:booking', since: TUE_1000, acceptedAt: null, slaDueAt: TUE_1000 + 5 * MIN, breaches: 0, outOfHoursNoticeSent: false, handoffNoticeSent: false },
    });
    assert.deepEqual(t.change, { kind: 'escalated', escalationId: 'esc-9', reason: 'ai:booking', intent: 'pricing', team: 'reservas', outOfHours: false, slaDueAt: TUE_1000 + 5 * MIN });
  });

  it('after closing: marked out of hours, the SLA runs from the next opening', () => {
    const t = escalate(state(), { escalationId: 'esc-2', reason: 'guest_asked_for_person', now: TUE_2100 });
    assert.ok(t);
    assert.equal(t.state.team, null);
    assert.equal(t.state.escalation?.slaDueAt, WED_0800 + 5 * MIN);
    assert.deepEqual([t.change.outOfHours, t.change.slaDueAt], [true, WED_0800 + 5 * MIN]);
  });

  const already: [string, CaseState][] = [
    ['waiting for people', waiting()],
    ['with a person', assigned()],
    ['closed', state({ status: 'closed' })],
  ];
  for (const [name, s] of already) {
    it(`changes nothing when the conversation is ${name}`, () => assert.equal(escalate(s, { escalationId: 'x', reason: 'manual', now: TUE_1000 }), null));
  }
});

describe('accept', () => {
  it('a waiting escalation: assigned to the attendant, the SLA clock stopped', () => {
    const t = accept(waiting(), { userId: 'user-ana', now: TUE_1000 + 2 * MIN });
    assert.ok(t);
    assert.deepEqual(
      [t.state.status, t.state.assigneeId, t.state.escalation?.acceptedAt, t.state.escalation?.slaDueAt, t.state.lastActivityAt],
      ['assigned', 'user-ana', TUE_1000 + 2 * MIN, null, TUE_1000 + 2 * MIN],
    );
    assert.deepEqual(t.change, { kind: 'accepted', escalationId: 'esc-1', userId: 'user-ana' });
  });
  it('nothing to accept with the AI', () => assert.equal(accept(state(), { userId: 'user-ana', now: TUE_1000 }), null));
});

describe('transfer', () => {
  const now = TUE_1000 + 10 * MIN;
  const cases: [string, CaseState, { toUserId?: string; team?: string }, Partial<CaseState>, unknown][] = [
    [
      'a waiting escalation to a person: counts as their acceptance',
      waiting({ team: 'recepcao' }),
      { toUserId: 'user-bia' },
      { status: 'assigned', assigneeId: 'user-bia', team: 'recepcao', escalation: escalation({ acceptedAt: now, slaDueAt: null }) },
      { kind: 'transferred', escalationId: 'esc-1', toUserId: 'user-bia', team: 'recepcao' },
    ],
    [
      'an accepted one to a person: the first acceptance stands',
      assigned(),
      { toUserId: 'user-bia', team: 'reservas' },
      { status: 'assigned', assigneeId: 'user-bia', team: 'reservas', escalation: escalation({ acceptedAt: TUE_1000 + MIN, slaDueAt: null }) },
      { kind: 'transferred', escalationId: 'esc-1', toUserId: 'user-bia', team: 'reservas' },
    ],
    [
      'to a team: back in the queue, the acceptance clock starts again',
      assigned(),
      { team: 'reservas' },
      { status: 'escalated', assigneeId: null, team: 'reservas', escalation: escalation({ acceptedAt: null, slaDueAt: now + 5 * MIN }) },
      { kind: 'transferred', escalationId: 'esc-1', toUserId: null, team: 'reservas' },
    ],
    [
      'to a team after closing: the clock starts at the next opening',
      assigned(),
      { team: 'reservas' },
      { status: 'escalated', assigneeId: null, team: 'reservas', escalation: escalation({ acceptedAt: null, slaDueAt: WED_0800 + 5 * MIN }) },
      { kind: 'transferred', escalationId: 'esc-1', toUserId: null, team: 'reservas' },
    ],
  ];
  for (const [name, s, request, expected, change] of cases) {
    it(name, () => {
      const at = name.includes('after closing') ? TUE_2100 : now;
      const t = transfer(s, { ...request, now: at });
      assert.deepEqual(t.state, { ...s, ...expected, lastActivityAt: at });
      assert.deepEqual(t.change, change);
    });
  }
});

describe('resolve, SLA breach, close', () => {
  it('resolve gives the conversation back to the AI', () => {
    const t = resolve(assigned({ team: 'reservas' }), { now: TUE_1000 + 20 * MIN });
    assert.deepEqual(t.state, state({ lastActivityAt: TUE_1000 + 20 * MIN }));
    assert.deepEqual(t.change, { kind: 'resolved', escalationId: 'esc-1' });
  });

  const breaches: [string, CaseState, number, number, number | null][] = [
    ['the first breach, within hours: next period from now', waiting({ team: 'reservas' }), TUE_1000 + 5 * MIN, 1, TUE_1000 + 10 * MIN],
    ['the third breach, after closing: next period from the next opening', waiting({ escalation: escalation({ breaches: 2 }) }), TUE_2100, 3, WED_0800 + 5 * MIN],
  ];
  for (const [name, s, now, count, nextDueAt] of breaches) {
    it(`SLA breach: ${name}`, () => {
      const t = breachSla(s, { now });
      assert.ok(t);
      assert.deepEqual([t.state.escalation?.breaches, t.state.escalation?.slaDueAt, t.state.status], [count, nextDueAt, 'escalated']);
      assert.deepEqual(t.change, { kind: 'sla_breached', escalationId: 'esc-1', breaches: count, team: s.team, nextDueAt });
    });
  }
  it('SLA breach without an escalation changes nothing', () => assert.equal(breachSla(state(), { now: TUE_1000 }), null));

  it('close keeps the escalation to cancel it', () => {
    const t = close(waiting(), { reason: 'inactivity' });
    assert.equal(t.state.status, 'closed');
    assert.deepEqual(t.change, { kind: 'closed', reason: 'inactivity', escalationId: 'esc-1' });
  });
});

describe('what the guest hears while people have the conversation', () => {
  const off = { ...DEFAULT_TENANT_SETTINGS, conversation: { ...DEFAULT_TENANT_SETTINGS.conversation, handoffNoticeEnabled: false } };
  const { handoffNoticeEnabled: _dropped, ...olderConversation } = DEFAULT_TENANT_SETTINGS.conversation;
  const older = { ...DEFAULT_TENANT_SETTINGS, conversation: olderConversation } as TenantSettings; // carried from an older run
  const windowClosed = { lastInboundAt: TUE_1000 - 25 * 60 * MIN };
  const cases: [string, CaseState, number, boolean, string | null, Partial<EscalationState> | null][] = [
    // what, state, at, handed over by the assistant, notice, escalation flags after
    ['within hours, handed over by the assistant: the handoff notice', waiting(), TUE_1000, true, 'handoff', { handoffNoticeSent: true }],
    ['… only once per escalation', waiting({ escalation: escalation({ handoffNoticeSent: true }) }), TUE_1000, true, null, null],
    ['within hours, the tenant turned it off', waiting({ settings: off }), TUE_1000, true, null, null],
    ['within hours, settings from before the notice existed', waiting({ settings: older }), TUE_1000, true, null, null],
    ['within hours, staff took it', waiting(), TUE_1000, false, null, null],
    ['within hours, the window closed: counts as given, nothing sent', waiting(windowClosed), TUE_1000, true, null, { handoffNoticeSent: true }],
    ['out of hours: the out-of-hours notice instead', waiting({ lastInboundAt: TUE_2100 }), TUE_2100, true, 'out_of_hours', { outOfHoursNoticeSent: true }],
    ['out of hours, staff took it: still the out-of-hours notice', waiting({ lastInboundAt: TUE_2100 }), TUE_2100, false, 'out_of_hours', { outOfHoursNoticeSent: true }],
    ['out of hours, already told', waiting({ lastInboundAt: TUE_2100, escalation: escalation({ outOfHoursNoticeSent: true }) }), TUE_2100, false, null, null],
    ['out of hours, the window closed', waiting({ lastInboundAt: TUE_2100 - 25 * 60 * MIN }), TUE_2100, true, null, { outOfHoursNoticeSent: true }],
    ['with the AI: nothing', state(), TUE_1000, true, null, null],
  ];
  for (const [name, s, at, byAssistant, notice, flags] of cases) {
    it(name, () => {
      const n = guestNotice(s, at, byAssistant);
      assert.equal(n.notice, notice);
      assert.deepEqual(n.state, flags ? { ...s, escalation: { ...s.escalation, ...flags } } : s);
    });
  }

  const reasons: [string, boolean][] = [
    ['guest_asked_for_person', true],
    ['ai_failed', true],
    ['ai:booking', true],
    ['window_closed', false],
    ['attendant_replied', false],
    ['manual', false],
  ];
  for (const [reason, handoff] of reasons) it(`escalation reason ${reason} is ${handoff ? '' : 'not '}the assistant handing over`, () => assert.equal(isAssistantHandoff(reason), handoff));
});

describe('why an update is refused', () => {
  const text = { type: 'text' as const, text: 'Olá!' };
  const template = { type: 'template' as const, name: 'retomar_contato', language: 'pt_BR' };
  const stale = { lastInboundAt: TUE_1000 - 25 * 60 * MIN };
  const cases: [string, () => unknown, string | null][] = [
    ['accept with the AI', () => acceptRefusal(state()), CONVERSATION_ERRORS.notEscalated],
    ['accept an accepted one', () => acceptRefusal(assigned()), CONVERSATION_ERRORS.alreadyAccepted],
    ['accept a closed one', () => acceptRefusal(state({ status: 'closed', escalation: escalation() })), CONVERSATION_ERRORS.closed],
    ['accept a waiting one', () => acceptRefusal(waiting()), null],
    ['transfer with the AI', () => transferRefusal(state(), { team: 'reservas' }), CONVERSATION_ERRORS.notEscalated],
    ['transfer to nobody', () => transferRefusal(waiting(), {}), CONVERSATION_ERRORS.invalidTransfer],
    ['transfer to a team', () => transferRefusal(assigned(), { team: 'reservas' }), null],
    ['resolve with the AI', () => resolveRefusal(state()), CONVERSATION_ERRORS.notEscalated],
    ['resolve an assigned one', () => resolveRefusal(assigned()), null],
    ['free text after 24 hours', () => replyRefusal(waiting(stale), text, TUE_1000), CONVERSATION_ERRORS.windowClosed],
    ['a template after 24 hours', () => replyRefusal(waiting(stale), template, TUE_1000), null],
    ['free text within the window', () => replyRefusal(waiting(), text, TUE_1000), null],
    ['reply to a closed one', () => replyRefusal(state({ status: 'closed' }), template, TUE_1000), CONVERSATION_ERRORS.closed],
  ];
  for (const [name, refusal, type] of cases) {
    it(`${name}: ${type ?? 'allowed'}`, () => {
      const r = refusal() as { type: string; message: string } | null;
      assert.equal(r?.type ?? null, type);
      if (r) assert.match(r.message, /\p{L}/u, 'a message for the person who asked');
    });
  }
});
