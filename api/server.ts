import { createServer, type Server } from 'node:http';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { buildApp } from './app';
import { closeApiDeps, createApiDeps } from './create-deps';
import { attachApiRealtime } from './realtime/attach-api-realtime';

async function main() {
  const config = loadConfig();
  const log = createLogger('api', config.LOG_LEVEL);
  const deps = createApiDeps(config, log);
  const app = buildApp(deps, { trustProxy: process.env.TRUST_PROXY === 'true' });
  const server: Server = createServer(app.callback());
  const realtime = await attachApiRealtime(server, deps);
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
