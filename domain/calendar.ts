import { WEEKDAYS, type TenantSettings, type Weekday } from './tenant-settings';

// Brazilian national holidays and tenant business hours. Imported by workflow code, so the
// current instant is always a parameter and only Intl (deterministic, allowed in the Temporal
// sandbox) is used for time-zone arithmetic.

export interface Holiday {
  date: string; // YYYY-MM-DD
  name: string; // pt-BR, shown to tenants
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const isoDate = (year: number, month: number, day: number) => `${pad(year, 4)}-${pad(month)}-${pad(day)}`;

// Anonymous Gregorian algorithm (Meeus/Jones/Butcher): valid for every Gregorian year.
function easterSunday(year: number): { month: number; day: number } {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const n = h + l - 7 * m + 114;
  return { month: Math.floor(n / 31), day: (n % 31) + 1 };
}

function shiftDate(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const shifted = new Date(Date.UTC(y, m - 1, d) + days * DAY_MS);
  return isoDate(shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate());
}

// Carnaval and Corpus Christi are left out on purpose: federally they are only "pontos
// facultativos", and whether a business closes on them is a local or per-tenant decision.
// State and municipal holidays are likewise not national.
export function brazilianNationalHolidays(year: number): Holiday[] {
  const fixed: [string, string][] = [
    ['01-01', 'Confraternização Universal'],
    ['04-21', 'Tiradentes'],
    ['05-01', 'Dia do Trabalho'],
    ['09-07', 'Independência'],
    ['10-12', 'Nossa Senhora Aparecida'],
    ['11-02', 'Finados'],
    ['11-15', 'Proclamação da República'],
    ['12-25', 'Natal'],
  ];
  // Lei 14.759/2023 made it national from 2024 on; before that only some states and cities observed it.
  if (year >= 2024) fixed.push(['11-20', 'Dia Nacional de Zumbi e da Consciência Negra']);

  const easter = easterSunday(year);
  const holidays: Holiday[] = fixed.map(([monthDay, name]) => ({ date: `${pad(year, 4)}-${monthDay}`, name }));
  holidays.push({ date: shiftDate(isoDate(year, easter.month, easter.day), -2), name: 'Sexta-feira Santa' });
  return holidays.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));
}

// Deterministic memo: the same year always yields the same table.
const holidaysByYear = new Map<number, Map<string, string>>();

export function nationalHolidayName(date: string): string | undefined {
  const year = Number(date.slice(0, 4));
  let table = holidaysByYear.get(year);
  if (!table) {
    table = new Map(brazilianNationalHolidays(year).map((h) => [h.date, h.name]));
    holidaysByYear.set(year, table);
  }
  return table.get(date);
}

export interface LocalParts {
  date: string; // YYYY-MM-DD in the zone
  weekday: Weekday;
  minutes: number; // since local midnight, seconds truncated
}

// Building a DateTimeFormat is far costlier than using one; one per zone is enough.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23', // hour12:false alone may render midnight as "24"
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const toMs = (instant: Date | number) => (typeof instant === 'number' ? instant : instant.getTime());

function wallClock(ms: number, timeZone: string) {
  const fields: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) if (p.type !== 'literal') fields[p.type] = Number(p.value);
  return {
    year: fields.year ?? 0,
    month: fields.month ?? 1,
    day: fields.day ?? 1,
    hour: fields.hour ?? 0,
    minute: fields.minute ?? 0,
    second: fields.second ?? 0,
  };
}

function weekdayOf(date: string): Weekday {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()] as Weekday;
}

export function localParts(instant: Date | number, timeZone: string): LocalParts {
  const w = wallClock(toMs(instant), timeZone);
  const date = isoDate(w.year, w.month, w.day);
  return { date, weekday: weekdayOf(date), minutes: w.hour * 60 + w.minute };
}

// The zone's UTC offset at an instant, in ms (local wall clock read as UTC, minus the instant).
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(ms / 1000) * 1000;
}

// Local date + minutes in the zone → UTC instant. Tries the offsets in force a day before and a
// day after (no zone changes offset twice in two days) and keeps the ones that round-trip: a
// repeated wall time (DST fall-back) maps to its first occurrence; one skipped by a DST jump maps
// to the same duration after the jump (02:30 on a spring-forward day becomes 03:30).
export function zonedTimeToUtc(date: string, minutes: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wallAsUtc = Date.UTC(y, m - 1, d, 0, minutes);
  const before = offsetAt(wallAsUtc - DAY_MS, timeZone);
  const after = offsetAt(wallAsUtc + DAY_MS, timeZone);
  const valid = [before, after]
    .filter((offset) => offsetAt(wallAsUtc - offset, timeZone) === offset)
    .map((offset) => wallAsUtc - offset);
  return new Date(valid.length > 0 ? Math.min(...valid) : wallAsUtc - before);
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

type BusinessCalendar = Pick<TenantSettings, 'timeZone' | 'businessHours' | 'observeNationalHolidays'>;

function hoursOn(settings: BusinessCalendar, date: string, weekday: Weekday) {
  if (settings.observeNationalHolidays && nationalHolidayName(date) !== undefined) return null;
  return settings.businessHours[weekday];
}

export function isWithinBusinessHours(settings: BusinessCalendar, instant: Date | number): boolean {
  const { date, weekday, minutes } = localParts(instant, settings.timeZone);
  const hours = hoursOn(settings, date, weekday);
  return hours != null && toMinutes(hours.open) <= minutes && minutes < toMinutes(hours.close);
}

// A year and a few days: long enough that only a calendar with every day closed finds nothing.
const OPENING_SEARCH_DAYS = 370;

export function nextBusinessOpening(settings: BusinessCalendar, instant: Date | number): Date | null {
  const nowMs = toMs(instant);
  if (isWithinBusinessHours(settings, nowMs)) return new Date(nowMs);
  const today = localParts(nowMs, settings.timeZone).date;
  for (let i = 0; i <= OPENING_SEARCH_DAYS; i++) {
    const date = shiftDate(today, i);
    const hours = hoursOn(settings, date, weekdayOf(date));
    if (!hours) continue;
    const opening = zonedTimeToUtc(date, toMinutes(hours.open), settings.timeZone);
    if (opening.getTime() > nowMs) return opening;
  }
  return null;
}

// The `days`-th business day after `from`'s local date, at `from`'s local time of day (seconds
// kept); when that time is outside that day's hours, the next business opening after it. A
// business day has hours in the settings and, with observeNationalHolidays, is no national
// holiday. `days = 0` is the first business moment at or after `from`. Cadence waits and
// appointment reminders both count this way (HubSpot's sequences: steps at the enrolment's time
// of day, weekends and holidays skipped).
export function addBusinessDays(settings: BusinessCalendar, from: Date, days: number): Date {
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`business days must be a whole number ≥ 0, got ${days}`);
  const fromMs = from.getTime();
  const opening = (instant: number) => {
    const next = nextBusinessOpening(settings, instant);
    if (!next) throw new RangeError('the business calendar has no open day');
    return next;
  };
  if (days === 0) return opening(fromMs);
  const { date, minutes } = localParts(fromMs, settings.timeZone);
  const withinMinute = ((fromMs % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
  let counted = 0;
  for (let i = 1; i <= days * 7 + OPENING_SEARCH_DAYS; i++) {
    const day = shiftDate(date, i);
    if (!hoursOn(settings, day, weekdayOf(day))) continue;
    if (++counted < days) continue;
    const sameTime = zonedTimeToUtc(day, minutes, settings.timeZone).getTime() + withinMinute;
    return isWithinBusinessHours(settings, sameTime) ? new Date(sameTime) : opening(sameTime);
  }
  throw new RangeError('the business calendar has no open day');
}
