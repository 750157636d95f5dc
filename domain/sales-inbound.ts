import { appointmentActionFromText, isOptOutMessage, parseAppointmentButtonId, type AppointmentAction } from './sales-replies';
import type { InboundMessage } from './whatsapp-messages';

// What one inbound WhatsApp message means to the sales funnel, decided without I/O: an opt-out,
// an answer to an appointment (a button of the confirmation, or a typed word), and whether it
// counts as the contact replying (a reaction on its own does not).

export type InboundMeaning =
  | { kind: 'opt_out' }
  | {
      kind: 'reply';
      // A confirmation button names its appointment; a typed word applies to the contact's only open one.
      appointment: { source: 'button'; appointmentId: string; action: AppointmentAction } | { source: 'text'; action: AppointmentAction } | null;
    }
  | { kind: 'none' };

export function inboundMeaning(message: Pick<InboundMessage, 'type' | 'text' | 'interactive'>): InboundMeaning {
  if (message.type === 'reaction') return { kind: 'none' };
  if (isOptOutMessage(message)) return { kind: 'opt_out' };
  const button = message.interactive ? parseAppointmentButtonId(message.interactive.id) : null;
  if (button) return { kind: 'reply', appointment: { source: 'button', ...button } };
  const typed = message.text ? appointmentActionFromText(message.text) : null;
  return { kind: 'reply', appointment: typed ? { source: 'text', action: typed } : null };
}
