import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formText, type InboundForm } from '../../domain/whatsapp-messages';

// What the attendant reads for a WhatsApp Flow's answer.
describe('formText', () => {
  const cases: { what: string; form: InboundForm; text: string }[] = [
    {
      what: 'fields in the order sent, flow_token hidden',
      form: { name: 'flow', body: 'Sent', fields: { flow_token: 'tok-1', nome: 'Ana', data: '2026-12-20' } },
      text: 'Formulário enviado:\n• nome: Ana\n• data: 2026-12-20',
    },
    {
      what: 'numbers, booleans, lists and empty values',
      form: { name: 'flow', fields: { hospedes: 2, pet: true, cafe: false, quartos: ['duplo', 'triplo'], obs: '', extra: null, vazio: [] } },
      text: 'Formulário enviado:\n• hospedes: 2\n• pet: sim\n• cafe: não\n• quartos: duplo, triplo\n• obs: —\n• extra: —\n• vazio: —',
    },
    {
      what: 'surrounding spaces trimmed, blank strings empty',
      form: { name: 'flow', fields: { nome: '  Ana Souza ', apelido: '   ' } },
      text: 'Formulário enviado:\n• nome: Ana Souza\n• apelido: —',
    },
    {
      what: 'a nested object is shown as JSON',
      form: { name: 'flow', fields: { endereco: { rua: 'A', n: 1 } } },
      text: 'Formulário enviado:\n• endereco: {"rua":"A","n":1}',
    },
    {
      what: 'an address message has its own title',
      form: { name: 'address_message', fields: { city: 'São Paulo' } },
      text: 'Endereço enviado:\n• city: São Paulo',
    },
    { what: 'another kind reads as a form', form: { name: 'other', fields: { a: 'b' } }, text: 'Formulário enviado:\n• a: b' },
    { what: 'nothing but the token', form: { name: 'flow', fields: { flow_token: 'tok' } }, text: 'Formulário enviado.' },
    { what: 'no fields at all', form: { name: 'flow', fields: {} }, text: 'Formulário enviado.' },
  ];
  for (const c of cases) {
    it(c.what, () => assert.equal(formText(c.form), c.text));
  }
});
