import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../support/fixtures';
import { liveEvents } from '../support/live-events';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, guestSays, until, whatsappTenant } from '../support/whatsapp';

// What an attendant's dashboard sees, from a guest's message to the worker's events, through
// Redis and the API's Socket.io server.
describe('real-time inbox', () => {
  let stack: TestStack;
  const live = liveEvents(() => stack);
  before(async () => {
    stack = await startStack({ ai: true, env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '300' } });
  });
  after(async () => {
    live.close();
    await stack.stop();
  });

  const connect = (token: string) => live.connect(token);

  it('an attendant receives the events of their tenant — message, reply, escalation — and none of another tenant', async () => {
    const a = await whatsappTenant(stack);
    const b = await whatsappTenant(stack);
    const attendantA = await addUser(stack, a, 'ATTENDANT');
    const { events } = await connect(attendantA.token);

    const guestB = guestPhone();
    await guestSays(stack, b, guestB, 'Mensagem do hotel B');
    const guestA = guestPhone();
    await guestSays(stack, a, guestA, 'Mensagem do hotel A');
    await until('A’s inbound and AI reply', async () =>
      events.some((e) => e.name === 'message:new' && e.payload.direction === 'inbound' && e.payload.body === 'Mensagem do hotel A') &&
      events.some((e) => e.name === 'message:new' && e.payload.direction === 'outbound'),
    );
    await stack.graph.waitForSent((m) => m.to === guestB); // B's events were emitted by now too
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(events.every((e) => e.payload.tenantId === a.tenantId), `foreign events: ${JSON.stringify(events.filter((e) => e.payload.tenantId !== a.tenantId))}`);
    assert.ok(events.some((e) => e.name === 'conversation:updated'));

    await guestSays(stack, a, guestA, 'Quero falar com um atendente');
    const escalation = await until('escalation:new', async () => events.find((e) => e.name === 'escalation:new'));
    const accepted = await stack.api.post(`/api/conversations/${escalation.payload.conversationId}/accept`, { token: attendantA.token });
    assert.equal(accepted.status, 200);
    const acc = await until('escalation:accepted', async () => events.find((e) => e.name === 'escalation:accepted'));
    assert.equal(acc.payload.acceptedBy, attendantA.id);
  });

  it('a dashboard that missed events catches up over REST from the last seq it saw', async () => {
    const t = await whatsappTenant(stack);
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const { socket, events } = await connect(attendant.token);
    const guest = guestPhone();
    await guestSays(stack, t, guest, 'Primeira mensagem');
    const first = await until('first message:new', async () => events.find((e) => e.name === 'message:new'));
    socket.close();
    await guestSays(stack, t, guest, 'Enquanto você estava fora');
    await stack.graph.waitForSent((m) => m.to === guest && /estava fora/.test(m.text ?? ''));
    const resync = await stack.api.get(`/api/messages?afterSeq=${first.payload.seq}`, { token: attendant.token });
    assert.equal(resync.status, 200);
    const bodies = resync.body.items.map((m: any) => m.body);
    assert.ok(bodies.includes('Enquanto você estava fora'), JSON.stringify(bodies));
    assert.ok(!bodies.includes('Primeira mensagem'));
  });
});
