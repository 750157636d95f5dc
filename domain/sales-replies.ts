import type { InboundMessage } from './whatsapp-messages';

// What a contact's WhatsApp message means to the sales funnel, decided by pure rules: an opt-out
// from marketing, or an answer to an appointment's confirmation.

// WhatsApp's own marketing opt-out button ("Stop promotions", "Parar promoções") only tells the
// business; these words are the customary ones in Brazil and abroad. The whole message must be
// the word (with punctuation or emoji around it): "não quero parar agora" is not an opt-out.
const OPT_OUT_WORDS = new Set(['sair', 'parar', 'stop', 'cancelar inscricao', 'descadastrar', 'nao quero receber', 'parar promocoes', 'stop promotions']);

const fold = (text: string) =>
  text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export function isOptOutText(text: string): boolean {
  return OPT_OUT_WORDS.has(fold(text));
}

// A template's quick-reply button (type `button`) or an interactive reply counts by its title.
export function isOptOutMessage(message: Pick<InboundMessage, 'text' | 'interactive'>): boolean {
  return isOptOutText(message.interactive?.title ?? message.text) || isOptOutText(message.text);
}

export type AppointmentAction = 'confirm' | 'reschedule' | 'cancel';
const APPOINTMENT_ACTIONS: readonly AppointmentAction[] = ['confirm', 'reschedule', 'cancel'];

// The confirmation's buttons carry the appointment and the action in their id.
export const appointmentButtonId = (appointmentId: string, action: AppointmentAction) => `appointment:${appointmentId}:${action}`;

export function parseAppointmentButtonId(id: string): { appointmentId: string; action: AppointmentAction } | null {
  const m = /^appointment:([0-9a-f-]{36}):(confirm|reschedule|cancel)$/.exec(id);
  if (!m || !APPOINTMENT_ACTIONS.includes(m[2] as AppointmentAction)) return null;
  return { appointmentId: m[1] as string, action: m[2] as AppointmentAction };
}

const WORDS: [AppointmentAction, RegExp][] = [
  ['cancel', /^(cancelar|cancela|cancelo|desmarcar|nao vou|nao poderei ir|nao vou poder ir)$/],
  ['reschedule', /^(remarcar|reagendar|mudar o horario|trocar o horario|outro horario)$/],
  ['confirm', /^(confirmar|confirmo|confirmado|sim|ok|combinado|estarei la|vou sim)$/],
];

// A typed answer to an appointment: the whole message is one of the customary words.
export function appointmentActionFromText(text: string): AppointmentAction | null {
  const folded = fold(text);
  for (const [action, re] of WORDS) if (re.test(folded)) return action;
  return null;
}
