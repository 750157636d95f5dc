import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  brazilianNationalHolidays,
  isWithinBusinessHours,
  localParts,
  nationalHolidayName,
  nextBusinessOpening,
  zonedTimeToUtc,
} from '../../domain/calendar';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';

type Calendar = Pick<TenantSettings, 'timeZone' | 'businessHours' | 'observeNationalHolidays'>;

// Defaults: São Paulo (UTC−3, no DST since 2019), Mon–Fri 08–18, Sat 08–12, Sunday closed, holidays observed.
const SP: Calendar = DEFAULT_TENANT_SETTINGS;
const SP_NO_HOLIDAYS: Calendar = { ...SP, observeNationalHolidays: false };
const NY: Calendar = { ...SP, timeZone: 'America/New_York', observeNationalHolidays: false };
const ALWAYS_CLOSED: Calendar = {
  ...SP,
  businessHours: { sunday: null, monday: null, tuesday: null, wednesday: null, thursday: null, friday: null, saturday: null },
};
const SUNDAYS_ONLY: Calendar = { ...ALWAYS_CLOSED, businessHours: { ...ALWAYS_CLOSED.businessHours, sunday: { open: '10:00', close: '14:00' } } };

const at = (iso: string) => new Date(iso);

describe('brazilian national holidays', () => {
  const goodFridays: [number, string][] = [
    [2019, '2019-04-19'],
    [2024, '2024-03-29'],
    [2025, '2025-04-18'],
    [2026, '2026-04-03'],
    [2027, '2027-03-26'],
    [2038, '2038-04-23'],
  ];
  for (const [year, date] of goodFridays) {
    it(`Sexta-feira Santa ${year} is ${date}`, () =>
      assert.deepEqual(brazilianNationalHolidays(year).find((h) => h.name === 'Sexta-feira Santa')?.date, date));
  }

  it('2026: the full table, sorted', () =>
    assert.deepEqual(brazilianNationalHolidays(2026), [
      { date: '2026-01-01', name: 'Confraternização Universal' },
      { date: '2026-04-03', name: 'Sexta-feira Santa' },
      { date: '2026-04-21', name: 'Tiradentes' },
      { date: '2026-05-01', name: 'Dia do Trabalho' },
      { date: '2026-09-07', name: 'Independência' },
      { date: '2026-10-12', name: 'Nossa Senhora Aparecida' },
      { date: '2026-11-02', name: 'Finados' },
      { date: '2026-11-15', name: 'Proclamação da República' },
      { date: '2026-11-20', name: 'Dia Nacional de Zumbi e da Consciência Negra' },
      { date: '2026-12-25', name: 'Natal' },
    ]));

  const lookups: [string, string, string | undefined][] = [
    ['Consciência Negra before Lei 14.759/2023', '2023-11-20', undefined],
    ['Consciência Negra from 2024', '2024-11-20', 'Dia Nacional de Zumbi e da Consciência Negra'],
    ['Carnaval is only ponto facultativo', '2026-02-17', undefined],
    ['Ash Wednesday is only ponto facultativo', '2026-02-18', undefined],
    ['Corpus Christi is only ponto facultativo', '2026-06-04', undefined],
    ['Natal', '2025-12-25', 'Natal'],
    ['an ordinary day', '2026-11-23', undefined],
  ];
  for (const [name, date, expected] of lookups) it(`${name}: ${date}`, () => assert.equal(nationalHolidayName(date), expected));

  it('2023 has 9 holidays, 2024 has 10', () =>
    assert.deepEqual([brazilianNationalHolidays(2023).length, brazilianNationalHolidays(2024).length], [9, 10]));
});

describe('local parts', () => {
  const cases: [string, Date | number, string, ReturnType<typeof localParts>][] = [
    ['São Paulo opening', at('2026-11-23T11:00:00Z'), 'America/Sao_Paulo', { date: '2026-11-23', weekday: 'monday', minutes: 480 }],
    ['São Paulo is still the previous day', at('2026-11-23T02:59:59Z'), 'America/Sao_Paulo', { date: '2026-11-22', weekday: 'sunday', minutes: 1439 }],
    ['epoch ms input', Date.UTC(2026, 10, 23, 11, 0), 'America/Sao_Paulo', { date: '2026-11-23', weekday: 'monday', minutes: 480 }],
    ['UTC midnight is minute 0, not 24:00', at('2026-01-01T00:00:00Z'), 'UTC', { date: '2026-01-01', weekday: 'thursday', minutes: 0 }],
    ['New York in summer (EDT, UTC−4)', at('2026-07-01T16:00:00Z'), 'America/New_York', { date: '2026-07-01', weekday: 'wednesday', minutes: 720 }],
    ['New York in winter (EST, UTC−5)', at('2026-01-15T17:00:00Z'), 'America/New_York', { date: '2026-01-15', weekday: 'thursday', minutes: 720 }],
    ['Kathmandu (UTC+5:45)', at('2026-01-01T00:00:00Z'), 'Asia/Kathmandu', { date: '2026-01-01', weekday: 'thursday', minutes: 345 }],
  ];
  for (const [name, instant, tz, expected] of cases) it(name, () => assert.deepEqual(localParts(instant, tz), expected));
});

describe('zoned time to UTC', () => {
  const cases: [string, string, string, string][] = [
    ['São Paulo 08:00', '2026-11-23 08:00', 'America/Sao_Paulo', '2026-11-23T11:00:00.000Z'],
    ['Tokyo midnight is the previous UTC day', '2026-01-01 00:00', 'Asia/Tokyo', '2025-12-31T15:00:00.000Z'],
    ['Kathmandu quarter-hour offset', '2026-01-01 00:00', 'Asia/Kathmandu', '2025-12-31T18:15:00.000Z'],
    ['New York EST', '2026-01-15 09:00', 'America/New_York', '2026-01-15T14:00:00.000Z'],
    ['New York EDT', '2026-07-01 09:00', 'America/New_York', '2026-07-01T13:00:00.000Z'],
    ['New York gap: 02:30 does not exist, becomes 03:30 EDT', '2026-03-08 02:30', 'America/New_York', '2026-03-08T07:30:00.000Z'],
    ['New York overlap: 01:30 happens twice, first (EDT) wins', '2026-11-01 01:30', 'America/New_York', '2026-11-01T05:30:00.000Z'],
    ['Berlin overlap: 02:30 happens twice, first (CEST) wins', '2026-10-25 02:30', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
    ['Berlin gap: 02:30 becomes 03:30 CEST', '2026-03-29 02:30', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    ['Brazil still had DST in 2018: 00:30 skipped, becomes 01:30 BRST', '2018-11-04 00:30', 'America/Sao_Paulo', '2018-11-04T03:30:00.000Z'],
  ];
  for (const [name, local, tz, expected] of cases) {
    const [date, hhmm] = local.split(' ') as [string, string];
    const minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
    it(name, () => assert.equal(zonedTimeToUtc(date, minutes, tz).toISOString(), expected));
  }
});

describe('business hours', () => {
  const cases: [string, Calendar, string, boolean][] = [
    ['Monday 07:59 local: not yet', SP, '2026-11-23T10:59:00Z', false],
    ['Monday 07:59:59 local: not yet', SP, '2026-11-23T10:59:59.999Z', false],
    ['Monday 08:00 local: opens', SP, '2026-11-23T11:00:00Z', true],
    ['Monday 17:59 local: still open', SP, '2026-11-23T20:59:59Z', true],
    ['Monday 18:00 local: closed', SP, '2026-11-23T21:00:00Z', false],
    ['Saturday 11:59 local: open', SP, '2026-11-21T14:59:00Z', true],
    ['Saturday 12:00 local: closed', SP, '2026-11-21T15:00:00Z', false],
    ['Sunday noon: closed', SP, '2026-11-22T15:00:00Z', false],
    ['Consciência Negra 2026 (Friday noon): closed', SP, '2026-11-20T15:00:00Z', false],
    ['Consciência Negra 2026 when holidays are not observed: open', SP_NO_HOLIDAYS, '2026-11-20T15:00:00Z', true],
    ['Consciência Negra 2023 (Monday, not yet national): open', SP, '2023-11-20T15:00:00Z', true],
    ['Sexta-feira Santa 2026: closed', SP, '2026-04-03T15:00:00Z', false],
    ['the Thursday before: open', SP, '2026-04-02T15:00:00Z', true],
    ['Natal 2025 (Thursday): closed', SP, '2025-12-25T15:00:00Z', false],
    ['Carnaval Tuesday 2026: open (ponto facultativo)', SP, '2026-02-17T15:00:00Z', true],
    ['New York winter 08:00 EST opens', NY, '2026-01-15T13:00:00Z', true],
    ['New York winter 07:59 EST closed', NY, '2026-01-15T12:59:00Z', false],
    ['New York summer 08:00 EDT opens', NY, '2026-07-01T12:00:00Z', true],
    ['New York summer 07:59 EDT closed', NY, '2026-07-01T11:59:00Z', false],
    ['never open', ALWAYS_CLOSED, '2026-11-23T15:00:00Z', false],
  ];
  for (const [name, settings, iso, expected] of cases) it(name, () => assert.equal(isWithinBusinessHours(settings, at(iso)), expected));
});

describe('next business opening', () => {
  const cases: [string, Calendar, Date | number, string | null][] = [
    ['already open: the instant itself', SP, at('2026-11-23T15:30:00Z'), '2026-11-23T15:30:00.000Z'],
    ['just before opening: today at 08:00', SP, at('2026-11-23T10:59:59.999Z'), '2026-11-23T11:00:00.000Z'],
    ['epoch ms input', SP, Date.UTC(2026, 10, 23, 10, 0), '2026-11-23T11:00:00.000Z'],
    ['Monday after close: Tuesday 08:00', SP, at('2026-11-23T21:00:00Z'), '2026-11-24T11:00:00.000Z'],
    ['Monday 23:30 local (already Tuesday in UTC): Tuesday 08:00', SP, at('2026-11-24T02:30:00Z'), '2026-11-24T11:00:00.000Z'],
    ['Saturday afternoon: Monday 08:00', SP, at('2026-11-21T18:00:00Z'), '2026-11-23T11:00:00.000Z'],
    ['Sunday: Monday 08:00', SP, at('2026-11-22T15:00:00Z'), '2026-11-23T11:00:00.000Z'],
    ['Thursday night before Consciência Negra: Saturday 08:00', SP, at('2026-11-19T22:00:00Z'), '2026-11-21T11:00:00.000Z'],
    ['Consciência Negra itself: Saturday 08:00', SP, at('2026-11-20T15:00:00Z'), '2026-11-21T11:00:00.000Z'],
    ['same, holidays not observed: the instant itself', SP_NO_HOLIDAYS, at('2026-11-20T15:00:00Z'), '2026-11-20T15:00:00.000Z'],
    ['Thursday night before Sexta-feira Santa: Saturday 08:00', SP, at('2026-04-02T22:00:00Z'), '2026-04-04T11:00:00.000Z'],
    ['Christmas Eve night: Friday 26th 08:00', SP, at('2025-12-24T22:00:00Z'), '2025-12-26T11:00:00.000Z'],
    ['Sundays only, from a Monday: six days later', SUNDAYS_ONLY, at('2026-11-23T15:00:00Z'), '2026-11-29T13:00:00.000Z'],
    ['New York across spring-forward: Monday 08:00 EDT (12:00Z, not 13:00Z)', NY, at('2026-03-07T18:00:00Z'), '2026-03-09T12:00:00.000Z'],
    ['New York across fall-back: Monday 08:00 EST (13:00Z, not 12:00Z)', NY, at('2026-10-31T17:00:00Z'), '2026-11-02T13:00:00.000Z'],
    ['every day closed: null', ALWAYS_CLOSED, at('2026-11-23T15:00:00Z'), null],
  ];
  for (const [name, settings, instant, expected] of cases) {
    it(name, () => assert.equal(nextBusinessOpening(settings, instant)?.toISOString() ?? null, expected));
  }

  it('the opening it returns is inside business hours', () => {
    const opening = nextBusinessOpening(SP, at('2026-11-21T18:00:00Z'));
    assert.ok(opening);
    assert.equal(isWithinBusinessHours(SP, opening), true);
  });
});
