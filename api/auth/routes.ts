import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { Tenant, User } from '../../db/models';
import { withScope } from '../../db/tenant-scope';
import { ROLES, API_KEY_SCOPES } from '../../domain/roles';
import { verifyPassword } from '../../infra/passwords';
import { forbidden, notFound, tooManyRequests, unauthorized } from '../problem';
import { publicRoute, route } from '../route';
import { email } from '../schemas';

const tokenPair = z.object({
  accessToken: z.string(),
  accessTokenExpiresAt: z.iso.datetime(),
  refreshToken: z.string(),
  refreshTokenExpiresAt: z.iso.datetime(),
  tokenType: z.literal('Bearer'),
});

const loginRow = z.object({
  id: z.uuid(),
  tenantId: z.uuid().nullable(),
  role: z.enum(ROLES),
  passwordHash: z.string(),
  active: z.boolean(),
  tenantStatus: z.string().nullable(),
});

export const login = publicRoute({
  method: 'post',
  path: '/auth/login',
  summary: 'Log in with e-mail and password',
  tags: ['auth'],
  body: z.object({ email, password: z.string().min(1).max(200) }).strict(),
  responses: {
    200: { description: 'Access and refresh tokens', schema: tokenPair.extend({ user: z.object({ id: z.uuid(), tenantId: z.uuid().nullable(), role: z.enum(ROLES) }) }) },
    401: { description: 'Wrong e-mail or password' },
    429: { description: 'Too many attempts from this IP for this e-mail (Retry-After says when to retry)' },
  },
  async handler({ body, deps, koa, requestId }) {
    const { RATE_LIMIT_LOGIN_POINTS: points, RATE_LIMIT_LOGIN_WINDOW_SECONDS: window } = deps.config;
    const limitKey = `${koa.ip}|${body.email}`;
    const decision = await deps.rateLimits.consume('login', limitKey, points, window);
    if (!decision.allowed) {
      throw tooManyRequests(decision.retryAfterSeconds, 'Muitas tentativas de login. Aguarde alguns minutos e tente novamente.');
    }
    const [raw] = await deps.knex.select('*').from(deps.knex.raw('auth_find_login(?)', [body.email]));
    const found = raw ? loginRow.parse(raw) : undefined;
    const ok = await verifyPassword(found?.passwordHash ?? null, body.password);
    if (!found || !ok) throw unauthorized('E-mail ou senha inválidos.');
    if (!found.active) throw unauthorized('Usuário desativado. Fale com o administrador da sua empresa.');
    if (found.tenantId && found.tenantStatus !== 'active') throw forbidden('Sua empresa não está ativa na plataforma.');

    const scope = found.tenantId ? { tenantId: found.tenantId } : ({ platform: true } as const);
    const pair = await withScope(deps.knex, scope, async (trx) => {
      const tokens = await deps.sessions.open(trx, found);
      await User.query(trx).patch({ lastLoginAt: new Date() }).where({ id: found.id });
      await recordAudit(trx, {
        tenantId: found.tenantId, actor: { type: 'user', id: found.id }, requestId,
        action: 'auth.login', entityType: 'user', entityId: found.id, details: { ip: koa.ip },
      });
      return tokens;
    });
    await deps.rateLimits.reset('login', limitKey, points, window);
    return { body: { ...pair, user: { id: found.id, tenantId: found.tenantId, role: found.role } } };
  },
});

export const refresh = publicRoute({
  method: 'post',
  path: '/auth/refresh',
  summary: 'Exchange a refresh token for a new pair (the old one is spent)',
  tags: ['auth'],
  body: z.object({ refreshToken: z.string().min(1).max(500) }).strict(),
  responses: {
    200: { description: 'A new access and refresh token', schema: tokenPair },
    401: { description: 'Invalid, expired or reused refresh token (reuse ends the whole session)' },
  },
  async handler({ body, deps }) {
    return { body: await deps.sessions.refresh(body.refreshToken) };
  },
});

export const logout = route({
  method: 'post',
  path: '/auth/logout',
  summary: 'End the current session: its refresh tokens and access tokens stop working',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  responses: { 204: { description: 'Session ended' } },
  async handler({ principal, db, deps, audit }) {
    if (principal.kind !== 'user') throw forbidden();
    await deps.sessions.close(db, principal.sessionId);
    await audit({ action: 'auth.logout', entityType: 'user', entityId: principal.userId });
    return { status: 204 };
  },
});

const meSchema = z.object({
  kind: z.enum(['user', 'apiKey']),
  id: z.uuid(),
  role: z.enum(ROLES).optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  scopes: z.array(z.enum(API_KEY_SCOPES)).optional(),
  tenant: z.object({ id: z.uuid(), slug: z.string(), name: z.string(), status: z.string() }).nullable(),
});

export const me = route({
  method: 'get',
  path: '/me',
  summary: 'Who the caller is: the user (or API key) and its tenant',
  tags: ['auth'],
  access: { roles: [...ROLES], scopes: [] },
  responses: { 200: { description: 'The caller', schema: meSchema } },
  async handler({ principal, db }) {
    const tenant = principal.tenantId ? await Tenant.query(db).findById(principal.tenantId) : undefined;
    const tenantView = tenant ? { id: tenant.id, slug: tenant.slug, name: tenant.name, status: tenant.status } : null;
    if (principal.kind === 'apiKey') {
      return { body: { kind: 'apiKey', id: principal.keyId, scopes: principal.scopes, tenant: tenantView } };
    }
    const user = await User.query(db).findById(principal.userId);
    if (!user) throw notFound('Usuário não encontrado.');
    return { body: { kind: 'user', id: user.id, role: user.role, name: user.name, email: user.email, tenant: tenantView } };
  },
});

export const authRoutes = [login, refresh, logout, me];
