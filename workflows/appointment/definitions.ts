import { defineSignal } from '@temporalio/workflow';

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
