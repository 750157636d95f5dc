import type { Server } from 'node:http';
import { realtimeStreamName } from '../../infra/realtime-emitter';
import type { ApiDeps } from '../deps';
import { conversationAccess } from './conversation-access';
import { attachRealtime, type Realtime } from './socket-server';

// The API's Socket.io server, configured from the same dependencies as its routes.
export function attachApiRealtime(server: Server, deps: ApiDeps): Promise<Realtime> {
  const origins = deps.config.SOCKET_CORS_ORIGIN;
  return attachRealtime(server, {
    accessTokens: deps.accessTokens,
    revocations: deps.revocations,
    redis: deps.redis,
    log: deps.log,
    canJoinConversation: conversationAccess(deps.knex),
    streamName: realtimeStreamName(deps.config.REDIS_KEY_PREFIX),
    corsOrigin: origins ? origins.split(',').map((o) => o.trim()) : undefined,
  });
}
