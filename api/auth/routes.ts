import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { Tenant, User } from '../../db/models';
import { withScope } from '../../db/tenant-scope';
import { ROLES, API_KEY_SCOPES } from '../../domain/roles';
import { hashPassword } from '../../infra/passwords';
import { badRequest, forbidden, notFound, tooManyRequests, unauthorized } from '../problem';
import { publicRoute, route } from '../route';
import { checkPassword, guardLogin } from './login-guard';
import { loginChallenge, loginChallengeSchema } from './mfa';
import { sessionPolicy } from './sessions';
import { email, password } from '../schemas';

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
    200: {
      description: 'Access and refresh tokens; or, for staff with TOTP (or whose role requires it), a challenge for POST /api/auth/login/mfa',
      schema: z.union([tokenPair.extend({ user: z.object({ id: z.uuid(), tenantId: z.uuid().nullable(), role: z.enum(ROLES) }) }), loginChallengeSchema]),
    },
    401: { description: 'Wrong e-mail or password' },
    429: { description: 'Too many attempts: from this IP for this e-mail, from this IP, for this account (backing off), or on the platform (Retry-After says when to retry)' },
  },
  async handler({ body, deps, koa, requestId }) {
    const guard = await guardLogin(deps, koa.ip, body.email);
    const [raw] = await deps.knex.select('*').from(deps.knex.raw('auth_find_login(?)', [body.email]));
    const found = raw ? loginRow.parse(raw) : undefined;
    const ok = await guard.verify(found?.passwordHash ?? null, body.password);
    if (!found || !ok) {
      await guard.failed();
      throw unauthorized('E-mail ou senha inválidos.');
    }
    if (!found.active) throw unauthorized('Usuário desativado. Fale com o administrador da sua empresa.');
    if (found.tenantId && found.tenantStatus !== 'active') throw forbidden('Sua empresa não está ativa na plataforma.');

    // The password is right; staff with TOTP (or whose role requires it) answer a code first.
    const challenge = await loginChallenge(deps, found);
    if (challenge) {
      await guard.succeeded();
      return { body: challenge };
    }

    const scope = found.tenantId ? { tenantId: found.tenantId } : ({ platform: true } as const);
    const pair = await withScope(deps.knex, scope, async (trx) => {
      const tokens = await deps.sessions.open(trx, found, sessionPolicy(deps.config));
      await User.query(trx).patch({ lastLoginAt: new Date() }).where({ id: found.id });
      await recordAudit(trx, {
        tenantId: found.tenantId, actor: { type: 'user', id: found.id }, requestId,
        action: 'auth.login', entityType: 'user', entityId: found.id, details: { ip: koa.ip },
      });
      return tokens;
    });
    await guard.succeeded();
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
    401: { description: 'Invalid, expired or reused refresh token (reuse ends the whole session), or a session past SESSION_MAX_AGE_HOURS' },
  },
  async handler({ body, deps }) {
    return { body: await deps.sessions.refresh(body.refreshToken, sessionPolicy(deps.config)) };
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

export const changePassword = route({
  method: 'post',
  path: '/auth/password',
  summary: 'Change your own password: the other sessions end, this one goes on',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  body: z.object({ currentPassword: z.string().min(1).max(200), newPassword: password }).strict(),
  responses: {
    204: { description: 'Changed; every other session of the user has ended' },
    400: { description: 'The current password is wrong, or the new one breaks the password policy or repeats the current one' },
    429: { description: 'Too many wrong current passwords (Retry-After says when to retry)' },
  },
  async handler({ body, principal, db, deps, audit }) {
    if (principal.kind !== 'user') throw forbidden();
    const { RATE_LIMIT_LOGIN_POINTS: points, RATE_LIMIT_LOGIN_WINDOW_SECONDS: window } = deps.config;
    // A stolen access token must not turn into an oracle for the password itself.
    const attempt = await deps.rateLimits.consume('password-change', principal.userId, points, window);
    if (!attempt.allowed) throw tooManyRequests(attempt.retryAfterSeconds, 'Muitas tentativas com a senha atual errada. Aguarde alguns minutos e tente novamente.');
    const user = await User.query(db).findById(principal.userId);
    if (!user) throw notFound('Usuário não encontrado.');
    if (!(await checkPassword(deps.config, user.passwordHash, body.currentPassword))) {
      throw badRequest('A senha atual está incorreta.', [{ path: 'body.currentPassword', message: 'A senha atual está incorreta.' }]);
    }
    if (body.newPassword === body.currentPassword) {
      throw badRequest('A nova senha deve ser diferente da atual.', [{ path: 'body.newPassword', message: 'A nova senha deve ser diferente da atual.' }]);
    }
    await User.query(db).patch({ passwordHash: await hashPassword(body.newPassword), updatedAt: new Date() }).where({ id: user.id });
    const endedSessions = await deps.sessions.closeAllFor(db, user.id, { except: principal.sessionId });
    await deps.rateLimits.reset('password-change', principal.userId, points, window);
    await audit({ action: 'auth.password_changed', entityType: 'user', entityId: user.id, details: { endedSessions } });
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

export const authRoutes = [login, refresh, logout, changePassword, me];
