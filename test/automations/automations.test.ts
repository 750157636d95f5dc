import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { addApiKey, addUser } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, until, whatsappTenant } from '../support/whatsapp';

// The hotel-bot seed's n8n side: API keys act on conversations, and events go out signed.

interface Received {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: { id: string; event: string; tenantId: string; data: Record<string, unknown> };
}

async function automationReceiver(answer: (n: number) => number) {
  const received: Received[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts += 1;
      const status = answer(attempts);
      const raw = Buffer.concat(chunks).toString('utf8');
      if (status < 300) received.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/orquestra`, received, attempts: () => attempts, close: () => new Promise((r) => server.close(r)) };
}

describe('automations', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ ai: true, env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '300' } });
  });
  after(async () => stack.stop());

  it('API key scopes decide what an automation may do to a conversation', async () => {
    const t = await whatsappTenant(stack);
    const guest = guestPhone();
    await guestSays(stack, t, guest, 'Oi, bom dia!');
    const conv = await until('conversation', () => conversationOf(stack, t.tenantId, guest));
    const reader = await addApiKey(stack, t, ['conversations:read']);
    const sender = await addApiKey(stack, t, ['messages:send']);
    const writer = await addApiKey(stack, t, ['conversations:write']);

    assert.equal((await stack.api.get(`/api/conversations/${conv.id}`, { apiKey: reader.key })).status, 200);
    assert.equal((await stack.api.get(`/api/conversations/${conv.id}`, { apiKey: sender.key })).status, 403);
    assert.equal((await stack.api.post(`/api/conversations/${conv.id}/reply`, { apiKey: reader.key, body: { text: 'x' } })).status, 403);
    assert.equal((await stack.api.post(`/api/conversations/${conv.id}/escalate`, { apiKey: sender.key, body: { reason: 'x' } })).status, 403);
    assert.equal((await stack.api.post(`/api/conversations/${conv.id}/accept`, { apiKey: writer.key })).status, 403, 'accepting is for people');

    const sent = await stack.api.post(`/api/conversations/${conv.id}/reply`, { apiKey: sender.key, body: { text: 'Promoção de fim de semana: 20% off!' } });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await stack.graph.waitForSent((m) => m.to === guest && /20% off/.test(m.text ?? ''));
    const afterSend = await stack.api.get(`/api/conversations/${conv.id}`, { apiKey: reader.key });
    assert.equal(afterSend.body.status, 'ai', 'an automation sending keeps the AI in charge');

    const escalated = await stack.api.post(`/api/conversations/${conv.id}/escalate`, { apiKey: writer.key, body: { reason: 'lead quente', team: 'reservas' } });
    assert.equal(escalated.status, 200, JSON.stringify(escalated.body));
    assert.equal(escalated.body.status, 'escalated');
    assert.equal(escalated.body.team, 'reservas');
    const resolved = await stack.api.post(`/api/conversations/${conv.id}/resolve`, { apiKey: writer.key });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.status, 'ai');
  });

  it('an automation sends a template to a phone number with no open conversation; free text there is refused', async () => {
    const t = await whatsappTenant(stack);
    const key = await addApiKey(stack, t, ['messages:send']);
    const phone = guestPhone();
    const text = await stack.api.post('/api/automations/messages', { apiKey: key.key, body: { to: phone, message: { text: 'Oi!' } } });
    assert.equal(text.status, 409);
    assert.match(text.body.detail, /24 horas/);
    const tpl = await stack.api.post('/api/automations/messages', {
      apiKey: key.key,
      headers: { 'idempotency-key': `lembrete-${phone}` },
      body: { to: phone, message: { content: { type: 'template', name: 'lembrete_checkin', language: 'pt_BR' } } },
    });
    assert.equal(tpl.status, 200, JSON.stringify(tpl.body));
    // The same request again (a retry after a timeout) does not send twice.
    const retry = await stack.api.post('/api/automations/messages', {
      apiKey: key.key,
      headers: { 'idempotency-key': `lembrete-${phone}` },
      body: { to: phone, message: { content: { type: 'template', name: 'lembrete_checkin', language: 'pt_BR' } } },
    });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.messageId, tpl.body.messageId);
    await stack.graph.waitForSent((m) => m.to === phone && m.templateName === 'lembrete_checkin');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stack.graph.sentTo(phone).length, 1);
  });

  it('a malformed Idempotency-Key is refused with its field, and nothing is sent', async () => {
    const t = await whatsappTenant(stack);
    const key = await addApiKey(stack, t, ['messages:send']);
    const phone = guestPhone();
    const res = await stack.api.post('/api/automations/messages', {
      apiKey: key.key,
      headers: { 'idempotency-key': 'chave com espaços e acentuação' },
      body: { to: phone, message: { content: { type: 'template', name: 'lembrete_checkin', language: 'pt_BR' } } },
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.deepEqual(res.body.errors.map((e: any) => e.path), ['headers.idempotency-key']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stack.graph.sentTo(phone).length, 0);
    const conversations = await stack.api.get('/api/conversations', { apiKey: (await addApiKey(stack, t, ['conversations:read'])).key });
    assert.equal(conversations.body.items.filter((c: any) => c.contact?.waId === phone).length, 0);
  });

  it('events are posted signed to the tenant’s URL, retried when it fails, and never hold the conversation', async () => {
    const t = await whatsappTenant(stack);
    const receiver = await automationReceiver((n) => (n === 1 ? 500 : 200));
    try {
      const put = await stack.api.request('put', '/api/automation-endpoint', {
        token: t.admin.token,
        body: { url: receiver.url, events: ['message.received', 'conversation.escalated'], secret: 'segredo-do-n8n-0123456789' },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const guest = guestPhone();
      await guestSays(stack, t, guest, 'Bom dia, vocês têm café da manhã?');
      // The guest is answered while the endpoint is still failing.
      await stack.graph.waitForSent((m) => m.to === guest);
      const event = await until('the event, after a retry', async () => receiver.received.find((r) => r.body.event === 'message.received'), 20_000);
      assert.ok(receiver.attempts() >= 2);
      const expected = `sha256=${createHmac('sha256', 'segredo-do-n8n-0123456789').update(event.raw).digest('hex')}`;
      assert.equal(event.headers['x-orquestra-signature-256'], expected);
      assert.equal(event.body.tenantId, t.tenantId);
      assert.equal(event.body.data.text, 'Bom dia, vocês têm café da manhã?');
      assert.equal(event.headers['x-orquestra-delivery'], event.body.id);
      // The delivery that failed once and then succeeded, for the replay test.
      await stack.deps.temporal.client.workflow.getHandle(event.body.id).result();
      await recordHistory(stack, event.body.id, 'automation-delivery-retried');

      await guestSays(stack, t, guest, 'Quero falar com um atendente');
      const escalated = await until('escalation event', async () => receiver.received.find((r) => r.body.event === 'conversation.escalated'), 20_000);
      assert.equal(escalated.body.data.reason, 'guest_asked_for_person');
    } finally {
      await receiver.close();
    }
  });

  it('only a tenant admin configures the endpoint', async () => {
    const t = await whatsappTenant(stack);
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const res = await stack.api.request('put', '/api/automation-endpoint', { token: attendant.token, body: { url: 'https://n8n.example.com/x', events: ['message.received'] } });
    assert.equal(res.status, 403);
    const generated = await stack.api.request('put', '/api/automation-endpoint', { token: t.admin.token, body: { url: 'https://n8n.example.com/x', events: ['message.received'] } });
    assert.equal(generated.status, 200);
    assert.match(generated.body.secret, /^whsec_/);
    const read = await stack.api.get('/api/automation-endpoint', { token: t.admin.token });
    assert.equal(read.body.secret, undefined, 'the secret is shown once');
  });
});
