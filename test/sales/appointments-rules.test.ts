import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAppointmentTime, reminderSchedule } from '../../domain/appointment-schedule';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import type { AppointmentState } from '../../workflows/appointment/definitions';
import * as rules from '../../workflows/appointment/transitions';

// The appointment's pure rules, hand-computed. São Paulo is UTC−3 all year (no DST since 2019);
// default hours: Mon–Fri 08:00–18:00, Sat 08:00–12:00, Sun closed, national holidays closed.

const cal = DEFAULT_TENANT_SETTINGS;
const sp = (local: string) => Date.parse(`${local}-03:00`);
const iso = (ms: number) => new Date(ms).toISOString();
const H = 3_600_000;

describe('appointment reminders', () => {
  const cases: { name: string; start: string; now: string; r?: { dayBefore: boolean; hoursBefore: number }; expect: [string, string][] }[] = [
    {
      name: 'a Wednesday 10:00 visit: Tuesday 10:00 and Wednesday 08:00',
      start: '2026-12-02T10:00:00',
      now: '2026-11-25T09:00:00',
      expect: [['day_before', '2026-12-01T10:00:00'], ['hours_before', '2026-12-02T08:00:00']],
    },
    {
      name: 'a Monday 09:00 visit: Sunday is closed, so the day-before moves to Monday 08:00; hours-before at 07:00 stays (out of hours) and comes first',
      start: '2026-12-07T09:00:00',
      now: '2026-11-30T09:00:00',
      // Monday 08:00 is after the 07:00 hours-before: dropped, the closer reminder says the same.
      expect: [['hours_before', '2026-12-07T07:00:00']],
    },
    {
      name: 'a Monday 15:00 visit: Sunday 15:00 closed → Monday 08:00, before the 13:00 hours-before',
      start: '2026-12-07T15:00:00',
      now: '2026-11-30T09:00:00',
      expect: [['day_before', '2026-12-07T08:00:00'], ['hours_before', '2026-12-07T13:00:00']],
    },
    {
      name: 'a Saturday 11:00 test drive after a Friday: Friday 11:00 is open',
      start: '2026-12-05T11:00:00',
      now: '2026-11-30T09:00:00',
      expect: [['day_before', '2026-12-04T11:00:00'], ['hours_before', '2026-12-05T09:00:00']],
    },
    {
      name: 'the day after Christmas (Saturday 26/12, 10:00): 25/12 is a holiday → Saturday 08:00, the hours-before’s own time: dropped',
      start: '2026-12-26T10:00:00',
      now: '2026-12-20T09:00:00',
      expect: [['hours_before', '2026-12-26T08:00:00']],
    },
    {
      name: 'booked at short notice: both times already passed',
      start: '2026-12-02T10:00:00',
      now: '2026-12-02T09:00:00',
      expect: [],
    },
    {
      name: 'day-before turned off, 3 hours before',
      start: '2026-12-02T16:00:00',
      now: '2026-11-25T09:00:00',
      r: { dayBefore: false, hoursBefore: 3 },
      expect: [['hours_before', '2026-12-02T13:00:00']],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = reminderSchedule(cal, c.r ?? { dayBefore: true, hoursBefore: 2 }, sp(c.start), sp(c.now));
      assert.deepEqual(
        got.map((r) => [r.key, iso(r.at)]),
        c.expect.map(([k, at]) => [k, iso(sp(at))]),
      );
    });
  }
});

describe('appointment times in the tenant’s words', () => {
  for (const [instant, zone, text] of [
    ['2026-12-05T13:00:00Z', 'America/Sao_Paulo', 'sábado, 05/12 às 10:00'],
    ['2026-12-07T02:30:00Z', 'America/Sao_Paulo', 'domingo, 06/12 às 23:30'],
    ['2026-12-07T02:30:00Z', 'America/Manaus', 'domingo, 06/12 às 22:30'],
    ['2027-01-01T12:05:00Z', 'America/Sao_Paulo', 'sexta-feira, 01/01 às 09:05'],
  ] as const) {
    it(`${instant} in ${zone} → ${text}`, () => assert.equal(formatAppointmentTime(new Date(instant), zone), text));
  }
});

describe('appointment transitions', () => {
  const base: AppointmentState = {
    status: 'scheduled',
    startsAt: sp('2026-12-02T10:00:00'),
    endsAt: sp('2026-12-02T11:00:00'),
    version: 0,
    scheduledAt: sp('2026-11-25T09:00:00'),
    remindersSent: [],
    contactAskedReschedule: false,
    followUpCreated: false,
    outcomeNote: null,
    contactName: null,
    answers: [],
    settings: { timeZone: cal.timeZone, businessHours: cal.businessHours, observeNationalHolidays: true, reminders: { dayBefore: true, hoursBefore: 2 } },
  };
  const at = (status: AppointmentState['status'], extra: Partial<AppointmentState> = {}): AppointmentState => ({ ...base, status, ...extra });

  const answers: { name: string; s: AppointmentState; action: 'confirm' | 'cancel' | 'reschedule'; status: string | null; effects: string[] }[] = [
    { name: 'confirm a scheduled one', s: at('scheduled'), action: 'confirm', status: 'confirmed', effects: ['tell_contact:confirmed'] },
    { name: 'confirm again: nothing', s: at('confirmed'), action: 'confirm', status: null, effects: [] },
    { name: 'cancel a confirmed one', s: at('confirmed'), action: 'cancel', status: 'cancelled', effects: ['tell_contact:cancelledByContact', 'notify_owner:contact_cancelled'] },
    { name: 'ask to reschedule: owner told, slot kept', s: at('scheduled'), action: 'reschedule', status: 'scheduled', effects: ['notify_owner:contact_asked_reschedule', 'tell_contact:rescheduleRequested'] },
    { name: 'ask twice: the owner is told once', s: at('scheduled', { contactAskedReschedule: true }), action: 'reschedule', status: null, effects: [] },
    { name: 'an answer after cancellation: nothing', s: at('cancelled'), action: 'confirm', status: null, effects: [] },
    { name: 'an answer after the outcome: nothing', s: at('attended'), action: 'cancel', status: null, effects: [] },
  ];
  for (const c of answers) {
    it(`contact answer: ${c.name}`, () => {
      const t = rules.answer(c.s, { action: c.action });
      if (c.status === null) return assert.equal(t, null);
      assert.ok(t);
      assert.equal(t.state.status, c.status);
      assert.deepEqual(t.effects.map((e) => (e.kind === 'tell_contact' ? `tell_contact:${e.message}` : `notify_owner:${e.notice}`)), c.effects);
    });
  }

  it('staff actions are refused once the appointment is over, with the reason', () => {
    assert.equal(rules.closedRefusal(at('scheduled')), null);
    assert.equal(rules.closedRefusal(at('confirmed')), null);
    assert.match(rules.closedRefusal(at('cancelled'))?.message ?? '', /cancelado/);
    assert.match(rules.outcomeRefusal(at('no_show'))?.message ?? '', /já foi registrado/);
    const now = sp('2026-12-01T09:00:00');
    assert.match(rules.rescheduleRefusal(at('scheduled'), { startsAt: now - 1, endsAt: now + H }, now)?.message ?? '', /já passou/);
    assert.match(rules.rescheduleRefusal(at('scheduled'), { startsAt: now + H, endsAt: now + H }, now)?.message ?? '', /depois do início/);
    assert.equal(rules.rescheduleRefusal(at('confirmed'), { startsAt: now + H, endsAt: now + 2 * H }, now), null);
  });

  it('a reschedule is a new version: back to scheduled, reminders start over, the contact gets the new time', () => {
    const s = at('confirmed', { remindersSent: ['0:day_before'], contactAskedReschedule: true, followUpCreated: true });
    const t = rules.reschedule(s, { startsAt: sp('2026-12-03T15:00:00'), endsAt: sp('2026-12-03T16:00:00'), now: sp('2026-12-01T09:00:00') });
    assert.equal(t.state.status, 'scheduled');
    assert.equal(t.state.version, 1);
    assert.equal(t.state.contactAskedReschedule, false);
    assert.equal(t.state.followUpCreated, false);
    assert.deepEqual(t.change, { status: 'scheduled', startsAt: iso(sp('2026-12-03T15:00:00')), endsAt: iso(sp('2026-12-03T16:00:00')), rescheduleCount: 1 });
    assert.deepEqual(rules.pendingReminders(t.state, {}).map((r) => [r.key, iso(r.at)]), [
      ['day_before', iso(sp('2026-12-02T15:00:00'))],
      ['hours_before', iso(sp('2026-12-03T13:00:00'))],
    ]);
    assert.deepEqual(t.effects, [{ kind: 'tell_contact', message: 'rescheduled' }]);
  });

  it('a no-show outcome tells the owner; attended does not', () => {
    assert.deepEqual(rules.outcome(at('confirmed'), { outcome: 'no_show', note: null }).effects, [{ kind: 'notify_owner', notice: 'no_show' }]);
    assert.deepEqual(rules.outcome(at('confirmed'), { outcome: 'attended', note: 'ok' }).effects, []);
  });

  it('after the slot: a follow-up task for the owner after the grace, a no-show past the limit', () => {
    const end = base.endsAt;
    assert.equal(rules.afterSlot(base, {}, end + rules.OUTCOME_GRACE_MS - 1), null);
    const followUp = rules.afterSlot(base, {}, end + rules.OUTCOME_GRACE_MS);
    assert.deepEqual(followUp?.effects, [{ kind: 'notify_owner', notice: 'outcome_missing' }]);
    assert.equal(followUp?.state.status, 'scheduled');
    assert.equal(rules.afterSlot({ ...base, followUpCreated: true }, {}, end + rules.OUTCOME_GRACE_MS), null);
    const limit = rules.afterSlot({ ...base, followUpCreated: true }, {}, end + rules.OUTCOME_LIMIT_MS);
    assert.equal(limit?.state.status, 'no_show');
    assert.equal(limit?.change?.outcomeNote, rules.MISSING_OUTCOME_NOTE);
    assert.equal(rules.afterSlot(at('attended'), {}, end + rules.OUTCOME_LIMIT_MS), null);
    assert.equal(rules.nextDeadline({ ...base, remindersSent: ['0:day_before', '0:hours_before'] }, {}), end + rules.OUTCOME_GRACE_MS);
    assert.equal(rules.nextDeadline(at('cancelled'), {}), Infinity);
  });

  it('test delays replace the calendar: reminders and the slot’s end count from the scheduling', () => {
    const o = { reminderDelaysMs: { hoursBefore: 2_000, dayBefore: 1_000 }, slotEndDelayMs: 5_000 };
    assert.deepEqual(rules.pendingReminders(base, o).map((r) => [r.key, r.at - base.scheduledAt]), [['day_before', 1_000], ['hours_before', 2_000]]);
    assert.equal(rules.slotEnd(base, o), base.scheduledAt + 5_000);
    assert.deepEqual(rules.pendingReminders(rules.reminderSent(base, 'day_before'), o).map((r) => r.key), ['hours_before']);
  });
});
