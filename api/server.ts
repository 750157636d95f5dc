import { createServer, type Server } from 'node:http';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { registerSearchAttributes } from '../infra/temporal';
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
  // Starts carry the custom search attributes; on an existing cluster the API may be the first to
  // need them. In the background: the API answers (and /ready says 503) while Temporal comes up.
  const registering = new AbortController();
  void registerSearchAttributes(deps.temporal.connection, config.TEMPORAL_NAMESPACE, log, { signal: registering.signal });
  server.listen(config.PORT, config.HOST, () => {
    log.info({ port: config.PORT, host: config.HOST }, 'api listening');
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'api stopping');
    registering.abort();
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
