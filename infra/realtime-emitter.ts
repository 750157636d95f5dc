import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import {
  conversationRoom,
  eventAudience,
  roleRoom,
  userRoom,
  type RealtimeEventName,
  type RealtimeEvents,
} from '../domain/realtime-events';
import { TENANT_ROLES, type Role } from '../domain/roles';
import type { Logger } from './logger';

// Workers have no Socket.io server, yet their events must reach every API instance and be
// replayable to a client that reconnects. The API runs @socket.io/redis-streams-adapter, which
// reads every broadcast from one Redis stream and replays that stream for connection-state
// recovery; so a worker only has to XADD an entry exactly as the adapter itself would.
// @socket.io/redis-streams-emitter does this but is not in our registry: this is the subset we
// need (broadcast of a JSON event to rooms), pinned to the entry format of adapter 0.3.x
// (node_modules/@socket.io/redis-streams-adapter/dist/adapter.js, `encode` / `decode`):
//   XADD <stream> MAXLEN ~ <maxLen> * uid <sender> nsp / type 3 data <JSON {packet, opts}>
// `data` is msgpack+base64 only when the packet holds binary; our payloads are plain JSON, and
// the adapter takes any `data` that starts with "{" as JSON. test/realtime/socket.test.ts checks
// live delivery on two instances and replay after a reconnection through this format.

export function realtimeStreamName(keyPrefix: string): string {
  return `${keyPrefix}realtime`;
}
export const DEFAULT_REALTIME_STREAM = realtimeStreamName('orq:');
// The adapter's default; the same bound on both sides keeps replay as deep as the API expects.
export const DEFAULT_REALTIME_STREAM_MAXLEN = 10_000;
// socket.io-adapter's ClusterAdapter MessageType.BROADCAST and socket.io-parser's PacketType.EVENT.
const BROADCAST_MESSAGE_TYPE = '3';
const EVENT_PACKET_TYPE = 2;
const NAMESPACE = '/';

export interface RealtimeTarget {
  tenantId: string;
  conversationId?: string;
  // Either given, even empty, replaces the tenant-wide default (the event's audience).
  userIds?: readonly string[];
  roles?: readonly Role[];
}

export interface RealtimeEmitter {
  emit<E extends RealtimeEventName>(target: RealtimeTarget, event: E, payload: RealtimeEvents[E]): Promise<void>;
}

export interface RealtimeEmitterOptions {
  streamName?: string;
  maxLen?: number;
  // A notification is worth less than the caller's work: past this, give up (the REST resync
  // covers it) rather than hold an activity while Redis reconnects.
  timeoutMs?: number;
  log?: Logger;
}

export interface BroadcastRooms {
  rooms: string[];
  except: string[];
}

// Where an event goes: the union of `rooms` (socket.io delivers once per socket however many of
// them it is in) less every socket in an `except` room. The tenant-wide default is the role rooms
// of the event's audience; named roles outside the audience are dropped; and the rooms of every
// other role are excluded, so a named user or a conversation's followers receive the event only
// if their role may read it (domain/realtime-events.ts, eventAudience).
export function broadcastRooms(target: RealtimeTarget, event: RealtimeEventName): BroadcastRooms {
  const audience: readonly Role[] = eventAudience(event);
  const rooms = new Set<string>();
  if (target.userIds === undefined && target.roles === undefined) {
    for (const role of audience) rooms.add(roleRoom(target.tenantId, role));
  } else {
    for (const userId of target.userIds ?? []) rooms.add(userRoom(target.tenantId, userId));
    for (const role of target.roles ?? []) if (audience.includes(role)) rooms.add(roleRoom(target.tenantId, role));
  }
  if (target.conversationId) rooms.add(conversationRoom(target.tenantId, target.conversationId));
  const except = TENANT_ROLES.filter((role) => !audience.includes(role)).map((role) => roleRoom(target.tenantId, role));
  return { rooms: [...rooms], except };
}

export function createRealtimeEmitter(redis: Redis | null, opts: RealtimeEmitterOptions = {}): RealtimeEmitter {
  if (!redis) return { emit: async () => {} };
  const streamName = opts.streamName ?? DEFAULT_REALTIME_STREAM;
  const maxLen = opts.maxLen ?? DEFAULT_REALTIME_STREAM_MAXLEN;
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const log = opts.log;
  // The adapter drops entries whose uid is its own; any other value is only used for that check.
  const uid = `emitter-${randomUUID()}`;

  return {
    async emit(target, event, payload) {
      const context = { event, tenantId: target.tenantId, conversationId: target.conversationId };
      if (!target.tenantId || (payload as { tenantId?: unknown }).tenantId !== target.tenantId) {
        log?.error(context, 'realtime event dropped: payload tenant differs from target tenant');
        return;
      }
      const { rooms, except } = broadcastRooms(target, event);
      // An empty room list means "every socket on every instance", across tenants.
      if (rooms.length === 0) return;
      let data: string;
      try {
        data = JSON.stringify({
          packet: { type: EVENT_PACKET_TYPE, data: [event, payload], nsp: NAMESPACE },
          opts: { rooms, except, flags: {} },
        });
      } catch (err) {
        log?.error({ ...context, err: (err as Error).message }, 'realtime event dropped: payload is not JSON');
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          redis.xadd(streamName, 'MAXLEN', '~', maxLen, '*', 'uid', uid, 'nsp', NAMESPACE, 'type', BROADCAST_MESSAGE_TYPE, 'data', data),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`XADD timed out after ${timeoutMs} ms`)), timeoutMs);
            timer.unref();
          }),
        ]);
      } catch (err) {
        log?.warn({ ...context, err: (err as Error).message }, 'realtime event lost: Redis unavailable');
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
