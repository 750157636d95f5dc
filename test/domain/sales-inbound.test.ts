import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inboundMeaning, type InboundMeaning } from '../../domain/sales-inbound';
import type { InboundMessage } from '../../domain/whatsapp-messages';

const APPT = '0b7c9e62-3a4d-4f1e-9c2b-5d6e7f8a9b0c';
type Msg = Pick<InboundMessage, 'type' | 'text' | 'interactive'>;
const text = (t: string): Msg => ({ type: 'text', text: t });
const quick = (id: string, title: string): Msg => ({ type: 'button', text: title, interactive: { kind: 'quick_reply', id, title } });

describe('inboundMeaning', () => {
  const cases: [string, Msg, InboundMeaning][] = [
    ['SAIR is an opt-out', text('SAIR'), { kind: 'opt_out' }],
    ['"Parar." with punctuation', text('Parar.'), { kind: 'opt_out' }],
    ['Meta’s "Stop promotions" quick reply', quick('stop-promo', 'Stop promotions'), { kind: 'opt_out' }],
    ['a sentence with "parar" is a reply', text('não quero parar agora'), { kind: 'reply', appointment: null }],
    ['the confirm button of an appointment', quick(`appointment:${APPT}:confirm`, 'Confirmar'), { kind: 'reply', appointment: { source: 'button', appointmentId: APPT, action: 'confirm' } }],
    ['the cancel button', quick(`appointment:${APPT}:cancel`, 'Cancelar'), { kind: 'reply', appointment: { source: 'button', appointmentId: APPT, action: 'cancel' } }],
    ['a forged button id is only a reply', quick('appointment:nope:confirm', 'Confirmar'), { kind: 'reply', appointment: { source: 'text', action: 'confirm' } }],
    ['"cancelar" typed', text('Cancelar'), { kind: 'reply', appointment: { source: 'text', action: 'cancel' } }],
    ['"quero remarcar" is not the bare word', text('quero remarcar para sexta'), { kind: 'reply', appointment: null }],
    ['"remarcar" typed', text('remarcar'), { kind: 'reply', appointment: { source: 'text', action: 'reschedule' } }],
    ['an ordinary question', text('Qual o valor do condomínio?'), { kind: 'reply', appointment: null }],
    ['a reaction alone says nothing', { type: 'reaction', text: '👍' }, { kind: 'none' }],
    ['an image without caption is a reply', { type: 'image', text: '' }, { kind: 'reply', appointment: null }],
  ];
  for (const [why, message, expected] of cases) it(why, () => assert.deepEqual(inboundMeaning(message), expected));
});
