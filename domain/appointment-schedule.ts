import { isWithinBusinessHours, localParts, nextBusinessOpening } from './calendar';
import type { AppointmentKind } from './sales-statuses';
import type { TenantSettings, Weekday } from './tenant-settings';

// When an appointment's reminders go out, and how its time reads to the contact. Pure (imported
// by the workflow): the current instant is always a parameter.

type Calendar = Pick<TenantSettings, 'timeZone' | 'businessHours' | 'observeNationalHolidays'>;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type ReminderKey = 'day_before' | 'hours_before';

export interface Reminder {
  key: ReminderKey;
  at: number; // ms since epoch
}

export interface ReminderSettings {
  dayBefore: boolean;
  hoursBefore: number;
}

// The day-before reminder goes 24 hours before the start; when that instant is outside the
// tenant's business hours (a Monday 09:00 visit → Sunday 09:00, closed) it moves to the next
// business opening after it, as long as that is still before the hours-before reminder (and the
// start): otherwise it is dropped, the closer reminder says the same thing. The hours-before
// reminder goes exactly N hours before the start, in or out of hours: the contact is about to
// leave for it. A reminder whose time has already passed (booked at short notice) is dropped.
export function reminderSchedule(calendar: Calendar, r: ReminderSettings, startsAt: number, now: number): Reminder[] {
  const reminders: Reminder[] = [];
  const hoursBeforeAt = r.hoursBefore > 0 ? startsAt - r.hoursBefore * HOUR_MS : null;
  const latest = Math.min(startsAt, hoursBeforeAt ?? startsAt);
  if (r.dayBefore) {
    const raw = startsAt - DAY_MS;
    const at = isWithinBusinessHours(calendar, raw) ? raw : (nextBusinessOpening(calendar, raw)?.getTime() ?? null);
    if (at !== null && at > now && at < latest) reminders.push({ key: 'day_before', at });
  }
  if (hoursBeforeAt !== null && hoursBeforeAt > now && hoursBeforeAt < startsAt) reminders.push({ key: 'hours_before', at: hoursBeforeAt });
  return reminders.sort((a, b) => a.at - b.at);
}

const WEEKDAY_PT: Record<Weekday, string> = {
  sunday: 'domingo',
  monday: 'segunda-feira',
  tuesday: 'terça-feira',
  wednesday: 'quarta-feira',
  thursday: 'quinta-feira',
  friday: 'sexta-feira',
  saturday: 'sábado',
};

const pad = (n: number) => String(n).padStart(2, '0');

// "sábado, 05/12 às 10:00", in the tenant's time zone.
export function formatAppointmentTime(instant: number | Date, timeZone: string): string {
  const { date, weekday, minutes } = localParts(instant, timeZone);
  const [, month, day] = date.split('-');
  return `${WEEKDAY_PT[weekday]}, ${day}/${month} às ${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

export const APPOINTMENT_KIND_LABELS: Record<AppointmentKind, string> = {
  visit: 'visita',
  test_drive: 'test drive',
  meeting: 'reunião',
};

// What the contact reads. Kept here so tests and the workflow agree on the words.
export interface AppointmentTexts {
  kind: AppointmentKind;
  when: string; // formatAppointmentTime
  location: string | null;
  contactName?: string | null;
}

const at = (t: AppointmentTexts) => (t.location ? `, em ${t.location}` : '');
const article = (kind: AppointmentKind) => (kind === 'test_drive' ? 'seu' : 'sua');

export const appointmentMessages = {
  confirmation: (t: AppointmentTexts) =>
    `Olá${t.contactName ? `, ${t.contactName}` : ''}! ${cap(article(t.kind))} ${APPOINTMENT_KIND_LABELS[t.kind]} está agendad${t.kind === 'test_drive' ? 'o' : 'a'} para ${t.when}${at(t)}. Você confirma?`,
  rescheduled: (t: AppointmentTexts) =>
    `${cap(article(t.kind))} ${APPOINTMENT_KIND_LABELS[t.kind]} foi remarcad${t.kind === 'test_drive' ? 'o' : 'a'} para ${t.when}${at(t)}. Você confirma o novo horário?`,
  confirmed: (t: AppointmentTexts) => `Obrigado! ${cap(article(t.kind))} ${APPOINTMENT_KIND_LABELS[t.kind]} está confirmad${t.kind === 'test_drive' ? 'o' : 'a'} para ${t.when}${at(t)}. Até lá!`,
  cancelledByContact: (t: AppointmentTexts) =>
    `Tudo bem, cancelamos ${article(t.kind)} ${APPOINTMENT_KIND_LABELS[t.kind]} de ${t.when}. Se quiser marcar outro horário, é só responder esta mensagem.`,
  cancelledByStaff: (t: AppointmentTexts) =>
    `${cap(article(t.kind))} ${APPOINTMENT_KIND_LABELS[t.kind]} de ${t.when} foi cancelad${t.kind === 'test_drive' ? 'o' : 'a'}. Se quiser marcar outro horário, é só responder esta mensagem.`,
  rescheduleRequested: () => 'Certo! Alguém da nossa equipe vai falar com você para combinar um novo horário.',
  reminder: (t: AppointmentTexts) => `Lembrete: ${article(t.kind)} ${APPOINTMENT_KIND_LABELS[t.kind]} está marcad${t.kind === 'test_drive' ? 'o' : 'a'} para ${t.when}${at(t)}. Até lá!`,
};

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// The approved utility templates sent when the 24-hour window is closed (the sandbox accepts any
// name; a tenant registers these with Meta under the same names).
export const APPOINTMENT_TEMPLATES = {
  confirmation: 'confirmacao_agendamento',
  reminder: 'lembrete_agendamento',
  update: 'agendamento_atualizado',
} as const;
