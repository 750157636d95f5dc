import { createServer, type Server } from 'node:http';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { registerSearchAttributes } from '../infra/temporal';
import { buildApp, buildMetricsApp } from './app';
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
  // Metrics on the internal address only. Not being able to serve them is no reason to refuse
  // traffic: logged, and the API runs on.
  const metricsServer: Server = createServer(buildMetricsApp(deps).callback());
  metricsServer.on('error', (err) => log.error({ err: err.message, host: config.METRICS_HOST, port: config.METRICS_PORT }, 'metrics server could not listen; /metrics is unavailable'));
  metricsServer.listen(config.METRICS_PORT, config.METRICS_HOST, () => {
    log.info({ port: config.METRICS_PORT, host: config.METRICS_HOST }, 'metrics listening');
  });

  // Exit 0 only after an orderly stop. A stop that had to be forced (the grace time ran out with
  // requests still open, or a second signal) exits 1, so a supervisor can tell the two apart.
  let stoppingSince = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // The same request twice (npm and the terminal both forward a Ctrl-C) is not impatience.
      if (Date.now() - stoppingSince < 1_000) return;
      log.warn({ signal }, 'second stop signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal, graceMs: config.API_SHUTDOWN_GRACE_MS }, 'api stopping');
    registering.abort();
    metricsServer.close();
    metricsServer.closeAllConnections();
    void realtime.close().finally(() =>
      server.close(() => {
        void closeApiDeps(deps).finally(() => process.exit(0));
      }),
    );
    server.closeIdleConnections();
    setTimeout(() => {
      log.warn({ graceMs: config.API_SHUTDOWN_GRACE_MS }, 'requests still open at the end of the shutdown grace time; exiting');
      process.exit(1);
    }, config.API_SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
