import { reminderSchedule, type Reminder } from '../../domain/appointment-schedule';
import { OPEN_APPOINTMENT_STATUSES, type AppointmentStatus } from '../../domain/sales-statuses';
import {
  APPOINTMENT_ERRORS,
  type AppointmentOptions,
  type AppointmentState,
  type ContactAnsweredSignal,
  type OutcomeRequest,
} from './definitions';

// The pure moves of an appointment: what the contact's answer, a staff action or a timer does to
// the state, what the row then records and what is said to whom. The workflow carries them out.

export interface Refusal {
  type: string;
  message: string;
}

export type ContactMessage = 'confirmed' | 'cancelledByContact' | 'cancelledByStaff' | 'rescheduleRequested' | 'rescheduled';
export type OwnerNotice = 'contact_cancelled' | 'contact_asked_reschedule' | 'no_show' | 'outcome_missing';

export type Effect = { kind: 'tell_contact'; message: ContactMessage } | { kind: 'notify_owner'; notice: OwnerNotice };

// What the appointments row records of a transition.
export interface AppointmentChange {
  status?: AppointmentStatus;
  startsAt?: string;
  endsAt?: string;
  rescheduleCount?: number;
  outcomeNote?: string | null;
}

export interface Transition {
  state: AppointmentState;
  change: AppointmentChange | null;
  effects: Effect[];
}

export const isOpen = (status: AppointmentStatus) => (OPEN_APPOINTMENT_STATUSES as readonly string[]).includes(status);

// A limit the owner has to record an outcome: past it, silence reads as a no-show.
export const OUTCOME_GRACE_MS = 2 * 3_600_000;
export const OUTCOME_LIMIT_MS = 3 * 24 * 3_600_000;
export const MISSING_OUTCOME_NOTE = 'Resultado não registrado no prazo: marcado como não comparecimento.';

export function closedRefusal(s: Pick<AppointmentState, 'status'>): Refusal | null {
  if (s.status === 'cancelled') return { type: APPOINTMENT_ERRORS.closed, message: 'O agendamento foi cancelado.' };
  if (!isOpen(s.status)) return { type: APPOINTMENT_ERRORS.closed, message: 'O resultado deste agendamento já foi registrado.' };
  return null;
}

// The contact's answer. A button pressed again, or an answer to an appointment already over,
// changes nothing (null): the contact has been told already.
export function answer(s: AppointmentState, a: Pick<ContactAnsweredSignal, 'action'>): Transition | null {
  if (!isOpen(s.status)) return null;
  switch (a.action) {
    case 'confirm':
      if (s.status === 'confirmed') return null;
      return { state: { ...s, status: 'confirmed', contactAskedReschedule: false }, change: { status: 'confirmed' }, effects: [{ kind: 'tell_contact', message: 'confirmed' }] };
    case 'cancel':
      return {
        state: { ...s, status: 'cancelled' },
        change: { status: 'cancelled', outcomeNote: 'Cancelado pelo cliente.' },
        effects: [
          { kind: 'tell_contact', message: 'cancelledByContact' },
          { kind: 'notify_owner', notice: 'contact_cancelled' },
        ],
      };
    case 'reschedule':
      // The slot stays as it is until the owner moves it (a person agrees the new time).
      if (s.contactAskedReschedule) return null;
      return {
        state: { ...s, contactAskedReschedule: true },
        change: null,
        effects: [
          { kind: 'notify_owner', notice: 'contact_asked_reschedule' },
          { kind: 'tell_contact', message: 'rescheduleRequested' },
        ],
      };
  }
}

export function rescheduleRefusal(s: Pick<AppointmentState, 'status'>, slot: { startsAt: number; endsAt: number }, now: number): Refusal | null {
  const closed = closedRefusal(s);
  if (closed) return closed;
  if (!Number.isFinite(slot.startsAt) || !Number.isFinite(slot.endsAt) || slot.endsAt <= slot.startsAt) {
    return { type: APPOINTMENT_ERRORS.slotRefused, message: 'O fim do horário precisa ser depois do início.' };
  }
  if (slot.startsAt <= now) return { type: APPOINTMENT_ERRORS.slotRefused, message: 'O novo horário já passou.' };
  return null;
}

// A new slot is a new version: reminders start over, the contact confirms again.
export function reschedule(s: AppointmentState, slot: { startsAt: number; endsAt: number; now: number }): Transition {
  const version = s.version + 1;
  return {
    state: {
      ...s,
      status: 'scheduled',
      startsAt: slot.startsAt,
      endsAt: slot.endsAt,
      version,
      scheduledAt: slot.now,
      contactAskedReschedule: false,
      followUpCreated: false,
    },
    change: { status: 'scheduled', startsAt: new Date(slot.startsAt).toISOString(), endsAt: new Date(slot.endsAt).toISOString(), rescheduleCount: version },
    effects: [{ kind: 'tell_contact', message: 'rescheduled' }],
  };
}

export function cancel(s: AppointmentState, reason: string): Transition {
  return {
    state: { ...s, status: 'cancelled', outcomeNote: reason },
    change: { status: 'cancelled', outcomeNote: reason },
    effects: [{ kind: 'tell_contact', message: 'cancelledByStaff' }],
  };
}

export function outcomeRefusal(s: Pick<AppointmentState, 'status'>): Refusal | null {
  return closedRefusal(s);
}

export function outcome(s: AppointmentState, o: Pick<OutcomeRequest, 'outcome' | 'note'>): Transition {
  return {
    state: { ...s, status: o.outcome, outcomeNote: o.note },
    change: { status: o.outcome, outcomeNote: o.note },
    effects: o.outcome === 'no_show' ? [{ kind: 'notify_owner', notice: 'no_show' }] : [],
  };
}

// When the slot counts as over (tests shorten it to a delay after scheduling).
export function slotEnd(s: Pick<AppointmentState, 'endsAt' | 'scheduledAt'>, o: AppointmentOptions): number {
  return o.slotEndDelayMs !== undefined ? s.scheduledAt + o.slotEndDelayMs : s.endsAt;
}

// This version's reminders (see reminderSchedule for the rule), those not sent yet.
export function pendingReminders(s: AppointmentState, o: AppointmentOptions): Reminder[] {
  if (!isOpen(s.status)) return [];
  let all: Reminder[];
  if (o.reminderDelaysMs) {
    const d = o.reminderDelaysMs;
    all = [
      ...(d.dayBefore !== undefined ? [{ key: 'day_before' as const, at: s.scheduledAt + d.dayBefore }] : []),
      ...(d.hoursBefore !== undefined ? [{ key: 'hours_before' as const, at: s.scheduledAt + d.hoursBefore }] : []),
    ].sort((a, b) => a.at - b.at);
  } else {
    // Computed against the scheduling instant, so a reminder does not vanish as time passes.
    all = reminderSchedule(s.settings, s.settings.reminders, s.startsAt, s.scheduledAt);
  }
  return all.filter((r) => !s.remindersSent.includes(reminderId(s.version, r.key)));
}

export const reminderId = (version: number, key: string) => `${version}:${key}`;

export function reminderSent(s: AppointmentState, key: string): AppointmentState {
  return { ...s, remindersSent: [...s.remindersSent, reminderId(s.version, key)] };
}

// After the slot: first the owner is asked to record the outcome, then silence is a no-show.
export function afterSlot(s: AppointmentState, o: AppointmentOptions, now: number): Transition | null {
  if (!isOpen(s.status)) return null;
  const end = slotEnd(s, o);
  if (now >= end + (o.outcomeLimitMs ?? OUTCOME_LIMIT_MS)) {
    return {
      state: { ...s, status: 'no_show', outcomeNote: MISSING_OUTCOME_NOTE },
      change: { status: 'no_show', outcomeNote: MISSING_OUTCOME_NOTE },
      effects: [{ kind: 'notify_owner', notice: 'no_show' }],
    };
  }
  if (!s.followUpCreated && now >= end + (o.outcomeGraceMs ?? OUTCOME_GRACE_MS)) {
    return { state: { ...s, followUpCreated: true }, change: null, effects: [{ kind: 'notify_owner', notice: 'outcome_missing' }] };
  }
  return null;
}

// The next instant a timer must wake the workflow (Infinity when nothing is pending).
export function nextDeadline(s: AppointmentState, o: AppointmentOptions): number {
  if (!isOpen(s.status)) return Infinity;
  const end = slotEnd(s, o);
  const times = [
    ...pendingReminders(s, o).map((r) => r.at),
    end + (o.outcomeLimitMs ?? OUTCOME_LIMIT_MS),
    ...(s.followUpCreated ? [] : [end + (o.outcomeGraceMs ?? OUTCOME_GRACE_MS)]),
  ];
  return Math.min(...times);
}
