import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'socket.io-client';
import { REALTIME_EVENT_NAMES, type RealtimeEventName, type RealtimeEvents } from '../../domain/realtime-events';
import type { Role } from '../../domain/roles';
import { addUser, login } from '../support/fixtures';
import { liveEvents, type LiveEvent } from '../support/live-events';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, guestSays, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// The whole API (REST and Socket.io) and a worker: real logins, a real guest message through the
// webhook and the conversation workflow, real logouts and user changes.
const A = 'TENANT_ADMIN';
const M = 'MANAGER';
const T = 'ATTENDANT';
const S = 'SALES';
const F = 'FINANCE';
const STAFF = [A, M, T, S, F] as const;
type StaffRole = (typeof STAFF)[number];

const CONVERSATION_EVENTS = new Set<string>(['message:new', 'message:status', 'message:failed', 'conversation:updated', 'escalation:new', 'escalation:accepted', 'escalation:sla_breached']);

// Who may read what through REST, as the routes declare it (see test/realtime/audience.test.ts).
const READS: Record<StaffRole, 'all' | 'conversations' | 'sales' | 'billing+consortium'> = {
  [A]: 'all',
  [M]: 'all',
  [T]: 'conversations',
  [S]: 'sales',
  [F]: 'billing+consortium',
};
function expectedFor(role: StaffRole): Set<RealtimeEventName> {
  const reads = READS[role];
  return new Set(
    REALTIME_EVENT_NAMES.filter((e) => {
      // LGPD requests are the tenant admin's alone (domain/roles.ts PRIVACY_ROLES).
      if (e.startsWith('data_subject_request:')) return role === A;
      if (reads === 'all') return true;
      if (reads === 'conversations') return CONVERSATION_EVENTS.has(e);
      if (reads === 'sales') return /^(lead|task|appointment|proposal|contract):/.test(e);
      return /^(invoice|collection|assembly|quota):/.test(e);
    }),
  );
}

describe('realtime by role, and sockets that end with their session', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  const live = liveEvents(() => stack);
  const users = {} as Record<StaffRole, { id: string; email: string; password: string; token: string }>;

  before(async () => {
    stack = await startStack();
    t = await whatsappTenant(stack);
    users[A] = t.admin;
    for (const role of [M, T, S, F] as const) users[role] = await addUser(stack, t, role);
  });

  after(async () => {
    live.close();
    await stack?.stop();
  });

  const connectAll = async () => {
    const out = {} as Record<StaffRole, { socket: Socket; events: LiveEvent[] }>;
    for (const role of STAFF) out[role] = await live.connect(users[role].token);
    return out;
  };

  // One entry per kind, through the API's own emitter; payloads only need their tenant and a mark.
  const emit = <E extends RealtimeEventName>(event: E, mark: string, target: { userIds?: string[]; roles?: Role[] } = {}) =>
    stack.deps.realtime.emit({ tenantId: t.tenantId, ...target }, event, { tenantId: t.tenantId, mark } as unknown as RealtimeEvents[E]);

  // Everything emitted before a sentinel is delivered before it (one stream, read in order).
  async function sentinels(sockets: Record<StaffRole, { events: LiveEvent[] }>) {
    const mark = `sentinel-${randomUUID()}`;
    await emit('message:new', mark);
    await emit('lead:updated', mark);
    await emit('invoice:updated', mark);
    for (const role of STAFF) await until(`the sentinel for ${role}`, async () => sockets[role].events.some((e) => e.payload?.mark === mark), 10_000, 20);
    return mark;
  }

  it('sends a guest’s message only to the roles that read conversations, and lets only them join it', async () => {
    const sockets = await connectAll();
    const text = `Meu CPF é 123.456.789-${String(Math.floor(Math.random() * 90) + 10)}`;
    await guestSays(stack, t, guestPhone(), text);
    const inbox = [A, M, T] as const;
    for (const role of inbox) {
      await until(`${role} to see the message`, async () => sockets[role].events.some((e) => e.name === 'message:new' && e.payload.body === text));
    }
    const conversationId: string = sockets[T].events.find((e) => e.name === 'message:new')?.payload.conversationId;
    await sentinels(sockets);

    for (const role of [S, F] as const) {
      const seen = sockets[role].events.filter((e) => CONVERSATION_EVENTS.has(e.name));
      assert.deepEqual(seen, [], `${role} received conversation events`);
      assert.ok(!JSON.stringify(sockets[role].events).includes(text), `${role} saw the guest's text`);
      assert.deepEqual(await sockets[role].socket.emitWithAck('conversation:join', conversationId), { ok: false, error: 'forbidden' });
    }
    for (const role of inbox) assert.deepEqual(await sockets[role].socket.emitWithAck('conversation:join', conversationId), { ok: true });
  });

  it('delivers each kind of event to exactly the roles that may read it through REST', async () => {
    const sockets = await connectAll();
    const mark = `kind-${randomUUID()}`;
    for (const event of REALTIME_EVENT_NAMES) await emit(event, mark);
    // Named users get an event only if their role may read it: a task of the finance user, an
    // appointment of the attendant.
    const targeted = `targeted-${randomUUID()}`;
    await emit('task:new', targeted, { userIds: [users[F].id, users[S].id] });
    await emit('appointment:updated', targeted, { userIds: [users[T].id] });
    await emit('message:new', targeted, { userIds: [users[S].id, users[F].id], roles: ['SALES', 'FINANCE'] });
    await sentinels(sockets);

    for (const role of STAFF) {
      const kinds = new Set(sockets[role].events.filter((e) => e.payload?.mark === mark).map((e) => e.name));
      assert.deepEqual([...kinds].sort(), [...expectedFor(role)].sort(), role);
    }
    const targetedTo = (role: StaffRole) => sockets[role].events.filter((e) => e.payload?.mark === targeted).map((e) => e.name);
    assert.deepEqual(targetedTo(S), ['task:new']);
    assert.deepEqual(targetedTo(F), []);
    assert.deepEqual(targetedTo(T), []);
    assert.deepEqual(targetedTo(A), []);
  });

  const endedWith = async (client: { socket: Socket; events: LiveEvent[] }, reason: 'revoked' | 'expired', timeoutMs = 5_000) => {
    await until(`the socket to be disconnected (${reason})`, async () => !client.socket.connected, timeoutMs, 20);
    assert.deepEqual(client.events.filter((e) => e.name === 'session:ended').map((e) => e.payload), [{ reason }]);
  };

  it('disconnects the sockets of a session that logs out, within seconds, and no other', async () => {
    const session = await login(stack, users[T].email, users[T].password);
    const client = await live.connect(session.accessToken);
    const otherSession = await live.connect(users[T].token);
    const res = await stack.api.post('/api/auth/logout', { token: session.accessToken });
    assert.equal(res.status, 204);
    const startedAt = Date.now();
    await endedWith(client, 'revoked');
    assert.ok(Date.now() - startedAt < 5_000);
    assert.equal(otherSession.socket.connected, true);
  });

  it('disconnects a user who is deactivated, given a new role or a new password', async () => {
    const changes: Record<string, unknown>[] = [{ active: false }, { role: 'SALES' }, { password: `outra-senha-${randomUUID().slice(0, 8)}` }];
    for (const change of changes) {
      const user = await addUser(stack, t, 'ATTENDANT');
      const client = await live.connect(user.token);
      const res = await stack.api.patch(`/api/users/${user.id}`, { token: t.admin.token, body: change });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await endedWith(client, 'revoked');
      if (change.role) {
        // Back as a seller: the inbox is closed to the new role.
        const again = await live.connect((await login(stack, user.email, user.password)).accessToken);
        const conversationId = randomUUID();
        assert.deepEqual(await again.socket.emitWithAck('conversation:join', conversationId), { ok: false, error: 'forbidden' });
      }
    }
  });

  it('disconnects a socket when its access token expires', async () => {
    // Signed with the API's own key, as a login would, only shorter-lived.
    const short = await stack.deps.accessTokens.sign({ userId: users[M].id, tenantId: t.tenantId, role: 'MANAGER', sessionId: randomUUID() }, 3);
    const client = await live.connect(short.token);
    await endedWith(client, 'expired', 8_000);
    assert.ok(Date.now() < short.expiresAt.getTime() + 3_000, 'within seconds of the expiry');
  });
});
