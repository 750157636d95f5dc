import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addBusinessDays } from '../../domain/calendar';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';

type Calendar = Pick<TenantSettings, 'timeZone' | 'businessHours' | 'observeNationalHolidays'>;

// São Paulo is UTC−3 all year (no DST since 2019), Manaus UTC−4. Defaults: Mon–Fri 08–18,
// Saturday 08–12 (short), Sunday closed, national holidays observed. 2026-12-01 is a Tuesday.
const SP: Calendar = DEFAULT_TENANT_SETTINGS;
const SP_NO_HOLIDAYS: Calendar = { ...SP, observeNationalHolidays: false };
const MANAUS: Calendar = { ...SP, timeZone: 'America/Manaus' };
const CLOSED: Calendar = {
  ...SP,
  businessHours: { sunday: null, monday: null, tuesday: null, wednesday: null, thursday: null, friday: null, saturday: null },
};

describe('addBusinessDays', () => {
  const cases: [string, Calendar, string, number, string][] = [
    // [why, calendar, from (UTC), days, expected (UTC)] — each worked out by hand in local time.
    ['Fri 10:00 + 1 → Saturday 10:00, inside the short Saturday', SP, '2026-12-04T13:00:00Z', 1, '2026-12-05T13:00:00Z'],
    ['Fri 14:00 + 1 → Saturday 14:00 is after its 12:00 close → Monday 08:00', SP, '2026-12-04T17:00:00Z', 1, '2026-12-07T11:00:00Z'],
    ['Sat 10:00 + 1 → Sunday has no hours → Monday 10:00', SP, '2026-12-05T13:00:00Z', 1, '2026-12-07T13:00:00Z'],
    ['Fri 10:00 + 2 → Saturday (1), Sunday skipped, Monday (2) 10:00', SP, '2026-12-04T13:00:00Z', 2, '2026-12-07T13:00:00Z'],
    ['Thu 24/12 09:00 + 1 → Natal skipped → Saturday 26/12 09:00', SP, '2026-12-24T12:00:00Z', 1, '2026-12-26T12:00:00Z'],
    ['the same without observing holidays → Natal 09:00', SP_NO_HOLIDAYS, '2026-12-24T12:00:00Z', 1, '2026-12-25T12:00:00Z'],
    ['Wed 18/11 15:00 + 2 → Thu (1), Consciência Negra skipped, Sat (2) 15:00 closed → Mon 08:00', SP, '2026-11-18T18:00:00Z', 2, '2026-11-23T11:00:00Z'],
    ['Thu 31/12 10:00 + 1 → Confraternização skipped → Sat 02/01/2027 10:00', SP, '2026-12-31T13:00:00Z', 1, '2027-01-02T13:00:00Z'],
    ['Tue 20/04/2027 17:30 + 1 → Tiradentes skipped → Thu 17:30 (before the 18:00 close)', SP, '2027-04-20T20:30:00Z', 1, '2027-04-22T20:30:00Z'],
    ['Thu 25/03/2027 09:00 + 2 → Sexta-feira Santa skipped, Sat (1), Mon (2) 09:00', SP, '2027-03-25T12:00:00Z', 2, '2027-03-29T12:00:00Z'],
    ['Mon 06:00 + 1 → Tuesday 06:00 is before opening → Tuesday 08:00', SP, '2026-12-07T09:00:00Z', 1, '2026-12-08T11:00:00Z'],
    ['seconds and milliseconds of the time of day are kept', SP, '2026-12-01T13:00:30.500Z', 1, '2026-12-02T13:00:30.500Z'],
    ['Manaus (UTC−4): Fri 10:00 + 3 → Sat (1), Mon (2), Tue (3) 10:00', MANAUS, '2026-12-04T14:00:00Z', 3, '2026-12-08T14:00:00Z'],
    ['0 inside business hours → the same instant', SP, '2026-12-01T13:30:00Z', 0, '2026-12-01T13:30:00Z'],
    ['0 on a Sunday → Monday 08:00', SP, '2026-12-06T13:00:00Z', 0, '2026-12-07T11:00:00Z'],
    ['0 on Natal → Saturday 26/12 08:00', SP, '2026-12-25T13:00:00Z', 0, '2026-12-26T11:00:00Z'],
    ['0 on Saturday after the close → Monday 08:00', SP, '2026-12-05T16:00:00Z', 0, '2026-12-07T11:00:00Z'],
    ['0 at the closing minute → the next opening (close is exclusive)', SP, '2026-12-01T21:00:00Z', 0, '2026-12-02T11:00:00Z'],
  ];
  for (const [why, calendar, from, days, expected] of cases) {
    it(why, () => {
      assert.equal(addBusinessDays(calendar, new Date(from), days).toISOString(), new Date(expected).toISOString());
    });
  }

  it('refuses a negative or fractional count, and a calendar with no open day', () => {
    assert.throws(() => addBusinessDays(SP, new Date('2026-12-01T13:00:00Z'), -1), RangeError);
    assert.throws(() => addBusinessDays(SP, new Date('2026-12-01T13:00:00Z'), 1.5), RangeError);
    assert.throws(() => addBusinessDays(CLOSED, new Date('2026-12-01T13:00:00Z'), 1), RangeError);
    assert.throws(() => addBusinessDays(CLOSED, new Date('2026-12-01T13:00:00Z'), 0), RangeError);
  });
});
