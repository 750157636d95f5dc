import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type Redis from 'ioredis';
import { decodeJwt } from 'jose';
import { Server, type Namespace, type Socket } from 'socket.io';
import {
  conversationRoom,
  isConversationRoom,
  mayJoinConversation,
  roleRoom,
  userRoom,
  type RealtimeClientToServerEvents,
  type RealtimeServerToClientEvents,
  type RoomAck,
} from '../../domain/realtime-events';
import type { Role } from '../../domain/roles';
import type { Logger } from '../../infra/logger';
import { DEFAULT_REALTIME_STREAM, DEFAULT_REALTIME_STREAM_MAXLEN } from '../../infra/realtime-emitter';
import { forBlocking } from '../../infra/redis';
import type { RevocationSubscription, SessionRevocations } from '../../infra/session-revocations';
import type { AccessTokens } from '../auth/tokens';
import { HttpProblem } from '../problem';

// Why the Redis *Streams* adapter rather than @socket.io/redis-adapter + redis-emitter (pub/sub):
// pub/sub drops every broadcast published while an instance is disconnected from Redis and cannot
// do connection-state recovery, so a dashboard that blinks (deploy, Wi-Fi, Redis failover) would
// always need a REST resync. The streams adapter reads from a stream at its last offset, so it
// resumes after a Redis blip without loss, and replays what a reconnecting client missed (up to
// RECOVERY_WINDOW_MS). Workers reach it with the hand-written XADD emitter in
// infra/realtime-emitter.ts. The REST resync stays the fallback when recovery fails
// (`socket.recovered === false`).
//
// Transports: websocket and long-polling. With several API instances, long-polling needs sticky
// sessions at the load balancer (each poll must reach the instance holding the engine.io
// session); without them, clients must use `transports: ['websocket']`.

export const RECOVERY_WINDOW_MS = 2 * 60 * 1000;
// Dashboards open a handful of conversations; the cap bounds what one socket can make us hold.
const MAX_CONVERSATION_ROOMS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// setTimeout's ceiling; a later expiry is re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RealtimeSocketData {
  userId: string;
  tenantId: string | null;
  role: Role;
  sessionId: string;
  // Token expiry (Unix seconds): a session may only be recovered while its token was valid.
  expiresAt: number;
}

export type RealtimeServer = Server<RealtimeClientToServerEvents, RealtimeServerToClientEvents, Record<string, never>, RealtimeSocketData>;
type RealtimeSocket = Socket<RealtimeClientToServerEvents, RealtimeServerToClientEvents, Record<string, never>, RealtimeSocketData>;
type RealtimeAdapter = Namespace['adapter'];

export interface RealtimeOptions {
  accessTokens: AccessTokens;
  revocations: SessionRevocations;
  // Main connection; the adapter gets duplicates of its own (it blocks on XREAD and subscribes).
  redis: Redis | null;
  log: Logger;
  canJoinConversation(tenantId: string, conversationId: string): Promise<boolean>;
  streamName?: string;
  corsOrigin?: string | string[];
  // How long attachRealtime waits for this instance to be reading the stream before giving up.
  readyTimeoutMs?: number;
  // How often open sockets' sessions are looked up, for a revocation whose announcement was lost.
  sessionCheckMs?: number;
}

export interface Realtime {
  io: RealtimeServer;
  // Closes sockets (clients reconnect elsewhere and recover), the adapter and its Redis
  // connections; leaves the http server to its owner. Call it before httpServer.close(), which
  // otherwise waits for the upgraded websocket connections.
  close(): Promise<void>;
}

type ConnectError = Error & { data: { code: string; retryable: boolean } };

function connectError(code: string, message: string, retryable = false): ConnectError {
  return Object.assign(new Error(message), { data: { code, retryable } });
}

function tokenExpiry(token: string): number | undefined {
  try {
    return decodeJwt(token).exp;
  } catch {
    return undefined;
  }
}

export async function attachRealtime(httpServer: http.Server, opts: RealtimeOptions): Promise<Realtime> {
  const log = opts.log.child({ component: 'realtime' });
  const streamName = opts.streamName ?? DEFAULT_REALTIME_STREAM;
  const owned: Redis[] = [];

  let pub: Redis | undefined;
  let adapter: ReturnType<typeof createAdapter> | undefined;
  if (opts.redis) {
    // The adapter's stream reader is a duplicate of this one and blocks on XREAD.
    pub = forBlocking(opts.redis);
    owned.push(pub);
    let lastError = '';
    pub.on('error', (err: Error) => {
      if (err.message !== lastError) log.error({ err: err.message }, 'realtime redis error');
      lastError = err.message;
    });
    pub.on('ready', () => (lastError = ''));
    // The adapter keeps its reader and subscriber (duplicates of this client) to itself; close()
    // needs them to know when they are gone and to end any that lingers.
    const duplicate = pub.duplicate.bind(pub);
    pub.duplicate = ((override) => {
      const client = duplicate(override);
      owned.push(client);
      // Same for the subscriber the adapter creates from this client.
      markHandled(client, ['subscribe', 'ssubscribe']);
      return client;
    }) as Redis['duplicate'];
    // The adapter persists sessions (SET) and sends heartbeats (XADD/PUBLISH) without awaiting or
    // catching them: during a Redis outage each would be an unhandled rejection, which ends the
    // process. Marking them handled here still lets any caller that awaits see the error.
    const markHandled = (client: Redis, commands: readonly string[]) => {
      for (const command of commands) {
        const original = ((client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[command] as (...args: unknown[]) => Promise<unknown>).bind(client);
        (client as unknown as Record<string, unknown>)[command] = (...args: unknown[]) => {
          const result = original(...args);
          result.catch((err: Error) => log.warn({ err: err.message, command }, 'realtime redis command failed'));
          return result;
        };
      }
    };
    markHandled(pub, ['set', 'xadd', 'publish', 'spublish']);
    adapter = createAdapter(pub, {
      streamName,
      maxLen: DEFAULT_REALTIME_STREAM_MAXLEN,
      // Derived from the stream so that environments sharing a Redis (and test runs) stay apart.
      channelPrefix: streamName,
      sessionKeyPrefix: `${streamName}:session:`,
      // Events are plain JSON by contract (domain/realtime-events.ts), as the worker emitter writes them.
      onlyPlaintext: true,
    });
  }

  const io: RealtimeServer = new Server(httpServer, {
    path: '/socket.io',
    serveClient: false,
    transports: ['polling', 'websocket'],
    // Clients only send room joins; anything large is not ours.
    maxHttpBufferSize: 16 * 1024,
    // Also on in single-instance mode, where socket.io keeps sessions and packets in memory.
    // skipMiddlewares: false makes a recovered connection present a valid token again.
    connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: false },
    ...(adapter ? { adapter } : {}),
    ...(opts.corsOrigin ? { cors: { origin: opts.corsOrigin } } : {}),
  });
  const nsp = io.of('/');
  guardSessionRestore(nsp.adapter, opts.revocations, log);

  io.use((socket, next) => {
    authenticate(socket, opts).then(
      () => next(),
      (err: unknown) => {
        if (err instanceof Error && 'data' in err) return next(err);
        log.warn({ err: (err as Error)?.message }, 'realtime handshake failed');
        next(connectError('unavailable', 'Serviço temporariamente indisponível. Tente novamente.', true));
      },
    );
  });

  const sessions = watchSessions(nsp, opts, log);

  io.on('connection', (socket) => {
    const { tenantId, userId, role } = socket.data;
    // A platform admin has no tenant: connected, but in no room a tenant event can reach. The
    // role room also fences off what the role may not read (infra/realtime-emitter.ts).
    if (tenantId) void socket.join([userRoom(tenantId, userId), roleRoom(tenantId, role)]);
    sessions.track(socket);

    socket.on('conversation:join', (conversationId, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      joinConversation(socket, conversationId, opts).then(reply, (err: unknown) => {
        log.warn({ err: (err as Error)?.message }, 'realtime conversation join failed');
        reply({ ok: false, error: 'unavailable' });
      });
    });

    socket.on('session:refresh', (token, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      refreshSession(socket, token, opts).then(
        (result) => {
          if (result.ok) sessions.track(socket);
          reply(result);
        },
        (err: unknown) => {
          log.warn({ err: (err as Error)?.message }, 'realtime session refresh failed');
          reply({ ok: false, error: 'unavailable' });
        },
      );
    });

    socket.on('conversation:leave', (conversationId, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (typeof conversationId !== 'string' || !UUID.test(conversationId)) return reply({ ok: false, error: 'invalid' });
      if (socket.data.tenantId) void socket.leave(conversationRoom(socket.data.tenantId, conversationId));
      reply({ ok: true });
    });
  });

  if (pub) await waitUntilReadingStream(nsp.adapter, pub, streamName, opts.readyTimeoutMs ?? 5_000, log);
  await sessions.ready(opts.readyTimeoutMs ?? 5_000);

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Engine first: clients see a transport close, reconnect (to another instance) and recover,
    // because their sessions are persisted while the adapter's Redis connection is still open.
    io.engine.close();
    await waitUntil(() => nsp.sockets.size === 0, 2_000);
    await sessions.close();
    // Stops the stream reader and disconnects the adapter's subscriber.
    await nsp.adapter.close();
    if (!pub) return;
    const adapterClients = owned.filter((client) => client !== pub);
    // The reader notices only when its blocking XREAD returns (up to 5 s). An entry without a
    // namespace wakes it, and every instance skips it. Disconnecting the reader ourselves would
    // make the adapter disconnect it a second time, which leaves a 2 s ioredis timer behind.
    await withTimeout(pub.xadd(streamName, 'MAXLEN', '~', DEFAULT_REALTIME_STREAM_MAXLEN, '*', 'wake', '1'), 500).catch(() => {});
    await waitUntil(() => adapterClients.every((client) => client.status === 'end'), 1_000);
    for (const client of adapterClients) if (client.status !== 'end') client.disconnect();
    await withTimeout(pub.quit(), 1_000).catch(() => pub.disconnect());
  };
  return { io, close: () => (closing ??= close()) };
}

async function authenticate(socket: RealtimeSocket, opts: RealtimeOptions): Promise<void> {
  const token: unknown = socket.handshake.auth?.token;
  if (typeof token !== 'string' || token.length === 0) throw connectError('token_missing', 'Autenticação necessária.');
  if (token.length > 4096) throw connectError('token_invalid', 'Token de acesso inválido.');
  let claims;
  try {
    claims = await opts.accessTokens.verify(token);
  } catch (err) {
    if (!(err instanceof HttpProblem)) throw err;
    const exp = tokenExpiry(token);
    const expired = exp !== undefined && exp * 1000 <= Date.now();
    throw connectError(expired ? 'token_expired' : 'token_invalid', err.detail ?? err.title);
  }
  // Mirrors the users table: SUPER_ADMIN and only SUPER_ADMIN has no tenant.
  if ((claims.role === 'SUPER_ADMIN') !== (claims.tenantId === null)) {
    throw connectError('token_invalid', 'Token de acesso inválido.');
  }
  if (await opts.revocations.isRevoked(claims.sessionId)) {
    throw connectError('session_revoked', 'Sessão encerrada. Faça login novamente.');
  }
  const data: RealtimeSocketData = { ...claims, expiresAt: tokenExpiry(token) ?? 0 };
  // A recovered socket comes back in the rooms of the identity it had; the same client may now
  // present another user's token (logout + login within the recovery window).
  if (socket.recovered) {
    const previous = socket.data as Partial<RealtimeSocketData> | undefined;
    if (previous?.userId !== data.userId || previous?.tenantId !== data.tenantId || previous?.role !== data.role) {
      for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
    }
  }
  socket.data = data;
}

// Only a token of the very session and identity the socket has: anything else needs a new connection.
async function refreshSession(socket: RealtimeSocket, token: unknown, opts: RealtimeOptions): Promise<RoomAck> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return { ok: false, error: 'invalid' };
  let claims;
  try {
    claims = await opts.accessTokens.verify(token);
  } catch (err) {
    if (err instanceof HttpProblem) return { ok: false, error: 'invalid' };
    throw err;
  }
  const current = socket.data;
  const same = claims.sessionId === current.sessionId && claims.userId === current.userId && claims.tenantId === current.tenantId && claims.role === current.role;
  if (!same) return { ok: false, error: 'forbidden' };
  if (await opts.revocations.isRevoked(claims.sessionId)) return { ok: false, error: 'forbidden' };
  const expiresAt = tokenExpiry(token) ?? 0;
  if (!socket.connected) return { ok: false, error: 'unavailable' };
  if (expiresAt > current.expiresAt) socket.data = { ...current, expiresAt };
  return { ok: true };
}

async function joinConversation(socket: RealtimeSocket, conversationId: unknown, opts: RealtimeOptions): Promise<RoomAck> {
  const { tenantId } = socket.data;
  if (typeof conversationId !== 'string' || !UUID.test(conversationId)) return { ok: false, error: 'invalid' };
  if (!tenantId || !mayJoinConversation(socket.data.role)) return { ok: false, error: 'forbidden' };
  const room = conversationRoom(tenantId, conversationId);
  if (socket.rooms.has(room)) return { ok: true };
  if ([...socket.rooms].filter(isConversationRoom).length >= MAX_CONVERSATION_ROOMS) return { ok: false, error: 'limit' };
  if (!(await opts.canJoinConversation(tenantId, conversationId))) return { ok: false, error: 'forbidden' };
  if (!socket.connected) return { ok: false, error: 'unavailable' };
  await socket.join(room);
  return { ok: true };
}

interface SessionWatch {
  track(socket: RealtimeSocket): void;
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

// A socket lives no longer than its session: it is disconnected when its access token expires,
// and when its session is revoked (logout, refresh-token reuse, deactivation, a new role or
// password), announced by SessionRevocations on every instance. A periodic look-up catches a
// revocation whose announcement was lost (Redis blip, a subscriber reconnecting).
function watchSessions(nsp: RealtimeServer['sockets'], opts: RealtimeOptions, log: Logger): SessionWatch {
  const expiryTimers = new Map<string, NodeJS.Timeout>();

  const end = (socket: RealtimeSocket, reason: 'expired' | 'revoked') => {
    if (!socket.connected) return;
    log.debug({ userId: socket.data.userId, reason }, 'realtime session ended');
    // Written at once: socket.emit goes through the adapter (for recovery) and would reach the
    // wire only after the disconnect below.
    nsp.local.to(socket.id).emit('session:ended', { reason });
    // Closes the connection too; a server-side disconnect is not kept for recovery.
    socket.disconnect(true);
  };

  const armExpiry = (socket: RealtimeSocket) => {
    clearTimeout(expiryTimers.get(socket.id));
    const ms = socket.data.expiresAt * 1000 - Date.now();
    if (ms <= 0) return end(socket, 'expired');
    const timer = setTimeout(() => armExpiry(socket), Math.min(ms, MAX_TIMER_MS));
    timer.unref();
    expiryTimers.set(socket.id, timer);
  };

  const endRevoked = (sessionId: string) => {
    for (const socket of nsp.sockets.values()) if (socket.data.sessionId === sessionId) end(socket, 'revoked');
  };

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const ids = [...new Set([...nsp.sockets.values()].map((s) => s.data.sessionId))];
      // In chunks: one look-up per session, without a burst of thousands at once.
      for (let i = 0; i < ids.length; i += 100) {
        const chunk = ids.slice(i, i + 100);
        const revoked = await Promise.all(chunk.map((id) => opts.revocations.isRevoked(id)));
        chunk.forEach((id, k) => revoked[k] && endRevoked(id));
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'realtime session check failed');
    } finally {
      sweeping = false;
    }
  };

  let lastError = '';
  const subscription: RevocationSubscription = opts.revocations.subscribe({
    onRevoked: endRevoked,
    onGap: () => void sweep(),
    onError: (err) => {
      if (err.message !== lastError) log.warn({ err: err.message }, 'realtime revocation subscriber error');
      lastError = err.message;
    },
  });
  const interval = setInterval(() => void sweep(), opts.sessionCheckMs ?? 10_000);
  interval.unref();

  return {
    // Again after a refresh: re-arms the expiry.
    track(socket) {
      const tracked = expiryTimers.has(socket.id);
      armExpiry(socket);
      if (tracked) return;
      socket.once('disconnect', () => {
        clearTimeout(expiryTimers.get(socket.id));
        expiryTimers.delete(socket.id);
      });
    },
    async ready(timeoutMs) {
      await withTimeout(subscription.ready, timeoutMs).catch(() => {
        log.warn({ timeoutMs }, 'realtime: not subscribed to session revocations yet; revoked sessions are found by the periodic check until it is');
      });
      // A session revoked before the subscription held.
      await sweep();
    },
    async close() {
      clearInterval(interval);
      for (const timer of expiryTimers.values()) clearTimeout(timer);
      expiryTimers.clear();
      await subscription.close();
    },
  };
}

// socket.io restores a session (rooms, and the packets it missed, written to the wire at once)
// *before* running the middlewares, so a revoked or expired session would still be handed
// everything it missed before its token is refused. The session's own credentials are checked
// here first; the middleware then checks the token presented now.
function guardSessionRestore(adapter: RealtimeAdapter, revocations: SessionRevocations, log: Logger) {
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    const session = await restore(pid, offset);
    if (!session) return session;
    const data = session.data as Partial<RealtimeSocketData> | undefined;
    if (typeof data?.sessionId !== 'string' || typeof data.expiresAt !== 'number' || data.expiresAt * 1000 <= Date.now()) {
      throw new Error('session credentials expired');
    }
    if (await revocations.isRevoked(data.sessionId)) {
      log.debug({ userId: data.userId }, 'realtime recovery refused: session revoked');
      throw new Error('session revoked');
    }
    return session;
  };
}

interface RawStreamEntry {
  uid: string;
  nsp: string;
  type: string;
  data?: string;
}
type StreamReader = { onRawMessage?: (raw: RawStreamEntry, offset: string) => unknown };

// The adapter starts reading the stream at "$" and stays there until it reads a first entry:
// entries added before its first XREAD, or between two empty XREADs, are never seen. Writing
// probe entries until one comes back moves it onto a concrete offset, after which nothing is
// skipped, and tells us this instance receives what workers emit from now on. Probes carry no
// broadcast type, so other instances and session replay ignore them.
async function waitUntilReadingStream(adapter: RealtimeAdapter, pub: Redis, streamName: string, timeoutMs: number, log: Logger) {
  const reader = adapter as unknown as StreamReader;
  const onRawMessage = reader.onRawMessage;
  if (typeof onRawMessage !== 'function') {
    log.warn('realtime adapter has no onRawMessage: cannot confirm it reads the stream');
    return;
  }
  const probeUid = `probe-${randomUUID()}`;
  let seen = false;
  reader.onRawMessage = (raw, offset) => {
    if (raw.uid === probeUid) {
      seen = true;
      return;
    }
    return onRawMessage.call(adapter, raw, offset);
  };
  const deadline = Date.now() + timeoutMs;
  try {
    while (!seen && Date.now() < deadline) {
      pub
        .xadd(streamName, 'MAXLEN', '~', DEFAULT_REALTIME_STREAM_MAXLEN, '*', 'uid', probeUid, 'nsp', '/', 'type', '0')
        .catch(() => {});
      const until = Math.min(Date.now() + 100, deadline);
      while (!seen && Date.now() < until) await sleep(5);
    }
  } finally {
    if (!seen) log.warn({ streamName, timeoutMs }, 'realtime: not reading the Redis stream yet; worker events may be missed until it does');
    // Probes still in flight reach the adapter's own handler, which ignores an unknown type.
    reader.onRawMessage = onRawMessage;
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(done: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(5);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
