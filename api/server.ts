import { createServer, type Server } from 'node:http';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { buildApp } from './app';
import { closeApiDeps, createApiDeps } from './create-deps';
import { conversationAccess } from './realtime/conversation-access';
import { attachRealtime } from './realtime/socket-server';
import { realtimeStreamName } from '../infra/realtime-emitter';

async function main() {
  const config = loadConfig();
  const log = createLogger('api', config.LOG_LEVEL);
  const deps = createApiDeps(config, log);
  const app = buildApp(deps, { trustProxy: process.env.TRUST_PROXY === 'true' });
  const server: Server = createServer(app.callback());
  const realtime = await attachRealtime(server, {
    accessTokens: deps.accessTokens,
    revocations: deps.revocations,
    redis: deps.redis,
    log,
    canJoinConversation: conversationAccess(deps.knex),
    streamName: realtimeStreamName(config.REDIS_KEY_PREFIX),
    corsOrigin: config.SOCKET_CORS_ORIGIN ? config.SOCKET_CORS_ORIGIN.split(',').map((o) => o.trim()) : undefined,
  });
  server.listen(config.PORT, config.HOST, () => {
    log.info({ port: config.PORT, host: config.HOST }, 'api listening');
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'api stopping');
    void realtime.close().finally(() =>
      server.close(() => {
        void closeApiDeps(deps).finally(() => process.exit(0));
      }),
    );
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
