import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, messagesOf, until, whatsappTenant } from '../support/whatsapp';

describe('conversation smoke', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ ai: true });
  });
  after(async () => stack.stop());

  it('a guest message gets an AI reply through the Graph API', async () => {
    const t = await whatsappTenant(stack);
    const from = guestPhone();
    await guestSays(stack, t, from, 'Qual o horário do café da manhã?');
    const sent = await stack.graph.waitForSent((m) => m.to === from, 15_000);
    assert.match(sent.text ?? '', /café da manhã/);
    const conv = await until('conversation', () => conversationOf(stack, t.tenantId, from));
    const msgs = await until('2 messages', async () => { const m = await messagesOf(stack, t.tenantId, conv.id); return m.length >= 2 && m; });
    assert.deepEqual(msgs.map((m: any) => [m.direction, m.senderType]), [['inbound', 'contact'], ['outbound', 'ai']]);
  });
});
