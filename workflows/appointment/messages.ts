import { APPOINTMENT_TEMPLATES, appointmentMessages, formatAppointmentTime, type AppointmentTexts } from '../../domain/appointment-schedule';
import type { OutboundContent } from '../../domain/outbound-content';
import { appointmentButtonId } from '../../domain/sales-replies';
import type { AppointmentInput, AppointmentState } from './definitions';
import type { ContactMessage } from './transitions';

// What the contact receives, as WhatsApp content: free-form inside the 24-hour window, and the
// approved utility template the send falls back to outside it.

export interface Outgoing {
  content: OutboundContent;
  // Sent instead when the 24-hour window is closed.
  fallback: OutboundContent;
}

const BUTTONS = [
  ['confirm', 'Confirmar'],
  ['reschedule', 'Remarcar'],
  ['cancel', 'Cancelar'],
] as const;

export function textsOf(input: Pick<AppointmentInput, 'kind' | 'location'>, s: Pick<AppointmentState, 'startsAt' | 'settings' | 'contactName'>): AppointmentTexts {
  return { kind: input.kind, when: formatAppointmentTime(s.startsAt, s.settings.timeZone), location: input.location, contactName: s.contactName };
}

const bodyParameters = (t: AppointmentTexts) => [
  { type: 'text', text: t.contactName ?? 'cliente' },
  { type: 'text', text: t.when },
  { type: 'text', text: t.location ?? '-' },
];

// Meta's template send format: body parameters in order, and one `button` component per
// quick-reply button, its payload coming back in the contact's answer as the button id would.
export function confirmationTemplate(appointmentId: string, t: AppointmentTexts, name: string): OutboundContent {
  return {
    type: 'template',
    name,
    language: 'pt_BR',
    components: [
      { type: 'body', parameters: bodyParameters(t) },
      ...BUTTONS.map(([action], index) => ({
        type: 'button',
        sub_type: 'quick_reply',
        index: String(index),
        parameters: [{ type: 'payload', payload: appointmentButtonId(appointmentId, action) }],
      })),
    ],
  };
}

export function confirmation(appointmentId: string, t: AppointmentTexts, o: { rescheduled: boolean; template: string }): Outgoing {
  return {
    content: {
      type: 'interactive',
      body: o.rescheduled ? appointmentMessages.rescheduled(t) : appointmentMessages.confirmation(t),
      buttons: BUTTONS.map(([action, title]) => ({ id: appointmentButtonId(appointmentId, action), title })),
    },
    fallback: confirmationTemplate(appointmentId, t, o.template),
  };
}

export function reminder(appointmentId: string, t: AppointmentTexts): Outgoing {
  return {
    content: { type: 'text', text: appointmentMessages.reminder(t) },
    fallback: { ...confirmationTemplate(appointmentId, t, APPOINTMENT_TEMPLATES.reminder) },
  };
}

export function notice(message: Exclude<ContactMessage, 'rescheduled'>, t: AppointmentTexts): Outgoing {
  const text =
    message === 'confirmed'
      ? appointmentMessages.confirmed(t)
      : message === 'cancelledByContact'
        ? appointmentMessages.cancelledByContact(t)
        : message === 'cancelledByStaff'
          ? appointmentMessages.cancelledByStaff(t)
          : appointmentMessages.rescheduleRequested();
  return {
    content: { type: 'text', text },
    fallback: { type: 'template', name: APPOINTMENT_TEMPLATES.update, language: 'pt_BR', components: [{ type: 'body', parameters: [...bodyParameters(t), { type: 'text', text }] }] },
  };
}
