import type Koa from 'koa';
import { HttpProblem } from '../problem';
import { TemporalRefused } from '../workflow-calls';

// Turns every failure into application/problem+json. Anything not an HttpProblem is our bug:
// logged with its stack, answered 500 without internals.
export function problemHandler(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem(404, 'Not Found', `Rota não encontrada: ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500 && !(err instanceof HttpProblem)) {
        ctx.state.log?.error({ err }, problem.status === 503 ? 'dependency unavailable' : 'unhandled error');
      }
      if (err instanceof TemporalRefused) {
        ctx.state.log?.error({ grpcCode: err.grpcCode, temporal: err.temporalMessage }, 'Temporal refused the call: check its configuration (search attributes, namespace, permissions)');
      }
      for (const [k, v] of Object.entries(problem.extra.headers ?? {})) ctx.set(k, v);
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      ctx.body = {
        type: problem.extra.type ?? 'about:blank',
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        instance: ctx.path,
        requestId: ctx.state.requestId,
        ...(problem.extra.errors ? { errors: problem.extra.errors } : {}),
      };
    }
  };
}

// A dependency that is down (Postgres, Redis) is not the client's fault and not a bug: 503 tells
// the caller to retry. Failing here also fails closed: a session check that cannot reach Redis
// refuses the request rather than letting a revoked token through.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', // Postgres: shutdown, connection failures
]);

function isDependencyDown(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string; nativeError?: { code?: string } };
  return (
    UNAVAILABLE_CODES.has(e?.code ?? '') ||
    UNAVAILABLE_CODES.has(e?.nativeError?.code ?? '') ||
    e?.name === 'KnexTimeoutError' ||
    e?.name === 'MaxRetriesPerRequestError' ||
    // ioredis: "Command timed out" is REDIS_COMMAND_TIMEOUT_MS running out on a Redis that hangs.
    /Connection is closed|Stream isn't writeable|Connection terminated|^Command timed out$/.test(e?.message ?? '')
  );
}

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (isDependencyDown(err)) {
    return new HttpProblem(503, 'Service Unavailable', 'Serviço temporariamente indisponível. Tente novamente em instantes.', {
      headers: { 'retry-after': '5' },
    });
  }
  // Errors Koa or its helpers raise with an HTTP status (ctx.throw, http-errors) are client errors.
  const e = err as { status?: number; expose?: boolean; message?: string };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpProblem(e.status, httpTitle(e.status), e.expose ? e.message : undefined);
  }
  return new HttpProblem(500, 'Internal Server Error', 'Erro interno. Informe o requestId ao suporte.');
}

function httpTitle(status: number): string {
  const titles: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 413: 'Content Too Large', 415: 'Unsupported Media Type' };
  return titles[status] ?? 'Client Error';
}
