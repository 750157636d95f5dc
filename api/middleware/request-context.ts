import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from '../../infra/logger';
import type { HttpMetrics } from '../metrics';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Gives every request an id (the caller's, when it sends a sane one), a child logger carrying
// it, an access log line and the HTTP metrics.
export function requestContext(log: Logger, metrics: HttpMetrics): Koa.Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = CLIENT_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('x-request-id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The route template, never the raw path: ids in paths would make a metric label per id.
      const route = (ctx.state.routePath as string | undefined) ?? 'unmatched';
      metrics.observe(ctx.method, route, ctx.status, seconds);
      ctx.state.log.info(
        { method: ctx.method, path: ctx.path, route, status: ctx.status, ms: Math.round(seconds * 1000), ip: ctx.ip },
        'request',
      );
    }
  };
}
