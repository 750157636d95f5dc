import type Koa from 'koa';
import { HttpProblem } from '../problem';

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
        ctx.state.log?.error({ err }, 'unhandled error');
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

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
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
