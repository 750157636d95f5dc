import type Koa from 'koa';
import getRawBody from 'raw-body';
import { HttpProblem, badRequest } from '../problem';

// Reads the body as bytes (kept for signature checks on webhooks) and parses JSON.
// Oversized bodies stop at the limit with 413; broken JSON is a 400, never a 500.
// Webhook paths get the bytes only: their signature is checked before anything is parsed.
// Nesting is bounded too: a megabyte of `[` parses, but whatever walks it recursively later
// (validation, serializing it into jsonb, logging) overflows the stack, which used to surface as
// a 5xx the client could only retry.
export const MAX_JSON_DEPTH = 64;

export function jsonBody(limitBytes: number, webhooks: { prefix: string; limitBytes: number } = { prefix: '/webhooks/', limitBytes }): Koa.Middleware {
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return next();
    const rawOnly = ctx.path.startsWith(webhooks.prefix);
    const limit = rawOnly ? webhooks.limitBytes : limitBytes;
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > limit) throw tooLarge(limit);
    let raw: Buffer;
    try {
      raw = await getRawBody(ctx.req, { limit });
    } catch (err) {
      const e = err as { type?: string; status?: number };
      if (e.type === 'entity.too.large' || e.status === 413) throw tooLarge(limit);
      throw badRequest('Não foi possível ler o corpo da requisição.');
    }
    ctx.state.rawBody = raw;
    if (raw.length === 0 || rawOnly) return next();
    if (!ctx.is('application/json', 'application/*+json')) {
      throw new HttpProblem(415, 'Unsupported Media Type', 'Envie o corpo como application/json.');
    }
    if (jsonDepthExceeds(raw, MAX_JSON_DEPTH)) {
      throw badRequest(`JSON aninhado demais: no máximo ${MAX_JSON_DEPTH} níveis de objetos e listas.`);
    }
    try {
      ctx.state.body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`JSON malformado: ${(err as Error).message}`);
    }
    return next();
  };
}

// Counts brackets outside strings, on the bytes: no parse, no recursion. `"`, `\`, `[`, `]`,
// `{` and `}` are ASCII, and no byte of a multi-byte UTF-8 character can be mistaken for them.
export function jsonDepthExceeds(raw: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

const tooLarge = (limit: number) =>
  new HttpProblem(413, 'Content Too Large', `O corpo da requisição excede o limite de ${limit} bytes.`);
