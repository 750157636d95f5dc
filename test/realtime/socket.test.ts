import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Redis from 'ioredis';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { attachRealtime, type Realtime } from '../../api/realtime/socket-server';
import { AccessTokens } from '../../api/auth/tokens';
import type { MessageNewEvent, RealtimeEventName } from '../../domain/realtime-events';
import type { Role } from '../../domain/roles';
import { createLogger } from '../../infra/logger';
import { createRealtimeEmitter, type RealtimeEmitter } from '../../infra/realtime-emitter';
import { SessionRevocations } from '../../infra/session-revocations';

// Two API instances (two http servers, each with its own Redis connection) and a "worker" that
// only has a Redis connection, all against the real Redis, on a stream and keys of this run.
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const log = createLogger('realtime-test', 'silent');

interface Received {
  event: string;
  payload: { messageId?: string; tenantId?: string; reason?: string };
}

interface Client {
  socket: ClientSocket;
  received: Received[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('realtime over Socket.io with the Redis streams adapter', () => {
  const runId = randomBytes(6).toString('hex');
  const keyPrefix = `test:realtime:${runId}:`;
  const streamName = `${keyPrefix}stream`;
  const tokens = new AccessTokens(randomBytes(48).toString('base64'));
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  const allowedConversation = randomUUID();
  const deniedConversation = randomUUID();

  const redisConnections: Redis[] = [];
  const httpServers: http.Server[] = [];
  const instances: Realtime[] = [];
  const clients: ClientSocket[] = [];
  let urls: string[] = [];
  let revocations: SessionRevocations;
  let worker: RealtimeEmitter;
  let workerRedis: Redis;

  const redis = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    r.on('error', () => {});
    redisConnections.push(r);
    return r;
  };

  async function startInstance(connection: Redis | null, revocationStore: SessionRevocations, extra: { sessionCheckMs?: number } = {}) {
    const server = http.createServer();
    httpServers.push(server);
    const realtime = await attachRealtime(server, {
      accessTokens: tokens,
      revocations: revocationStore,
      redis: connection,
      log,
      streamName,
      canJoinConversation: async (tenantId, conversationId) => tenantId === tenantA && conversationId === allowedConversation,
      ...extra,
    });
    instances.push(realtime);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { realtime, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  async function token(o: { tenantId?: string | null; role?: Role; ttlSeconds?: number; sessionId?: string } = {}) {
    const claims = {
      userId: randomUUID(),
      tenantId: o.tenantId === undefined ? tenantA : o.tenantId,
      role: o.role ?? 'ATTENDANT',
      sessionId: o.sessionId ?? randomUUID(),
    };
    return { ...claims, token: (await tokens.sign(claims, o.ttlSeconds)).token };
  }

  function open(url: string, auth: Record<string, unknown>, extra: Parameters<typeof connectClient>[1] = {}) {
    const socket = connectClient(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true, ...extra });
    clients.push(socket);
    return socket;
  }

  async function connect(url: string, auth: Record<string, unknown>, extra: Parameters<typeof connectClient>[1] = {}): Promise<Client> {
    const socket = open(url, auth, extra);
    const received: Received[] = [];
    socket.onAny((event: string, payload: Received['payload']) => received.push({ event, payload }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return { socket, received };
  }

  async function connectError(url: string, auth: Record<string, unknown>) {
    const socket = open(url, auth);
    return new Promise<Error & { data?: { code?: string } }>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected, expected connect_error')));
      socket.once('connect_error', resolve);
    });
  }

  function message(tenantId: string, conversationId = randomUUID()): MessageNewEvent {
    return {
      tenantId,
      conversationId,
      messageId: randomUUID(),
      seq: '1',
      direction: 'inbound',
      senderType: 'contact',
      senderId: null,
      type: 'text',
      body: 'Olá',
      status: 'received',
      mediaId: null,
      occurredAt: new Date().toISOString(),
    };
  }

  const got = (client: Client, messageId: string, event: RealtimeEventName = 'message:new') =>
    client.received.some((r) => r.event === event && r.payload.messageId === messageId);

  async function expectReceived(clientList: Client[], messageId: string) {
    for (const c of clientList) await waitFor(() => got(c, messageId), `message ${messageId}`);
  }

  // Events are read from one stream in order: once a later sentinel has arrived, an earlier
  // event that was going to arrive would have.
  async function sendSentinel(clientList: Client[]) {
    const sentinel = message(tenantA);
    await worker.emit({ tenantId: tenantA }, 'message:new', sentinel);
    await expectReceived(clientList, sentinel.messageId);
    await sleep(50);
  }

  before(async () => {
    revocations = new SessionRevocations(redis(), keyPrefix, 60);
    const one = await startInstance(redis(), revocations);
    // Another process: its own connections, including for revocations.
    const two = await startInstance(redis(), new SessionRevocations(redis(), keyPrefix, 60));
    urls = [one.url, two.url];
    workerRedis = redis();
    worker = createRealtimeEmitter(workerRedis, { streamName, log });
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await Promise.all(instances.map((i) => i.close()));
    await Promise.all(httpServers.map((s) => new Promise((resolve) => s.close(resolve))));
    const cleaner = redis();
    const keys = await cleaner.keys(`${keyPrefix}*`);
    if (keys.length) await cleaner.del(...keys);
    await Promise.all(redisConnections.map((r) => r.quit().catch(() => r.disconnect())));
  });

  it('delivers a worker event to tenant A clients on both instances, and never tenant B events', async () => {
    const [url1, url2] = urls as [string, string];
    const onOne = await connect(url1, { token: (await token()).token });
    const onTwo = await connect(url2, { token: (await token()).token });
    const polling = await connect(url1, { token: (await token()).token }, { transports: ['polling'] });
    const otherTenant = await connect(url2, { token: (await token({ tenantId: tenantB })).token });

    const forA = message(tenantA);
    await worker.emit({ tenantId: tenantA, conversationId: forA.conversationId }, 'message:new', forA);
    await expectReceived([onOne, onTwo, polling], forA.messageId);

    const forB = message(tenantB);
    await worker.emit({ tenantId: tenantB }, 'message:new', forB);
    await expectReceived([otherTenant], forB.messageId);
    await sendSentinel([onOne, onTwo, polling]);
    for (const c of [onOne, onTwo, polling]) assert.equal(got(c, forB.messageId), false);
    assert.equal(got(otherTenant, forA.messageId), false);
    assert.equal(onOne.received.filter((r) => r.payload.messageId === forA.messageId).length, 1, 'delivered once');
  });

  it('refuses a missing, malformed, forged, expired or revoked token', async () => {
    const url = urls[0] as string;
    assert.equal((await connectError(url, {})).data?.code, 'token_missing');
    assert.equal((await connectError(url, { token: 'not-a-jwt' })).data?.code, 'token_invalid');
    const forged = await new AccessTokens(randomBytes(48).toString('base64')).sign({
      userId: randomUUID(),
      tenantId: tenantA,
      role: 'TENANT_ADMIN',
      sessionId: randomUUID(),
    });
    assert.equal((await connectError(url, { token: forged.token })).data?.code, 'token_invalid');
    assert.equal((await connectError(url, { token: (await token({ ttlSeconds: -5 })).token })).data?.code, 'token_expired');
    // A tenant role without a tenant is not a token we issue.
    assert.equal((await connectError(url, { token: (await token({ tenantId: null, role: 'MANAGER' })).token })).data?.code, 'token_invalid');

    const revoked = await token();
    await revocations.revoke(revoked.sessionId);
    for (const u of urls) assert.equal((await connectError(u, { token: revoked.token })).data?.code, 'session_revoked');
  });

  it('lets a SUPER_ADMIN connect without joining any tenant room', async () => {
    const admin = await connect(urls[0] as string, { token: (await token({ tenantId: null, role: 'SUPER_ADMIN' })).token });
    const tenantClient = await connect(urls[0] as string, { token: (await token()).token });
    const forA = message(tenantA);
    await worker.emit({ tenantId: tenantA }, 'message:new', forA);
    await sendSentinel([tenantClient]);
    assert.equal(got(admin, forA.messageId), false);
    assert.deepEqual(await admin.socket.emitWithAck('conversation:join', allowedConversation), { ok: false, error: 'forbidden' });
  });

  it('authorizes conversation joins and delivers conversation events only to members', async () => {
    // Targeted at one user who is connected nowhere: only conversation members receive it.
    const somebodyElse = randomUUID();
    const denied = await connect(urls[0] as string, { token: (await token()).token });
    const allowed = await connect(urls[1] as string, { token: (await token()).token });
    const bystander = await connect(urls[0] as string, { token: (await token()).token });

    assert.deepEqual(await denied.socket.emitWithAck('conversation:join', deniedConversation), { ok: false, error: 'forbidden' });
    assert.deepEqual(await denied.socket.emitWithAck('conversation:join', 'not-a-uuid'), { ok: false, error: 'invalid' });
    assert.deepEqual(await allowed.socket.emitWithAck('conversation:join', allowedConversation), { ok: true });

    const inDenied = message(tenantA, deniedConversation);
    await worker.emit({ tenantId: tenantA, conversationId: deniedConversation, userIds: [somebodyElse] }, 'message:new', inDenied);
    const inAllowed = message(tenantA, allowedConversation);
    await worker.emit({ tenantId: tenantA, conversationId: allowedConversation, userIds: [somebodyElse] }, 'message:new', inAllowed);
    await expectReceived([allowed], inAllowed.messageId);
    await sendSentinel([denied, allowed, bystander]);
    assert.equal(got(denied, inDenied.messageId), false);
    assert.equal(got(denied, inAllowed.messageId), false);
    assert.equal(got(bystander, inAllowed.messageId), false);

    assert.deepEqual(await allowed.socket.emitWithAck('conversation:leave', allowedConversation), { ok: true });
    const afterLeave = message(tenantA, allowedConversation);
    await worker.emit({ tenantId: tenantA, conversationId: allowedConversation, userIds: [somebodyElse] }, 'message:new', afterLeave);
    await sendSentinel([allowed]);
    assert.equal(got(allowed, afterLeave.messageId), false);
  });

  it('targets roles and users within the tenant, and never broadcasts an empty target', async () => {
    const manager = await connect(urls[0] as string, { token: (await token({ role: 'MANAGER' })).token });
    const attendantIdentity = await token({ role: 'ATTENDANT' });
    const attendant = await connect(urls[1] as string, { token: attendantIdentity.token });
    const otherManager = await connect(urls[1] as string, { token: (await token({ tenantId: tenantB, role: 'MANAGER' })).token });

    const forManagers = message(tenantA);
    await worker.emit({ tenantId: tenantA, roles: ['MANAGER'] }, 'message:new', forManagers);
    const forAttendant = message(tenantA);
    await worker.emit({ tenantId: tenantA, userIds: [attendantIdentity.userId] }, 'message:new', forAttendant);
    const forNobody = message(tenantA);
    await worker.emit({ tenantId: tenantA, userIds: [], roles: [] }, 'message:new', forNobody);
    const mismatched = message(tenantB);
    await worker.emit({ tenantId: tenantA }, 'message:new', mismatched);

    await expectReceived([manager], forManagers.messageId);
    await expectReceived([attendant], forAttendant.messageId);
    await sendSentinel([manager, attendant]);
    assert.equal(got(attendant, forManagers.messageId), false);
    assert.equal(got(otherManager, forManagers.messageId), false);
    assert.equal(got(manager, forAttendant.messageId), false);
    for (const c of [manager, attendant, otherManager]) {
      assert.equal(got(c, forNobody.messageId), false);
      assert.equal(got(c, mismatched.messageId), false);
    }
  });

  // Disconnect without letting the client reconnect on its own, so that events are emitted while
  // the server knows the socket is gone.
  async function dropConnection(client: Client, instance: Realtime) {
    const sid = client.socket.id as string;
    client.socket.io.reconnection(false);
    client.socket.io.engine.close();
    await waitFor(() => !instance.io.of('/').sockets.has(sid), 'the server to notice the disconnection');
  }

  it('replays what a client missed while briefly disconnected', async () => {
    const [one] = instances as [Realtime];
    const client = await connect(urls[0] as string, { token: (await token()).token });
    assert.deepEqual(await client.socket.emitWithAck('conversation:join', allowedConversation), { ok: true });
    // The client needs an offset: the last event it received.
    await sendSentinel([client]);

    await dropConnection(client, one);
    const missedTenant = message(tenantA);
    await worker.emit({ tenantId: tenantA }, 'message:new', missedTenant);
    const missedConversation = message(tenantA, allowedConversation);
    await worker.emit({ tenantId: tenantA, conversationId: allowedConversation, userIds: [] }, 'message:new', missedConversation);
    const otherTenant = message(tenantB);
    await worker.emit({ tenantId: tenantB }, 'message:new', otherTenant);

    client.socket.io.reconnection(true);
    client.socket.connect();
    await new Promise<void>((resolve) => client.socket.once('connect', () => resolve()));
    assert.equal(client.socket.recovered, true);
    await expectReceived([client], missedTenant.messageId);
    await expectReceived([client], missedConversation.messageId);
    await sendSentinel([client]);
    assert.equal(got(client, otherTenant.messageId), false);
    assert.equal(client.received.filter((r) => r.payload.messageId === missedTenant.messageId).length, 1);
  });

  it('recovers on the other instance', async () => {
    const [one] = instances as [Realtime];
    const identity = await token();
    const client = await connect(urls[0] as string, { token: identity.token });
    await sendSentinel([client]);
    const internals = client.socket as unknown as { _pid: string; _lastOffset: string };
    const { _pid: pid, _lastOffset: offset } = internals;
    await dropConnection(client, one);
    const probe = redis();
    await waitFor(async () => (await probe.exists(`${streamName}:session:${pid}`)) === 1, 'the session to be persisted');

    const missed = message(tenantA);
    await worker.emit({ tenantId: tenantA }, 'message:new', missed);
    const moved = await connect(urls[1] as string, { token: identity.token, pid, offset });
    await expectReceived([moved], missed.messageId);
  });

  it('does not replay anything to a session revoked while disconnected', async () => {
    const [one] = instances as [Realtime];
    const identity = await token();
    const client = await connect(urls[0] as string, { token: identity.token });
    await sendSentinel([client]);
    await dropConnection(client, one);

    await revocations.revoke(identity.sessionId);
    const missed = message(tenantA);
    await worker.emit({ tenantId: tenantA }, 'message:new', missed);

    const wire: string[] = [];
    client.socket.io.once('open', () => client.socket.io.engine.on('packet', (p: { data?: unknown }) => wire.push(String(p.data))));
    client.socket.connect();
    const err = await new Promise<Error & { data?: { code?: string } }>((resolve) => client.socket.once('connect_error', resolve));
    assert.equal(err.data?.code, 'session_revoked');
    assert.ok(wire.length > 0, 'packets were observed');
    assert.ok(!wire.some((p) => p.includes(missed.messageId)), 'the missed event never reached the wire');
  });

  it('runs in memory on a single instance without Redis, and the emitter is then a no-op', async () => {
    const memoryRevocations = new SessionRevocations(null, keyPrefix, 60);
    const { realtime, url } = await startInstance(null, memoryRevocations);
    const client = await connect(url, { token: (await token()).token });
    const local = message(tenantA);
    realtime.io.to(`role:${tenantA}:ATTENDANT`).emit('message:new', local);
    await expectReceived([client], local.messageId);
    await createRealtimeEmitter(null).emit({ tenantId: tenantA }, 'message:new', message(tenantA));

    const revoked = await token();
    const open = await connect(url, { token: revoked.token });
    await memoryRevocations.revoke(revoked.sessionId);
    await ended(open, 'revoked');
    assert.equal((await connectError(url, { token: revoked.token })).data?.code, 'session_revoked');
    assert.equal(client.socket.connected, true, 'another session is left alone');
  });

  // The server says why, then disconnects; a server-side disconnect is not reconnected by the client.
  async function ended(client: Client, reason: 'revoked' | 'expired', timeoutMs = 5_000) {
    await waitFor(() => !client.socket.connected, `the socket to be disconnected (${reason})`, timeoutMs);
    assert.deepEqual(
      client.received.filter((r) => r.event === 'session:ended').map((r) => r.payload),
      [{ reason }],
    );
  }

  it('disconnects the sockets of a revoked session on every instance, and only those', async () => {
    const [url1, url2] = urls as [string, string];
    const identity = await token();
    const onOne = await connect(url1, { token: identity.token });
    const onTwo = await connect(url2, { token: identity.token });
    const sameUserOtherSession = await connect(url2, { token: (await token({ sessionId: randomUUID() })).token });
    const disconnects: string[] = [];
    onTwo.socket.on('disconnect', (reason) => disconnects.push(reason));

    // Revoked through the first instance's store: the second learns it over Redis.
    await revocations.revoke(identity.sessionId);
    await ended(onOne, 'revoked');
    await ended(onTwo, 'revoked');
    assert.deepEqual(disconnects, ['io server disconnect']);
    assert.equal(sameUserOtherSession.socket.connected, true);
    const [one, two] = instances as [Realtime, Realtime];
    for (const instance of [one, two]) {
      for (const s of instance.io.of('/').sockets.values()) assert.notEqual(s.data.sessionId, identity.sessionId);
    }
  });

  it('finds a revocation whose announcement was lost, by looking sessions up', async () => {
    const { url } = await startInstance(redis(), new SessionRevocations(redis(), keyPrefix, 60), { sessionCheckMs: 200 });
    const identity = await token();
    const client = await connect(url, { token: identity.token });
    // Recorded the way SessionRevocations.revoke records it, but never published.
    await redis().set(`${keyPrefix}revoked-session:${identity.sessionId}`, '1', 'EX', 60);
    await ended(client, 'revoked');
  });

  it('closes this instance’s sockets at once when the revocation cannot reach Redis', async () => {
    const storeConnection = redis();
    const store = new SessionRevocations(storeConnection, keyPrefix, 60);
    // A session check far off: only the direct notice can close the socket in time.
    const { url } = await startInstance(redis(), store, { sessionCheckMs: 60_000 });
    const identity = await token();
    const client = await connect(url, { token: identity.token });
    storeConnection.disconnect();
    await store.revoke(identity.sessionId);
    assert.equal(store.pendingWrites, 1, 'the write waits for Redis');
    await ended(client, 'revoked');
  });

  it('disconnects a socket when its access token expires', async () => {
    const shortLived = await token({ ttlSeconds: 3 });
    const longLived = await connect(urls[1] as string, { token: (await token()).token });
    const client = await connect(urls[0] as string, { token: shortLived.token });
    const startedAt = Date.now();
    await ended(client, 'expired', 8_000);
    assert.ok(Date.now() - startedAt < 5_000, 'within seconds of the expiry');
    // Reconnecting with the same token is refused; the client refreshes it first.
    assert.equal((await connectError(urls[0] as string, { token: shortLived.token })).data?.code, 'token_expired');
    assert.equal(longLived.socket.connected, true);
  });

  it('keeps a socket open past its first token when the same session presents a refreshed one', async () => {
    const identity = await token({ ttlSeconds: 3 });
    const client = await connect(urls[0] as string, { token: identity.token });
    const same = { userId: identity.userId, tenantId: identity.tenantId, role: identity.role, sessionId: identity.sessionId };
    const otherSession = await tokens.sign({ ...same, sessionId: randomUUID() });
    assert.deepEqual(await client.socket.emitWithAck('session:refresh', otherSession.token), { ok: false, error: 'forbidden' });
    const promoted = await tokens.sign({ ...same, role: 'TENANT_ADMIN' });
    assert.deepEqual(await client.socket.emitWithAck('session:refresh', promoted.token), { ok: false, error: 'forbidden' });
    assert.deepEqual(await client.socket.emitWithAck('session:refresh', 'not-a-jwt'), { ok: false, error: 'invalid' });
    assert.deepEqual(await client.socket.emitWithAck('session:refresh', (await tokens.sign(same)).token), { ok: true });
    await sleep(4_000);
    assert.equal(client.socket.connected, true, 'still connected after the first token expired');
    await revocations.revoke(identity.sessionId);
    await ended(client, 'revoked');
  });

  it('fences events and joins by role, through user and conversation rooms too', async () => {
    const [url1, url2] = urls as [string, string];
    const salesIdentity = await token({ role: 'SALES' });
    const sales = await connect(url1, { token: salesIdentity.token });
    const finance = await connect(url2, { token: (await token({ role: 'FINANCE' })).token });
    const attendant = await connect(url2, { token: (await token({ role: 'ATTENDANT' })).token });
    // Sentinels on both instances: each reads the stream on its own.
    const attendantOnOne = await connect(url1, { token: (await token({ role: 'ATTENDANT' })).token });

    // canJoinConversation would say yes: the role alone refuses.
    assert.deepEqual(await sales.socket.emitWithAck('conversation:join', allowedConversation), { ok: false, error: 'forbidden' });
    assert.deepEqual(await finance.socket.emitWithAck('conversation:join', allowedConversation), { ok: false, error: 'forbidden' });
    assert.deepEqual(await attendant.socket.emitWithAck('conversation:join', allowedConversation), { ok: true });

    const toSalesUser = message(tenantA, allowedConversation);
    await worker.emit({ tenantId: tenantA, conversationId: allowedConversation, userIds: [salesIdentity.userId] }, 'message:new', toSalesUser);
    const tenantWide = message(tenantA);
    await worker.emit({ tenantId: tenantA }, 'message:new', tenantWide);
    const task = { tenantId: tenantA, taskId: randomUUID(), leadId: null, ownerId: salesIdentity.userId, kind: 'call', title: 'Ligar', status: 'open', dueAt: null };
    await worker.emit({ tenantId: tenantA, userIds: [salesIdentity.userId] }, 'task:new', task);
    const invoice = {
      tenantId: tenantA, invoiceId: randomUUID(), number: 1, contactId: randomUUID(), status: 'open' as const, amountCents: 100, paidCents: 0,
      amountDueTodayCents: 100, dueDate: '2026-12-10', dunningStage: null, updatedAt: new Date().toISOString(),
    };
    await worker.emit({ tenantId: tenantA }, 'invoice:updated', invoice);

    await waitFor(() => sales.received.some((r) => r.event === 'task:new'), 'the sales user to get its task');
    await waitFor(() => finance.received.some((r) => r.event === 'invoice:updated'), 'finance to get the invoice');
    await expectReceived([attendant], toSalesUser.messageId);
    await expectReceived([attendant], tenantWide.messageId);
    await sendSentinel([attendant, attendantOnOne]);
    assert.deepEqual(sales.received.map((r) => r.event), ['task:new']);
    assert.deepEqual(finance.received.map((r) => r.event), ['invoice:updated']);
    assert.equal(attendant.received.some((r) => r.event === 'task:new' || r.event === 'invoice:updated'), false);
  });

  it('swallows Redis failures in the emitter', async () => {
    const unreachable = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    unreachable.on('error', () => {});
    const warnings: string[] = [];
    const capture = createLogger('capture', 'warn', { write: (line: string) => void warnings.push(line) });
    await createRealtimeEmitter(unreachable, { streamName, log: capture, timeoutMs: 500 }).emit({ tenantId: tenantA }, 'message:new', message(tenantA));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /realtime event lost/);
    if (unreachable.status !== 'end') unreachable.disconnect();
  });
});
