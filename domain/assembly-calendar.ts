import type { GroupRules } from './consortium-rules';
import { zonedTimeToUtc } from './calendar';
import { nationalHolidayName } from './calendar';
import { addCalendarDays, isBankBusinessDay } from './late-charges';

// A group's assembly calendar, in the tenant's time zone with the national holidays: for each
// month, the assembly's date (the group's day, moved to the next business day), the Loteria
// Federal extraction it uses (draws on Wednesdays and Saturdays, 19:00 in Brasília; none on a
// national holiday), when bidding opens and closes, and the month's installment due date.

export interface GroupCalendarTerms {
  assemblyDay: number; // 1–28
  installmentDueDay: number; // 1–28
  timeZone: string;
}

export interface AssemblyDates {
  month: string; // YYYY-MM
  assemblyDate: string;
  extractionDate: string;
  biddingOpensOn: string;
  biddingClosesAt: string; // ISO instant
  installmentDueDate: string;
}

// The Loteria Federal draws at 19:00 Brasília time wherever the tenant is: a tenant in Manaus
// must stop taking bids at 18:00 its own time, not 19:00, when the numbers are already out.
const LOTTERY_MINUTES = 19 * 60;
const LOTTERY_TIME_ZONE = 'America/Sao_Paulo';

export function isMonth(month: string): boolean {
  return /^[0-9]{4}-(0[1-9]|1[0-2])$/.test(month);
}

export function addMonths(month: string, k: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const i = y * 12 + (m - 1) + k;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}

export function monthOfDate(date: string): string {
  return date.slice(0, 7);
}

function daysInMonth(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function dayIn(month: string, day: number): string {
  return `${month}-${String(Math.min(day, daysInMonth(month))).padStart(2, '0')}`;
}

const weekday = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();

// A Loteria Federal draw day: Wednesday or Saturday, not a national holiday.
export function isExtractionDay(date: string): boolean {
  const w = weekday(date);
  return (w === 3 || w === 6) && nationalHolidayName(date) === undefined;
}

function nextBusinessDay(date: string): string {
  let d = date;
  while (!isBankBusinessDay(d)) d = addCalendarDays(d, 1);
  return d;
}

// The latest extraction strictly before `date`.
export function lastExtractionBefore(date: string): string {
  let d = addCalendarDays(date, -1);
  while (!isExtractionDay(d)) d = addCalendarDays(d, -1);
  return d;
}

export function assemblyDates(month: string, terms: GroupCalendarTerms, rules: Pick<GroupRules, 'extraction' | 'biddingClosesDaysBefore' | 'biddingOpensDaysBefore'>): AssemblyDates {
  if (!isMonth(month)) throw new RangeError(`not a month: ${month}`);
  const assemblyDate = nextBusinessDay(dayIn(month, terms.assemblyDay));
  const extractionDate = rules.extraction === 'last_of_previous_month' ? lastExtractionBefore(`${month}-01`) : lastExtractionBefore(assemblyDate);
  // Bids close at the end of the day `biddingClosesDaysBefore` before the assembly, and never
  // after the extraction starts: no bid is placed knowing the numbers.
  const endOfBidding = zonedTimeToUtc(addCalendarDays(assemblyDate, 1 - rules.biddingClosesDaysBefore), 0, terms.timeZone).getTime();
  const extractionStarts = zonedTimeToUtc(extractionDate, LOTTERY_MINUTES, LOTTERY_TIME_ZONE).getTime();
  return {
    month,
    assemblyDate,
    extractionDate,
    biddingOpensOn: opensOn(assemblyDate, extractionDate, rules.biddingOpensDaysBefore),
    biddingClosesAt: new Date(Math.min(endOfBidding, extractionStarts)).toISOString(),
    installmentDueDate: nextBusinessDay(dayIn(month, terms.installmentDueDay)),
  };
}

// Bidding opens `days` before the assembly; but when that day is not before the extraction (the
// previous month's last one, or a short window), bids would close before they open, so it opens
// `days` before the extraction instead.
function opensOn(assemblyDate: string, extractionDate: string, days: number): string {
  const beforeAssembly = addCalendarDays(assemblyDate, -days);
  return beforeAssembly < extractionDate ? beforeAssembly : addCalendarDays(extractionDate, -days);
}

export function assemblyCalendar(fromMonth: string, count: number, terms: GroupCalendarTerms, rules: Parameters<typeof assemblyDates>[2]): AssemblyDates[] {
  return Array.from({ length: count }, (_, i) => assemblyDates(addMonths(fromMonth, i), terms, rules));
}
