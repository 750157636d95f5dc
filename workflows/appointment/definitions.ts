import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { AppointmentKind, AppointmentStatus } from '../../domain/sales-statuses';
import type { TenantSettings } from '../../domain/tenant-settings';

// What the outside world says to an appointment's workflow. (Input, state, queries and updates
// are added beside these by the appointment process.)

export const appointmentWorkflowId = (tenantId: string, appointmentId: string) => `appointment:${tenantId}:${appointmentId}`;

export type AppointmentReplyAction = 'confirm' | 'reschedule' | 'cancel';

// The contact answered on WhatsApp: a button of the confirmation, or a word ("cancelar").
export interface ContactAnsweredSignal {
  action: AppointmentReplyAction;
  source: 'button' | 'text';
  messageId: string;
  text: string;
  at: string; // ISO
}
export const contactAnsweredSignal = defineSignal<[ContactAnsweredSignal]>('contactAnswered');

// --- The appointment process: input, state, view, updates, query ----------------------------

export interface AppointmentInput {
  tenantId: string;
  appointmentId: string;
  leadId: string;
  contactId: string;
  ownerId: string | null;
  kind: AppointmentKind;
  startsAt: string; // ISO
  endsAt: string; // ISO
  location: string | null;
  options?: AppointmentOptions;
  // Set only by continue-as-new.
  carried?: AppointmentState;
}

export interface AppointmentOptions {
  // Tests and demos: the reminders fire this long after each (re)scheduling instead of on the
  // calendar (the keys present replace the computed times; absent keys are not sent).
  reminderDelaysMs?: { dayBefore?: number; hoursBefore?: number };
  // Tests: the slot counts as ended this long after each (re)scheduling.
  slotEndDelayMs?: number;
  // After the slot ends, this long without an outcome gives the owner a follow-up task to record it.
  outcomeGraceMs?: number;
  // After the slot ends, this long without an outcome marks it no-show (and tells the owner).
  outcomeLimitMs?: number;
  // The utility template sent when the 24-hour window is closed.
  confirmationTemplate?: string;
  maxHistoryEvents?: number;
}

export interface AppointmentState {
  status: AppointmentStatus;
  startsAt: number;
  endsAt: number;
  // Bumps on every reschedule: reminders and message ids belong to one version of the slot.
  version: number;
  // The instant the current version was scheduled (what test delays count from).
  scheduledAt: number;
  remindersSent: string[]; // `${version}:${key}`
  contactAskedReschedule: boolean;
  followUpCreated: boolean;
  outcomeNote: string | null;
  contactName: string | null;
  answers: ContactAnsweredSignal[];
  settings: AppointmentSettings;
}

export interface AppointmentSettings {
  timeZone: string;
  businessHours: TenantSettings['businessHours'];
  observeNationalHolidays: boolean;
  reminders: { dayBefore: boolean; hoursBefore: number };
}

export interface AppointmentView {
  appointmentId: string;
  status: AppointmentState['status'];
  startsAt: string;
  endsAt: string;
  version: number;
  contactAskedReschedule: boolean;
  nextReminder: { key: string; at: string } | null;
  remindersSent: string[];
  historyLength: number;
}

export interface RescheduleRequest {
  actor: Actor;
  startsAt: string;
  endsAt: string;
}
export interface CancelRequest {
  actor: Actor;
  reason: string;
}
export interface OutcomeRequest {
  actor: Actor;
  outcome: 'attended' | 'no_show';
  note: string | null;
}

export const rescheduleAppointmentUpdate = defineUpdate<AppointmentView, [RescheduleRequest]>('rescheduleAppointment');
export const cancelAppointmentUpdate = defineUpdate<AppointmentView, [CancelRequest]>('cancelAppointment');
export const recordOutcomeUpdate = defineUpdate<AppointmentView, [OutcomeRequest]>('recordAppointmentOutcome');
export const appointmentStateQuery = defineQuery<AppointmentView>('appointmentState');

// Typed refusals the API turns into 409s with their pt-BR message.
export const APPOINTMENT_ERRORS = {
  closed: 'AppointmentClosed',
  slotRefused: 'AppointmentSlotRefused',
} as const;
