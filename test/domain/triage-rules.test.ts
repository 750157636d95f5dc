import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AI_DECISION_JSON_SCHEMA,
  aiDecisionSchema,
  HUMAN_HANDOFF_HINT,
  isComplaint,
  isGreeting,
  matchFaq,
  normalizeAiDecision,
  normalizeText,
  ruleBasedDecision,
  wantsHuman,
  type FaqEntry,
} from '../../domain/triage-rules';

const FAQ: FaqEntry[] = [
  { question: 'Qual o horário do check-in?', answer: 'O check-in é a partir das 14h.', keywords: ['check-in', 'entrada'] },
  { question: 'Qual o horário do check-out?', answer: 'O check-out é até as 12h.', keywords: ['check-out', 'saída'] },
  { question: 'Vocês aceitam pets?', answer: 'Sim, aceitamos pets de pequeno porte.', keywords: ['pet', 'cachorro', 'gato', 'animal'] },
  { question: 'Tem estacionamento?', answer: 'Temos estacionamento gratuito.', keywords: ['garagem', 'vaga de carro'] },
  { question: 'O café da manhã está incluso?', answer: 'Sim, o café da manhã está incluso na diária.', keywords: ['café da manhã'] },
  { question: 'Tem wi-fi?', answer: 'Sim, wi-fi grátis em toda a pousada.', keywords: ['wifi', 'internet', 'senha da rede'] },
  { question: 'Qual é a política de cancelamento?', answer: 'Cancelamento grátis até 7 dias antes.', keywords: ['cancelar', 'cancelamento'] },
];

describe('normalizeText', () => {
  const cases: [string, string][] = [
    ['  Olá,   RECEPÇÃO  ', 'ola, recepcao'],
    ['Não\tfunciona\n mais', 'nao funciona mais'],
    ['Café da Manhã', 'cafe da manha'],
    ['', ''],
  ];
  for (const [input, expected] of cases) it(JSON.stringify(input), () => assert.equal(normalizeText(input), expected));
});

describe('wantsHuman', () => {
  const yes = [
    'Quero falar com um atendente',
    'atendente',
    'ATENDENTE!!!',
    'Atendente por favor',
    'quero atendimento humano',
    'tem algum humano aí?',
    'Posso falar com uma pessoa?',
    'preciso falar com alguém',
    'Quero falar com o gerente',
    'chama o gerente agora',
    'Me passa pra recepção',
    'recepção, por favor',
    'Gostaria de falar com o corretor',
    'quero falar com vocês sobre a proposta',
    'me transfere pro operador',
    'uma pessoa de verdade por favor',
    'não quero falar com robô',
    'Gerente',
    HUMAN_HANDOFF_HINT,
  ];
  const no = [
    'A pessoa que reservou é minha esposa',
    'posso levar mais uma pessoa?',
    'Quantas pessoas cabem no quarto?',
    'qual o horário do check-in?',
    'quero saber se a pessoa pode chegar mais tarde',
    'a recepção fica aberta até que horas?',
    'oi',
    '',
  ];
  for (const t of yes) it(`yes: ${t}`, () => assert.equal(wantsHuman(t), true));
  for (const t of no) it(`no: ${t}`, () => assert.equal(wantsHuman(t), false));
});

describe('isComplaint', () => {
  const yes = [
    'Quero fazer uma reclamação',
    'vou reclamar no Procon',
    'Isso é um absurdo!',
    'atendimento péssimo',
    'o quarto estava horrível',
    'quero reembolso',
    'o ar-condicionado não funciona',
    'o chuveiro não está funcionando',
    'o banheiro estava sujo',
    'estou muito insatisfeita',
    'fui cobrado a mais',
    'ninguém responde aqui',
    'vou postar no Reclame Aqui',
  ];
  const no = [
    'Não tenho nenhuma reclamação, adorei a estadia!',
    'nada a reclamar, tudo ótimo',
    'queria saber a respeito do café',
    'qual a diária mais barata?',
    'bom dia',
    'tem estacionamento?',
  ];
  for (const t of yes) it(`yes: ${t}`, () => assert.equal(isComplaint(t), true));
  for (const t of no) it(`no: ${t}`, () => assert.equal(isComplaint(t), false));
});

describe('isGreeting', () => {
  const yes: [string, string?][] = [
    ['oi'],
    ['Oiii'],
    ['Olá!'],
    ['Bom dia'],
    ['boa tarde, tudo bem?'],
    ['Boa noite pessoal'],
    ['e aí'],
    ['hello'],
    ['Oi, tudo bem? Como vai?'],
    ['Bom dia, Pousada Mar Azul', 'Pousada Mar Azul'],
    ['oi Maria'],
  ];
  const no: [string, string?][] = [
    ['Oi, tem vaga pra sábado?'],
    ['bom dia, qual o valor da diária para o feriado?'],
    ['boa'],
    ['obrigado'],
    ['Bom dia, Pousada Mar Azul', ''],
  ];
  for (const [t, name] of yes) it(`yes: ${t}`, () => assert.equal(isGreeting(t, name), true));
  for (const [t, name] of no) it(`no: ${t}${name === '' ? ' (business name unknown)' : ''}`, () => assert.equal(isGreeting(t, name), false));
});

describe('matchFaq', () => {
  const matches: [string, string][] = [
    ['que horas é o check in?', 'Qual o horário do check-in?'],
    ['Qual o horário do checkin', 'Qual o horário do check-in?'],
    ['até que horas é o check-out?', 'Qual o horário do check-out?'],
    ['horário de saída', 'Qual o horário do check-out?'],
    ['posso levar meu cachorro?', 'Vocês aceitam pets?'],
    ['aceitam animais?', 'Vocês aceitam pets?'],
    ['vocês têm estacionamento?', 'Tem estacionamento?'],
    ['tem garagem?', 'Tem estacionamento?'],
    ['O café da manhã está incluído?', 'O café da manhã está incluso?'],
    ['qual a senha da rede?', 'Tem wi-fi?'],
    ['tem wi fi?', 'Tem wi-fi?'],
    ['E se eu precisar cancelar?', 'Qual é a política de cancelamento?'],
  ];
  for (const [text, question] of matches) {
    it(`"${text}" → ${question}`, () => {
      const hit = matchFaq(text, FAQ);
      assert.ok(hit, 'expected a match');
      assert.equal(hit.entry.question, question);
      assert.ok(hit.score > 0 && hit.score <= 1);
    });
  }
  const nonMatches = [
    'qual o valor da diária?',
    'vocês têm vaga para o carnaval?',
    'qual o horário?', // check-in or check-out: too ambiguous to answer
    'qual o horário da piscina?',
    'me conta uma piada',
    'quem ganhou o jogo ontem?',
    '',
  ];
  for (const text of nonMatches) it(`no match: "${text}"`, () => assert.equal(matchFaq(text, FAQ), null));
  it('an empty FAQ matches nothing', () => assert.equal(matchFaq('tem estacionamento?', []), null));
});

describe('ruleBasedDecision', () => {
  const base = { businessName: 'Pousada Mar Azul', faq: FAQ, isFirstMessage: false };
  const cases: [string, string, boolean, { action: 'reply' | 'escalate'; intent: string }][] = [
    ['person request wins over everything', 'atendente, o quarto está sujo e quero saber do check-in', false, { action: 'escalate', intent: 'human_request' }],
    ['complaint wins over an FAQ match', 'o estacionamento é um absurdo de pequeno', false, { action: 'escalate', intent: 'complaint' }],
    ['FAQ wins over a greeting', 'Oi! tem estacionamento?', false, { action: 'reply', intent: 'faq' }],
    ['greeting', 'Bom dia!', true, { action: 'reply', intent: 'greeting' }],
    ['unknown escalates rather than inventing an answer', 'quanto custa a diária no réveillon?', false, { action: 'escalate', intent: 'unknown' }],
  ];
  for (const [name, text, isFirstMessage, expected] of cases) {
    it(name, () => {
      const d = ruleBasedDecision({ ...base, text, isFirstMessage });
      assert.equal(d.action, expected.action);
      assert.equal(d.intent, expected.intent);
      assert.ok(d.confidence >= 0 && d.confidence <= 1);
      assert.equal(d.reply === undefined, d.action === 'escalate');
    });
  }

  it('answers an FAQ with the tenant answer verbatim', () => {
    const d = ruleBasedDecision({ ...base, text: 'tem estacionamento?' });
    assert.equal(d.reply, 'Temos estacionamento gratuito.');
  });

  it('on the first message, welcomes the guest by business name and points to a human', () => {
    const d = ruleBasedDecision({ ...base, text: 'tem estacionamento?', isFirstMessage: true });
    assert.match(d.reply ?? '', /Pousada Mar Azul/);
    assert.match(d.reply ?? '', /Temos estacionamento gratuito\./);
    assert.ok(d.reply?.includes(HUMAN_HANDOFF_HINT));
  });

  it('a greeting names the business, invites the question and shows the way to a human', () => {
    const d = ruleBasedDecision({ ...base, text: 'olá', isFirstMessage: true });
    assert.match(d.reply ?? '', /Pousada Mar Azul/);
    assert.match(d.reply ?? '', /Como posso ajudar\?/);
    assert.ok(d.reply?.includes(HUMAN_HANDOFF_HINT));
  });

  it('unknown has low confidence', () => {
    const d = ruleBasedDecision({ ...base, text: 'vocês vendem ingresso do show?' });
    assert.ok(d.confidence < 0.5);
  });

  it('is deterministic', () => {
    const input = { ...base, text: 'posso levar meu cachorro?' };
    assert.deepEqual(ruleBasedDecision(input), ruleBasedDecision(input));
  });
});

describe('AI decision contract', () => {
  it('JSON schema is strict: no extra properties, every property required, reply and reason nullable', () => {
    assert.equal(AI_DECISION_JSON_SCHEMA.additionalProperties, false);
    assert.deepEqual([...AI_DECISION_JSON_SCHEMA.required].sort(), Object.keys(AI_DECISION_JSON_SCHEMA.properties).sort());
    assert.deepEqual(AI_DECISION_JSON_SCHEMA.properties.reply.type, ['string', 'null']);
    assert.deepEqual(AI_DECISION_JSON_SCHEMA.properties.reason.type, ['string', 'null']);
  });

  const invalid: [string, unknown][] = [
    ['unknown action', { action: 'book', reply: null, intent: 'x', confidence: 1, reason: null }],
    ['missing reply', { action: 'escalate', intent: 'x', confidence: 1, reason: null }],
    ['confidence as text', { action: 'reply', reply: 'oi', intent: 'x', confidence: 'alta', reason: null }],
    ['not an object', 'reply'],
  ];
  for (const [name, value] of invalid) it(`rejects ${name}`, () => assert.equal(aiDecisionSchema.safeParse(value).success, false));

  const normalized: [string, Parameters<typeof normalizeAiDecision>[0], ReturnType<typeof normalizeAiDecision>][] = [
    ['keeps a good reply', { action: 'reply', reply: ' Olá! ', intent: 'greeting', confidence: 0.8, reason: null }, { action: 'reply', reply: 'Olá!', intent: 'greeting', confidence: 0.8 }],
    ['clamps confidence above 1', { action: 'reply', reply: 'ok', intent: 'faq', confidence: 7, reason: null }, { action: 'reply', reply: 'ok', intent: 'faq', confidence: 1 }],
    ['clamps confidence below 0', { action: 'escalate', reply: null, intent: 'other', confidence: -2, reason: 'x' }, { action: 'escalate', intent: 'other', confidence: 0, reason: 'x' }],
    ['empty reply becomes escalate', { action: 'reply', reply: '  ', intent: 'question', confidence: 0.9, reason: null }, { action: 'escalate', intent: 'question', confidence: 0.9, reason: 'model chose to reply but gave no text' }],
    ['drops text on escalate', { action: 'escalate', reply: 'Vou chamar alguém', intent: 'booking', confidence: 0.7, reason: null }, { action: 'escalate', intent: 'booking', confidence: 0.7 }],
    ['tidies the intent', { action: 'escalate', reply: null, intent: ' Reserva / Pagamento ', confidence: 0.5, reason: null }, { action: 'escalate', intent: 'reserva_pagamento', confidence: 0.5 }],
  ];
  for (const [name, input, expected] of normalized) it(`normalize: ${name}`, () => assert.deepEqual(normalizeAiDecision(input), expected));
});
