import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { aiDecisions, type AiConfig, type DecideReplyInput } from '../../activities/ai';
import { FakeOpenAi, OPENAI_ERRORS } from '../fakes/openai';

const PLATFORM_KEY = 'sk-test-platform';
const TENANT_KEY = 'sk-test-tenant-a';

const tenantA: DecideReplyInput = {
  tenantId: 'tenant-a',
  businessName: 'Pousada Mar Azul',
  faq: [{ question: 'Tem estacionamento?', answer: 'Temos estacionamento gratuito na Pousada Mar Azul.', keywords: ['garagem'] }],
  transcript: [
    { role: 'guest', text: 'Oi, boa tarde' },
    { role: 'assistant', text: 'Olá! Como posso ajudar?' },
  ],
  latestText: 'Vocês aceitam cachorro?',
};

const tenantB: DecideReplyInput = {
  tenantId: 'tenant-b',
  businessName: 'Imobiliária Serra Verde',
  faq: [{ question: 'Qual o valor do condomínio?', answer: 'O condomínio do Edifício Ipê custa R$ 850.' }],
  transcript: [{ role: 'guest', text: 'Meu CPF é 123.456.789-00' }],
  latestText: 'Quero visitar o apartamento 42',
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

function assertNonRetryable(err: unknown, type: string) {
  assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
  assert.equal(err.type, type);
  assert.equal(err.nonRetryable, true);
}

function assertRetryable(err: unknown) {
  assert.ok(err instanceof Error);
  // Anything but a non-retryable ApplicationFailure goes through the activity's retry policy.
  assert.ok(!(err instanceof ApplicationFailure && err.nonRetryable), `expected a retryable error, got ${String(err)}`);
}

describe('aiDecisions.decide', () => {
  const fake = new FakeOpenAi({ apiKeys: [PLATFORM_KEY, TENANT_KEY] });
  let config: AiConfig;
  let decideReply: ReturnType<typeof aiDecisions>['decide'];

  before(async () => {
    const baseUrl = await fake.start();
    config = { apiKey: PLATFORM_KEY, baseUrl, model: 'gpt-4o-mini', timeoutMs: 2_000 };
    decideReply = aiDecisions({ ai: config }).decide;
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.respondWith();
    fake.setLatency(0);
  });

  it('returns the model reply', async () => {
    const d = await decideReply(tenantA);
    assert.deepEqual(d, {
      action: 'reply',
      reply: 'Resposta automática: Vocês aceitam cachorro?',
      intent: 'question',
      confidence: 0.9,
      source: 'openai',
    });
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]?.authorization, `Bearer ${PLATFORM_KEY}`);
    assert.equal(fake.requests[0]?.body.model, 'gpt-4o-mini');
  });

  it('returns an escalation decided by the model', async () => {
    fake.respondWith(() => ({ action: 'escalate', intent: 'booking', confidence: 0.85, reason: 'quer reservar' }));
    const d = await decideReply({ ...tenantA, latestText: 'Quero reservar para o feriado' });
    assert.deepEqual(d, { action: 'escalate', intent: 'booking', confidence: 0.85, reason: 'quer reservar', source: 'openai' });
  });

  it('clamps confidence and turns an empty reply into an escalation', async () => {
    fake.respondWith(() => ({ action: 'reply', reply: '', intent: 'question', confidence: 1.7 }));
    const d = await decideReply(tenantA);
    assert.equal(d.action, 'escalate');
    assert.equal(d.confidence, 1);
    assert.equal(d.reply, undefined);
  });

  it('a request for a person escalates without asking the model', async () => {
    const d = await decideReply({ ...tenantA, latestText: 'quero falar com um atendente' });
    assert.equal(d.action, 'escalate');
    assert.equal(d.intent, 'human_request');
    assert.equal(d.source, 'rules');
    assert.equal(fake.requests.length, 0);
  });

  const invalidAnswers: [string, () => Parameters<FakeOpenAi['respondWith']>[0]][] = [
    ['content that is not JSON', () => () => ({ raw: 'Claro! Aceitamos cachorros.' })],
    ['JSON of another shape', () => () => ({ raw: JSON.stringify({ answer: 'sim' }) })],
    ['an unknown action', () => () => ({ raw: JSON.stringify({ action: 'book', reply: null, intent: 'x', confidence: 1, reason: null }) })],
    ['a refusal', () => () => ({ refusal: 'Não posso ajudar com isso.' })],
  ];
  for (const [name, responder] of invalidAnswers) {
    it(`${name} → non-retryable AiAnswerInvalid`, async () => {
      fake.respondWith(responder());
      assertNonRetryable(await rejection(decideReply(tenantA)), 'AiAnswerInvalid');
    });
  }

  it('an invalid answer does not leak the guest text into the failure message', async () => {
    fake.respondWith(() => ({ raw: `not json: ${tenantA.latestText}` }));
    const err = await rejection(decideReply(tenantA));
    assert.ok(err instanceof Error && !err.message.includes('cachorro'));
  });

  it('HTTP 500 → plain retryable error', async () => {
    fake.respondWith(() => OPENAI_ERRORS.serverError);
    assertRetryable(await rejection(decideReply(tenantA)));
    assert.equal(fake.requests.length, 1, 'the client itself must not retry');
  });

  it('HTTP 429 rate limit → plain retryable error', async () => {
    fake.respondWith(() => OPENAI_ERRORS.rateLimited);
    assertRetryable(await rejection(decideReply(tenantA)));
    assert.equal(fake.requests.length, 1);
  });

  it('HTTP 429 insufficient_quota → non-retryable AiUnavailable (retrying will not refill the balance)', async () => {
    fake.respondWith(() => OPENAI_ERRORS.quotaExceeded);
    assertNonRetryable(await rejection(decideReply(tenantA)), 'AiUnavailable');
  });

  it('HTTP 401 → non-retryable AiUnavailable', async () => {
    const err = await rejection(decideReply({ ...tenantA, tenantAi: { apiKey: 'sk-revoked' } }));
    assertNonRetryable(err, 'AiUnavailable');
  });

  it('HTTP 400/404 → non-retryable AiUnavailable', async () => {
    fake.respondWith(() => OPENAI_ERRORS.modelNotFound('gpt-inexistente'));
    assertNonRetryable(await rejection(decideReply(tenantA)), 'AiUnavailable');
    fake.respondWith(() => ({ status: 400, body: { error: { message: 'Invalid schema', type: 'invalid_request_error', param: 'response_format', code: null } } }));
    assertNonRetryable(await rejection(decideReply(tenantA)), 'AiUnavailable');
  });

  it('a slow answer times out → plain retryable error', async () => {
    const impatient = aiDecisions({ ai: { ...config, timeoutMs: 150 } }).decide;
    fake.respondWith(() => ({ delayMs: 1_000, then: { action: 'reply', reply: 'tarde demais', intent: 'question', confidence: 0.9 } }));
    const started = Date.now();
    const err = await rejection(impatient(tenantA));
    assertRetryable(err);
    assert.match((err as Error).message, /timed out/);
    assert.ok(Date.now() - started < 900, 'gave up at the timeout, not when the server answered');
    // On a loaded machine the request may reach the fake after the client gave up: let it land
    // here rather than in the next test's records.
    for (let i = 0; i < 60 && fake.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fake.requests.length, 1);
  });

  it('without any API key, the rules decide and nothing is sent', async () => {
    const rules = aiDecisions({ ai: { model: 'gpt-4o-mini', timeoutMs: 1_000, baseUrl: config.baseUrl } }).decide;
    const faq = await rules({ ...tenantA, latestText: 'tem garagem?' });
    assert.deepEqual(faq, { action: 'reply', reply: 'Temos estacionamento gratuito na Pousada Mar Azul.', intent: 'faq', confidence: faq.confidence, reason: 'FAQ: Tem estacionamento?', source: 'rules' });
    const unknown = await rules(tenantA);
    assert.equal(unknown.action, 'escalate');
    assert.equal(unknown.source, 'rules');
    assert.equal(fake.requests.length, 0);
  });

  it('without a platform key, a tenant key is enough', async () => {
    const tenantOnly = aiDecisions({ ai: { model: 'gpt-4o-mini', timeoutMs: 1_000, baseUrl: config.baseUrl } }).decide;
    const d = await tenantOnly({ ...tenantA, tenantAi: { apiKey: TENANT_KEY } });
    assert.equal(d.source, 'openai');
    assert.equal(fake.requests[0]?.authorization, `Bearer ${TENANT_KEY}`);
  });

  it("uses the tenant's key and model instead of the platform's", async () => {
    await decideReply({ ...tenantA, tenantAi: { apiKey: TENANT_KEY, model: 'gpt-4.1-mini', systemPrompt: 'Chame o cliente de "você".' } });
    const req = fake.requests[0];
    assert.equal(req?.authorization, `Bearer ${TENANT_KEY}`);
    assert.equal(req?.body.model, 'gpt-4.1-mini');
    assert.match(req?.body.messages[0].content, /Chame o cliente de "você"\./);
  });

  it("never sends the platform key to a tenant-chosen endpoint", async () => {
    const elsewhere = new FakeOpenAi({ apiKeys: [PLATFORM_KEY] });
    const elsewhereUrl = await elsewhere.start();
    try {
      await decideReply({ ...tenantA, tenantAi: { baseUrl: elsewhereUrl } });
      assert.equal(elsewhere.requests.length, 0);
      assert.equal(fake.requests[0]?.authorization, `Bearer ${PLATFORM_KEY}`);
    } finally {
      await elsewhere.stop();
    }
  });

  it('the request carries only this tenant and this conversation, with a strict json_schema', async () => {
    await decideReply(tenantB); // another tenant through the same activity instance and cached client
    fake.requests.length = 0;
    await decideReply(tenantA);
    const body = fake.requests[0]?.body;
    const sent = JSON.stringify(body);
    assert.deepEqual(body.response_format.type, 'json_schema');
    assert.equal(body.response_format.json_schema.name, 'triage_decision');
    assert.equal(body.response_format.json_schema.strict, true);
    assert.equal(body.response_format.json_schema.schema.additionalProperties, false);

    const [system, ...turns] = body.messages as { role: string; content: string }[];
    assert.equal(system?.role, 'system');
    assert.match(system?.content ?? '', /Pousada Mar Azul/);
    assert.match(system?.content ?? '', /Temos estacionamento gratuito/);
    assert.match(system?.content ?? '', /[Nn]unca invente/);
    assert.deepEqual(turns, [
      { role: 'user', content: 'Oi, boa tarde' },
      { role: 'assistant', content: 'Olá! Como posso ajudar?' },
      { role: 'user', content: 'Vocês aceitam cachorro?' },
    ]);
    for (const other of ['Serra Verde', 'Edifício Ipê', '123.456.789-00', 'apartamento 42', 'tenant-b']) {
      assert.ok(!sent.includes(other), `request leaked "${other}"`);
    }
  });

  it('sends the latest message once even when the transcript already ends with it', async () => {
    await decideReply({ ...tenantA, transcript: [...tenantA.transcript, { role: 'guest', text: tenantA.latestText }] });
    const users = (fake.requests[0]?.body.messages as { role: string; content: string }[]).filter((m) => m.content === tenantA.latestText);
    assert.equal(users.length, 1);
  });

  it("marks attendants' turns so the model knows a person already spoke", async () => {
    await decideReply({ ...tenantA, transcript: [{ role: 'attendant', text: 'Aqui é a Ana, da recepção.' }] });
    const msgs = fake.requests[0]?.body.messages as { role: string; content: string }[];
    assert.deepEqual(msgs[1], { role: 'assistant', content: '[atendente humano] Aqui é a Ana, da recepção.' });
  });
});
