import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { LRUCache } from 'lru-cache';
import { verifySha256Signature } from '../../infra/hmac-signature';
import type { Logger } from '../../infra/logger';
import type { RateLimits } from '../../infra/rate-limits';
import { badRequest, HttpProblem, notFound, serviceUnavailable, tooManyRequests, unauthorized, type FieldError } from '../problem';

// One way to receive a webhook, whoever sends it (Meta, a payment gateway). Per request:
//   1. the sender's secret: static, or per app through a bounded LRU cache (path param);
//      an IP already over the invalid-signature limit is answered 429 before any look-up;
//   2. verification over the raw bytes, constant-time, before anything is parsed: an
//      HMAC-SHA256 header (`sha256=<hex>`) or a shared token header; a failure spends a point
//      of the limit (valid deliveries never do);
//   3. JSON, then the declared parser: 400 with `errors[].path` for a malformed envelope;
//   4. `accept` records what must be recorded and returns the deliveries (workflow signals…);
//      they all run and settle, and the answer is 200 only if every one succeeded, otherwise
//      503 so the sender retries.
//
// A declaration:
//   buildWebhook({
//     name: 'asaas', paths: ['/webhooks/asaas'],
//     verification: { kind: 'token', header: 'asaas-access-token' },
//     secret: { static: () => config.ASAAS_WEBHOOK_TOKEN ?? null, key: (token) => token },
//     parse: (json) => …zod…, accept: async ({ payload }) => ({ deliveries: [() => signal(payload)] }),
//   }, { rateLimits, invalidPerMinute, log })

export type Verification =
  | { kind: 'hmac-sha256'; header: string } // `sha256=<hex>` of the raw body keyed with the secret
  | { kind: 'token'; header: string }; // the secret itself, as the sender was told it

export interface SecretSource<S> {
  // The path param that names the sender's app; a route without it uses `static`.
  param?: string;
  static?: () => S | null;
  // A syntactic check of the param, so garbage never reaches the look-up.
  validKey?: (key: string) => boolean;
  // The per-app secret (a database look-up); null when the app is unknown, which is cached too.
  lookup?: (key: string) => Promise<S | null>;
  cache?: { max: number; ttlMs: number };
  // The string the body is verified with.
  key: (secret: S) => string;
}

export type Parsed<P> = { ok: true; value: P } | { ok: false; detail: string; issues: FieldError[] };

export interface Accepted {
  // Started together and all awaited; any rejection makes the answer a 503.
  deliveries: (() => Promise<unknown>)[];
  ack?: string; // the 200's text/plain body
}

export interface WebhookSpec<S, P> {
  name: string; // the rate-limit bucket and the logs' label
  paths: readonly string[]; // full templates ('/webhooks/whatsapp/:appId'), also the metrics label
  verification: Verification;
  secret: SecretSource<S>;
  parse: (json: unknown) => Parsed<P>; // issue paths relative to the body
  accept: (input: { ctx: Koa.Context; secret: S; payload: P; log: Logger }) => Promise<Accepted>;
  // A GET subscription handshake (Meta's hub.challenge): the text to answer, or null to refuse.
  handshake?: (ctx: Koa.Context, secret: S) => string | null;
  unknownAppDetail?: string;
}

export interface WebhookLimits {
  rateLimits: RateLimits;
  invalidPerMinute: number;
  log: Logger;
}

export interface BuiltWebhook {
  router: Router;
  // How many per-app secrets are held now (the cache is bounded by `secret.cache.max`).
  cachedSecrets(): number;
}

const DEFAULT_CACHE = { max: 1_000, ttlMs: 60_000 };

export function buildWebhook<S, P>(spec: WebhookSpec<S, P>, limits: WebhookLimits): BuiltWebhook {
  const bucket = `webhook-invalid:${spec.name}`;
  const { lookup } = spec.secret;
  const cacheOptions = spec.secret.cache ?? DEFAULT_CACHE;
  // lru-cache keeps no null values: an unknown app is cached as { secret: null }.
  const cache = new LRUCache<string, { secret: S | null }>({
    max: cacheOptions.max,
    ttl: cacheOptions.ttlMs,
    fetchMethod: async (key) => ({ secret: lookup ? await lookup(key) : null }),
  });

  const over = async (ctx: Koa.Context) => {
    const d = await limits.rateLimits.peek(bucket, ctx.ip, limits.invalidPerMinute, 60);
    if (!d.allowed) throw tooManyRequests(d.retryAfterSeconds);
  };
  // Only forgeries spend points: the sender's genuine deliveries must never be turned away.
  const refuse = async (ctx: Koa.Context, problem: HttpProblem): Promise<never> => {
    const d = await limits.rateLimits.consume(bucket, ctx.ip, limits.invalidPerMinute, 60);
    throw d.allowed ? problem : tooManyRequests(d.retryAfterSeconds);
  };

  async function secretFor(ctx: Koa.Context): Promise<{ secret: S | null; perApp: boolean }> {
    const key = spec.secret.param ? (ctx.params as Record<string, string | undefined>)[spec.secret.param] : undefined;
    if (key === undefined) return { secret: spec.secret.static?.() ?? null, perApp: false };
    if (spec.secret.validKey && !spec.secret.validKey(key)) return { secret: null, perApp: true };
    const hit = cache.get(key);
    if (hit) return { secret: hit.secret, perApp: true };
    // A look-up is what each forgery would cost us: an IP already over the limit goes no further.
    await over(ctx);
    return { secret: (await cache.fetch(key))?.secret ?? null, perApp: true };
  }

  const unknownApp = () => notFound(spec.unknownAppDetail ?? 'Aplicativo desconhecido.');

  async function receive(ctx: Koa.Context, routePath: string) {
    ctx.state.routePath = routePath;
    const log: Logger = ctx.state.log ?? limits.log;
    const { secret, perApp } = await secretFor(ctx);
    if (secret === null) return refuse(ctx, perApp ? unknownApp() : unauthorized(refusal(spec.verification)));
    const raw: Buffer = ctx.state.rawBody ?? Buffer.alloc(0);
    if (!verified(spec.verification, raw, ctx.get(spec.verification.header), spec.secret.key(secret))) {
      return refuse(ctx, unauthorized(refusal(spec.verification)));
    }

    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`JSON malformado: ${(err as Error).message}`);
    }
    const parsed = spec.parse(json);
    if (!parsed.ok) {
      throw badRequest(parsed.detail, parsed.issues.map((i) => ({ ...i, path: i.path ? `body.${i.path}` : 'body' })));
    }

    const accepted = await spec.accept({ ctx, secret, payload: parsed.value, log });
    // Every delivery settles before we answer, so a refusal is reported once, as a whole, and
    // none is left rejecting unobserved (which would end the process).
    const results = await Promise.allSettled(accepted.deliveries.map((deliver) => Promise.resolve().then(deliver)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) {
      log.warn({ webhook: spec.name, failed: failed.length, of: results.length, err: errorText(failed[0]!.reason) }, 'webhook deliveries not all accepted; the sender will redeliver');
      throw serviceUnavailable('Não foi possível registrar tudo agora; reenvie.');
    }
    ctx.status = 200;
    ctx.type = 'text/plain';
    ctx.body = accepted.ack ?? 'OK';
  }

  async function handshake(ctx: Koa.Context, routePath: string, answer: NonNullable<WebhookSpec<S, P>['handshake']>) {
    ctx.state.routePath = routePath;
    const { secret } = await secretFor(ctx);
    const challenge = secret === null ? null : answer(ctx, secret);
    if (challenge === null) return refuse(ctx, new HttpProblem(403, 'Forbidden', 'Token de verificação inválido.'));
    ctx.status = 200;
    ctx.type = 'text/plain';
    ctx.body = challenge;
  }

  const router = new Router();
  for (const path of spec.paths) {
    router.post(path, (ctx) => receive(ctx, path));
    const answer = spec.handshake;
    if (answer) router.get(path, (ctx) => handshake(ctx, path, answer));
  }
  return { router, cachedSecrets: () => cache.size };
}

function verified(v: Verification, raw: Buffer, header: string, key: string): boolean {
  if (v.kind === 'hmac-sha256') return verifySha256Signature(raw, header || undefined, key);
  return sameSecret(header, key);
}

// Constant time whatever the lengths: both sides are hashed to 32 bytes first, so neither the
// content nor the length of the expected secret leaks through timing. An empty secret never
// matches (anyone can send an empty header).
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (!expected || typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected)) && given.length > 0;
}

const refusal = (v: Verification) =>
  v.kind === 'hmac-sha256' ? `Assinatura ${v.header} ausente ou inválida.` : `Token ${v.header} ausente ou inválido.`;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
