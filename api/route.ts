import type Router from '@koa/router';
import type { Knex } from 'knex';
import type Koa from 'koa';
import { z } from 'zod';
import { recordAudit, type AuditEntry } from '../db/audit';
import { inRequest, withRequestTransaction } from '../db/request-scope';
import type { Actor } from '../domain/actor';
import type { ApiKeyScope, Role } from '../domain/roles';
import type { Logger } from '../infra/logger';
import { authenticate, type Principal } from './auth/principal';
import type { ApiDeps } from './deps';
import { badRequest, forbidden, tooManyRequests, unauthorized, type FieldError } from './problem';
import { tenantRateLimits } from './tenant-rate-limits';

// One declaration per route: the same zod schemas validate the request and document it in
// /openapi.json, and the access rule is enforced before the handler runs.

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodType<Record<string, unknown>>;

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Common<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  // The route accepts an `Idempotency-Key` header: a retry with the same key does the work once.
  idempotencyKey?: boolean;
  responses: Record<number, ResponseDoc>;
}

// Letters, digits and `_ . : -`, as UUIDs and most clients' keys are; up to 200 characters.
export const IDEMPOTENCY_KEY = /^[\w.:-]{1,200}$/;
export const idempotencyKeyHeader = z.object({
  'idempotency-key': z.string().regex(IDEMPOTENCY_KEY).optional().meta({ description: 'Repeating a request with the same key does its work once' }),
});

export interface PublicInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  deps: ApiDeps;
  requestId: string;
  log: Logger;
  koa: Koa.Context;
  // Set when the route declares `idempotencyKey` and the client sent a (valid) key.
  idempotencyKey: string | undefined;
}

// Only the platform's own administrators have no tenant: a route closed to them always has one.
export type TenantIdFor<R extends Role> = 'SUPER_ADMIN' extends R ? string | null : string;

export interface AuthedInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, T extends string | null = string | null>
  extends PublicInput<P, Q, B> {
  principal: Principal;
  // The caller's tenant: what every query below runs scoped to.
  tenantId: T;
  actor: Actor;
  // The request's transaction, scoped to the caller's tenant (or the platform). It begins at the
  // first query and is committed before any Temporal call (db/request-scope.ts): what the handler
  // wrote before a call is committed even if the call fails, and a query after it runs anew.
  db: Knex.Transaction;
  audit(e: Omit<AuditEntry, 'actor' | 'requestId' | 'tenantId'> & { tenantId?: string | null }): Promise<void>;
}

export interface Access<R extends Role = Role> {
  // Staff roles allowed; automations are allowed only if `scopes` is set and the key holds them all.
  roles: readonly R[];
  scopes?: readonly ApiKeyScope[];
}

export interface RouteDefinition {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  access: Access | 'public';
  params?: AnyObject;
  query?: AnyObject;
  body?: z.ZodType;
  idempotencyKey?: boolean;
  responses: Record<number, ResponseDoc>;
  mount(router: Router, deps: ApiDeps): void;
}

type Empty = z.ZodObject<Record<string, never>>;

export function publicRoute<P extends AnyObject = Empty, Q extends AnyObject = Empty, B extends z.ZodType = z.ZodUndefined>(
  spec: Common<P, Q, B> & { handler(input: PublicInput<P, Q, B>): Promise<RouteResult> },
): RouteDefinition {
  return {
    ...spec,
    access: 'public',
    mount(router, deps) {
      router[spec.method](spec.path, async (ctx) => {
        ctx.state.routePath = spec.path;
        const input = parseInput(ctx, spec);
        respond(ctx, await inRequest(() => spec.handler({ ...input, deps, requestId: ctx.state.requestId, log: ctx.state.log, koa: ctx })));
      });
    },
  };
}

export function route<P extends AnyObject = Empty, Q extends AnyObject = Empty, B extends z.ZodType = z.ZodUndefined, R extends Role = Role>(
  spec: Common<P, Q, B> & { access: Access<R>; handler(input: AuthedInput<P, Q, B, TenantIdFor<R>>): Promise<RouteResult> },
): RouteDefinition {
  return {
    ...spec,
    mount(router, deps) {
      router[spec.method](spec.path, async (ctx) => {
        ctx.state.routePath = spec.path;
        const principal = await authenticate(ctx, deps);
        if (!principal) throw unauthorized();
        authorize(principal, spec.access);
        if (!principal.tenantId && !spec.access.roles.includes('SUPER_ADMIN' as R)) throw forbidden();
        const input = parseInput(ctx, spec);
        const actor: Actor =
          principal.kind === 'user' ? { type: 'user', id: principal.userId } : { type: 'api_key', id: principal.keyId };
        const requestId: string = ctx.state.requestId;
        const tenantId = principal.tenantId as TenantIdFor<R>;
        const scope = principal.tenantId ? { tenantId: principal.tenantId } : ({ platform: true } as const);
        const result = await withRequestTransaction(deps.knex, scope, async (db) => {
          await enforceRateLimit(deps, db, principal);
          return spec.handler({
            ...input,
            deps,
            requestId,
            log: ctx.state.log,
            koa: ctx,
            principal,
            tenantId,
            actor,
            db,
            audit: (e) => recordAudit(db, { tenantId: principal.tenantId, ...e, actor, requestId }),
          });
        });
        respond(ctx, result);
      });
    },
  };
}

function authorize(p: Principal, access: Access): void {
  if (p.kind === 'user') {
    if (!access.roles.includes(p.role)) throw forbidden();
    return;
  }
  if (!access.scopes || !access.scopes.every((s) => p.scopes.includes(s))) {
    throw forbidden(
      access.scopes ? `A chave de API precisa dos escopos: ${access.scopes.join(', ')}.` : 'Esta rota não aceita chaves de API.',
    );
  }
}

async function enforceRateLimit(deps: ApiDeps, db: Knex.Transaction, p: Principal): Promise<void> {
  const limits = await tenantRateLimits(db, p.tenantId);
  const decision =
    p.kind === 'user'
      ? await deps.rateLimits.consume('api-user', p.userId, limits.apiPerUserPerMinute, 60)
      : await deps.rateLimits.consume('api-automation', p.tenantId, limits.automationPerMinute, 60);
  if (!decision.allowed) throw tooManyRequests(decision.retryAfterSeconds, 'Limite de requisições por minuto atingido.');
}

function parseInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType>(ctx: Koa.Context, spec: Common<P, Q, B>) {
  const errors: FieldError[] = [];
  const check = <S extends z.ZodType>(where: string, schema: S | undefined, value: unknown): z.infer<S> => {
    if (!schema) return (where === 'body' ? undefined : {}) as z.infer<S>;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      errors.push({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message, code: issue.code });
    }
    return undefined as z.infer<S>;
  };
  // Postgres text cannot hold a NUL: refused here, for every route, instead of failing in the query.
  for (const [where, value] of [['params', ctx.params], ['query', ctx.query], ['body', ctx.state.body]] as const) {
    for (const path of nulPaths(value, [where])) errors.push({ path, message: 'O texto contém um caractere nulo (\\u0000), que não é aceito.', code: 'invalid_string' });
  }
  if (errors.length) throw badRequest('A requisição contém campos inválidos.', errors);
  const params = check('params', spec.params, ctx.params ?? {});
  const query = check('query', spec.query, { ...ctx.query });
  const body =
    spec.body || ctx.state.body === undefined
      ? check('body', spec.body, ctx.state.body)
      : (errors.push({ path: 'body', message: 'Esta rota não aceita corpo.' }), undefined);
  const key = ctx.get('idempotency-key');
  let idempotencyKey: string | undefined;
  if (spec.idempotencyKey && key) {
    if (IDEMPOTENCY_KEY.test(key)) idempotencyKey = key;
    else errors.push({ path: 'headers.idempotency-key', message: 'Use de 1 a 200 caracteres: letras, dígitos, "_", ".", ":" ou "-".', code: 'invalid_format' });
  }
  if (errors.length) throw badRequest('A requisição contém campos inválidos.', errors);
  return { params, query, body, idempotencyKey } as { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; idempotencyKey: string | undefined };
}

function nulPaths(value: unknown, path: string[]): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [path.join('.')] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => nulPaths(v, [...path, String(i)]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => nulPaths(v, [...path, k]).concat(k.includes('\u0000') ? [[...path, k].join('.')] : []));
  return [];
}

function respond(ctx: Koa.Context, r: RouteResult): void {
  for (const [k, v] of Object.entries(r.headers ?? {})) ctx.set(k, v);
  if (r.body === undefined) {
    ctx.status = r.status ?? 204;
    return;
  }
  ctx.status = r.status ?? 200;
  ctx.body = r.body;
}
