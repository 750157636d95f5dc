import Router from '@koa/router';
import Koa from 'koa';
import { codecRouter } from './codec/routes';
import type { ApiDeps } from './deps';
import { jsonBody } from './middleware/json-body';
import { problemHandler } from './middleware/problem-handler';
import { requestContext } from './middleware/request-context';
import { buildOpenApi } from './openapi';
import { metricsRouter, opsRouter } from './ops/routes';
import { signingPageRouter } from './public-signing/page';
import { HttpProblem } from './problem';
import { API_PREFIX, apiRoutes } from './routes';
import { asaasWebhookRouter } from './webhooks/asaas-routes';
import { whatsappWebhookRouter } from './webhooks/whatsapp-routes';

export function buildApp(deps: ApiDeps, opts: { trustProxy?: boolean } = {}): Koa {
  // Koa reads every X-Forwarded-For entry by default, so a client could name its own address (and
  // escape the per-IP limits): only the entries our own proxies appended are trusted.
  const app = new Koa({
    proxy: opts.trustProxy || deps.config.TRUST_PROXY,
    maxIpsCount: deps.config.TRUST_PROXY_HOPS,
  });
  // Errors are answered by problemHandler; Koa's own handler would only print them again.
  app.silent = true;

  const api = new Router({ prefix: API_PREFIX });
  for (const r of apiRoutes) r.mount(api, deps);
  let openapi: object | undefined;
  const ops = opsRouter(deps, () => (openapi ??= buildOpenApi(apiRoutes, API_PREFIX)));

  app.use(requestContext(deps.log, deps.metrics));
  app.use(problemHandler());
  app.use(async (ctx, next) => {
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('cache-control', 'no-store');
    await next();
  });
  app.use(jsonBody(deps.config.BODY_LIMIT_BYTES, { prefix: '/webhooks/', limitBytes: deps.config.WHATSAPP_WEBHOOK_BODY_LIMIT_BYTES }));
  app.use(ops.routes());
  const webhooks = whatsappWebhookRouter(deps);
  app.use(webhooks.routes());
  app.use(webhooks.allowedMethods());
  const gatewayWebhooks = asaasWebhookRouter(deps);
  app.use(gatewayWebhooks.routes());
  app.use(gatewayWebhooks.allowedMethods());
  app.use(signingPageRouter(deps).routes());
  app.use(codecRouter(deps).routes());
  app.use(api.routes());
  app.use(
    api.allowedMethods({
      throw: true,
      methodNotAllowed: () => new HttpProblem(405, 'Method Not Allowed', 'Método não permitido para esta rota.'),
      notImplemented: () => new HttpProblem(501, 'Not Implemented', 'Método não suportado.'),
    }),
  );
  return app;
}

// The internal port's app (METRICS_HOST:METRICS_PORT): /metrics and nothing else.
export function buildMetricsApp(deps: ApiDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(problemHandler());
  app.use(metricsRouter(deps).routes());
  return app;
}
