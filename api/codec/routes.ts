import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Payload } from '@temporalio/common';
import type Koa from 'koa';
import { z } from 'zod';
import { PayloadKeyUnavailable } from '../../infra/payload-codec';
import { authenticate } from '../auth/principal';
import type { ApiDeps } from '../deps';
import { badRequest, forbidden, HttpProblem, unauthorized } from '../problem';

// The codec server the Temporal Web UI and `temporal workflow show --codec-endpoint` call to read
// the payloads the workers sealed (infra/payload-codec.ts). Operators only: a platform
// administrator's access token, or the ops token (TEMPORAL_CODEC_TOKEN) as a bearer or, for the
// dev server's UI, which can send no header of its own, as the path segment
// `/codec/<token>/decode` that `npm start` gives it. Browsers reach it only from the Web UI's
// origins (TEMPORAL_UI_ORIGINS). Outside /api: it speaks the codec server protocol, not ours.

const payloadsBody = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), z.string().max(1_000_000)).optional(),
        data: z.string().optional(),
      }),
    )
    .max(10_000),
});

type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromJson(p: JsonPayload, at: number): Payload {
  const bytes = (s: string, where: string) => {
    if (!BASE64.test(s)) throw badRequest(`payloads[${at}].${where} não está em base64.`);
    return new Uint8Array(Buffer.from(s, 'base64'));
  };
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, bytes(v, `metadata.${k}`)])),
    data: bytes(p.data ?? '', 'data'),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

export function codecRouter(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/codec' });
  const origins = new Set(deps.config.TEMPORAL_UI_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean));

  // CORS first, errors included: the UI must be able to read a 401 to say so.
  router.use(async (ctx, next) => {
    const origin = ctx.get('origin');
    if (origin && origins.has(origin)) {
      ctx.set('access-control-allow-origin', origin);
      ctx.set('vary', 'Origin');
      ctx.set('access-control-allow-credentials', 'true');
      ctx.set('access-control-allow-headers', 'authorization, content-type, x-namespace');
      ctx.set('access-control-allow-methods', 'POST, OPTIONS');
      ctx.set('access-control-max-age', '600');
    } else if (origin) {
      throw forbidden('Origem não autorizada para o codec do Temporal.');
    }
    await next();
  });

  for (const [path, pathToken] of [['/:op', false], ['/:token/:op', true]] as const) {
    router.options(path, (ctx) => {
      ctx.state.routePath = `/codec${path}`;
      ctx.status = 204;
    });
    router.post(path, async (ctx) => {
      ctx.state.routePath = `/codec${path}`;
      const op = ctx.params.op;
      if (op !== 'encode' && op !== 'decode') throw new HttpProblem(404, 'Not Found', 'Operação de codec inexistente: use /encode ou /decode.');
      await authorize(ctx, deps, pathToken ? (ctx.params.token ?? '') : null);
      const parsed = payloadsBody.safeParse(ctx.state.body);
      if (!parsed.success) throw badRequest('Corpo deve ser {"payloads": [{"metadata": {...}, "data": "<base64>"}]}.');
      const payloads = parsed.data.payloads.map(fromJson);
      ctx.body = { payloads: (await transform(deps, op, payloads)).map(toJson) };
    });
  }
  return router;
}

// Encode seals under the platform's key (the codec server is given no workflow to name a tenant);
// decode opens what it can and leaves a payload whose key was destroyed as it is, so a history
// of a removed tenant still shows its shape.
async function transform(deps: ApiDeps, op: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> {
  if (op === 'encode') return deps.payloadCodec.encode(payloads);
  return Promise.all(
    payloads.map(async (p) => {
      try {
        return (await deps.payloadCodec.decode([p]))[0] as Payload;
      } catch (err) {
        if (err instanceof PayloadKeyUnavailable) return p;
        throw badRequest('Payload cifrado inválido ou corrompido.');
      }
    }),
  );
}

async function authorize(ctx: Koa.Context, deps: ApiDeps, pathToken: string | null): Promise<void> {
  const token = deps.config.TEMPORAL_CODEC_TOKEN;
  if (pathToken !== null) {
    if (token && sameSecret(pathToken, token)) return;
    throw unauthorized('Token do codec inválido.');
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
  if (!bearer) throw unauthorized('O codec exige um token de operador (Authorization: Bearer).');
  if (token && sameSecret(bearer, token)) return;
  const principal = await authenticate(ctx, deps).catch(() => null);
  if (!principal) throw unauthorized('Token inválido ou sessão encerrada.');
  if (principal.kind !== 'user' || principal.role !== 'SUPER_ADMIN') {
    throw forbidden('Somente administradores da plataforma leem os payloads do Temporal.');
  }
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return given !== '' && timingSafeEqual(digest(given), digest(expected));
}
