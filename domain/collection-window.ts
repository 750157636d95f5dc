import type { CollectionWindowPreset } from './billing-statuses';
import { isWithinBusinessHours, nextBusinessOpening } from './calendar';
import type { TenantSettings } from './tenant-settings';

// When a collection message may reach a debtor, in the tenant's time zone. No federal statute
// sets hours; the common safe rule is weekdays 08–20h and Saturday 08–14h, never on Sundays or
// national holidays. State laws differ (NOTES-billing.md): each preset is one of them.

type Hours = TenantSettings['businessHours'];
const day = (open: string, close: string) => ({ open, close });
const week = (open: string, close: string, saturday: { open: string; close: string } | null): Hours => ({
  sunday: null,
  monday: day(open, close),
  tuesday: day(open, close),
  wednesday: day(open, close),
  thursday: day(open, close),
  friday: day(open, close),
  saturday,
});

export const COLLECTION_WINDOW_HOURS: Record<Exclude<CollectionWindowPreset, 'custom'>, Hours> = {
  padrao: week('08:00', '20:00', day('08:00', '14:00')),
  SP: week('08:00', '20:00', day('08:00', '14:00')), // Lei 15.426/2014
  RJ: week('09:00', '19:00', null),
  ES: week('08:00', '19:00', null),
  AM: week('08:00', '19:00', null),
  AL: week('08:00', '20:00', day('08:00', '14:00')),
};

type WindowSettings = Pick<TenantSettings, 'timeZone'> & { billing: Pick<TenantSettings['billing'], 'collectionWindow'> };

// The window as a business calendar, so calendar.ts's arithmetic serves both.
export function collectionCalendar(settings: WindowSettings) {
  const w = settings.billing.collectionWindow;
  const hours = w.preset === 'custom' && w.hours ? w.hours : COLLECTION_WINDOW_HOURS[w.preset === 'custom' ? 'padrao' : w.preset];
  return { timeZone: settings.timeZone, businessHours: hours, observeNationalHolidays: w.observeNationalHolidays };
}

export function isWithinCollectionWindow(settings: WindowSettings, instant: Date | number): boolean {
  return isWithinBusinessHours(collectionCalendar(settings), instant);
}

// Now, when inside the window; else its next opening (null for a window with no open day).
export function nextCollectionMoment(settings: WindowSettings, instant: Date | number): Date | null {
  return nextBusinessOpening(collectionCalendar(settings), instant);
}
