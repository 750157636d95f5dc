import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type Redis from 'ioredis';
import { decodeJwt } from 'jose';
import { Server, type Namespace, type Socket } from 'socket.io';
import {
  conversationRoom,
  isConversationRoom,
  roleRoom,
  tenantRoom,
  userRoom,
  type RealtimeClientToServerEvents,
  type RealtimeServerToClientEvents,
  type RoomAck,
} from '../../domain/realtime-events';
import type { Role } from '../../domain/roles';
import type { Logger } from '../../infra/logger';
import { DEFAULT_REALTIME_STREAM, DEFAULT_REALTIME_STREAM_MAXLEN } from '../../infra/realtime-emitter';
import type { SessionRevocations } from '../../infra/session-revocations';
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
    pub = opts.redis.duplicate();
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

  io.on('connection', (socket) => {
    const { tenantId, userId, role } = socket.data;
    // A platform admin has no tenant: connected, but in no room a tenant event can reach.
    if (tenantId) void socket.join([tenantRoom(tenantId), userRoom(userId), roleRoom(tenantId, role)]);

    socket.on('conversation:join', (conversationId, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      joinConversation(socket, conversationId, opts).then(reply, (err: unknown) => {
        log.warn({ err: (err as Error)?.message }, 'realtime conversation join failed');
        reply({ ok: false, error: 'unavailable' });
      });
    });

    socket.on('conversation:leave', (conversationId, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (typeof conversationId !== 'string' || !UUID.test(conversationId)) return reply({ ok: false, error: 'invalid' });
      void socket.leave(conversationRoom(conversationId));
      reply({ ok: true });
    });
  });

  if (pub) await waitUntilReadingStream(nsp.adapter, pub, streamName, opts.readyTimeoutMs ?? 5_000, log);

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Engine first: clients see a transport close, reconnect (to another instance) and recover,
    // because their sessions are persisted while the adapter's Redis connection is still open.
    io.engine.close();
    await waitUntil(() => nsp.sockets.size === 0, 2_000);
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

async function joinConversation(socket: RealtimeSocket, conversationId: unknown, opts: RealtimeOptions): Promise<RoomAck> {
  const { tenantId } = socket.data;
  if (typeof conversationId !== 'string' || !UUID.test(conversationId)) return { ok: false, error: 'invalid' };
  if (!tenantId) return { ok: false, error: 'forbidden' };
  const room = conversationRoom(conversationId);
  if (socket.rooms.has(room)) return { ok: true };
  if ([...socket.rooms].filter(isConversationRoom).length >= MAX_CONVERSATION_ROOMS) return { ok: false, error: 'limit' };
  if (!(await opts.canJoinConversation(tenantId, conversationId))) return { ok: false, error: 'forbidden' };
  if (!socket.connected) return { ok: false, error: 'unavailable' };
  await socket.join(room);
  return { ok: true };
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
