import type { Knex } from 'knex';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { User, UserMfa } from '../../db/models';
import { withScope } from '../../db/tenant-scope';
import { ROLES } from '../../domain/roles';
import { verifyPassword } from '../../infra/passwords';
import { conflict, forbidden, notFound, unauthorized } from '../problem';
import { publicRoute, route } from '../route';
import { uuidParam } from '../schemas';
import type { Principal } from './principal';
import {
  acceptTotp,
  activeMfa,
  confirmEnrolment,
  enrolmentSchema,
  forgiveAttempts,
  mfaRequiredFor,
  newRecoveryCodes,
  passwordFingerprint,
  recoveryCodeSchema,
  spendChallenge,
  spendCodeAttempt,
  spendEnrolment,
  spendRecoveryCode,
  startEnrolment,
  totpCodeSchema,
  verifyChallenge,
  type Challenge,
} from './mfa';
import { sessionPolicy, tenantIsOpen } from './sessions';

// Staff TOTP (issue 11). Signed-in staff manage their own second factor under /auth/mfa; the
// second step of a login, and the enrolment a role that requires MFA forces on a user without it,
// are under /auth/login/mfa and take the login's challenge token instead of a session.

const WRONG_CODE = 'Código de verificação inválido.';
const recoveryCodes = z.object({ recoveryCodes: z.array(z.string()).meta({ description: 'Shown once; each works once' }) });

const staffOnly = (p: Principal) => {
  if (p.kind !== 'user') throw forbidden('Somente pessoas usuárias têm verificação em duas etapas.');
  return p;
};

export const mfaStatus = route({
  method: 'get',
  path: '/auth/mfa',
  summary: 'Whether the caller has TOTP on, must have it, and how many recovery codes are left',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  responses: {
    200: {
      description: 'The caller’s second factor (never its secret)',
      schema: z.object({
        enabled: z.boolean(),
        enabledAt: z.iso.datetime().nullable(),
        required: z.boolean(),
        enrolmentPending: z.boolean(),
        recoveryCodesRemaining: z.number().int(),
      }),
    },
  },
  async handler({ principal, db }) {
    const p = staffOnly(principal);
    const row = await UserMfa.query(db).findById(p.userId);
    const enabled = Boolean(row?.secretSealed);
    return {
      body: {
        enabled,
        enabledAt: row?.enabledAt?.toISOString() ?? null,
        required: await mfaRequiredFor(db, p),
        enrolmentPending: Boolean(row?.pendingSecretSealed),
        recoveryCodesRemaining: enabled ? (row?.recoveryCodeHashes.length ?? 0) : 0,
      },
    };
  },
});

export const startMfaEnrolment = route({
  method: 'post',
  path: '/auth/mfa/enrol',
  summary: 'Start TOTP enrolment: a new secret, its otpauth:// URI and QR code (confirm with a first code)',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  responses: {
    200: { description: 'The secret to add to an authenticator app; it is not shown again', schema: enrolmentSchema },
    409: { description: 'TOTP is already on' },
  },
  async handler({ principal, db, deps, audit }) {
    const p = staffOnly(principal);
    const user = await User.query(db).findById(p.userId);
    if (!user) throw notFound('Usuário não encontrado.');
    const enrolment = await startEnrolment(db, deps, user);
    await audit({ action: 'auth.mfa.enrolment_started', entityType: 'user', entityId: user.id });
    return { body: enrolment };
  },
});

export const confirmMfaEnrolment = route({
  method: 'post',
  path: '/auth/mfa/confirm',
  summary: 'Turn TOTP on with the app’s first code; answers the recovery codes, once',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  body: z.object({ code: totpCodeSchema }).strict(),
  responses: {
    200: { description: 'TOTP is on; the 10 recovery codes', schema: recoveryCodes },
    403: { description: 'Wrong code' },
    409: { description: 'No enrolment in progress, or TOTP already on' },
    429: { description: 'Too many codes tried' },
  },
  async handler({ principal, body, db, deps, audit }) {
    const p = staffOnly(principal);
    await spendCodeAttempt(deps, p.userId);
    const codes = await confirmEnrolment(db, deps, p.userId, body.code);
    if (!codes) throw forbidden(WRONG_CODE);
    await forgiveAttempts(deps, p.userId);
    await audit({ action: 'auth.mfa.enabled', entityType: 'user', entityId: p.userId });
    return { body: { recoveryCodes: codes } };
  },
});

export const disableMfa = route({
  method: 'post',
  path: '/auth/mfa/disable',
  summary: 'Turn TOTP off, with a current code or the password (refused when the role requires MFA)',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  body: z
    .object({ code: totpCodeSchema.optional(), password: z.string().min(1).max(200).optional() })
    .strict()
    .refine((b) => (b.code === undefined) !== (b.password === undefined), { message: 'give either code or password', path: ['code'] }),
  responses: {
    204: { description: 'TOTP is off; the recovery codes are void' },
    403: { description: 'Wrong code or password' },
    409: { description: 'TOTP is not on, or the role requires it' },
    429: { description: 'Too many tries' },
  },
  async handler({ principal, body, db, deps, audit }) {
    const p = staffOnly(principal);
    const row = await activeMfa(db, p.userId);
    if (!row) throw conflict('A verificação em duas etapas não está ativa nesta conta.');
    if (await mfaRequiredFor(db, p)) throw conflict('A verificação em duas etapas é obrigatória para o seu perfil e não pode ser desativada.');
    await spendCodeAttempt(deps, p.userId);
    let ok: boolean;
    if (body.code !== undefined) {
      ok = await acceptTotp(db, deps, row, body.code);
    } else {
      const user = await User.query(db).findById(p.userId);
      ok = Boolean(user) && (await verifyPassword(user?.passwordHash ?? null, body.password ?? ''));
    }
    if (!ok) throw forbidden(body.code !== undefined ? WRONG_CODE : 'Senha incorreta.');
    await forgiveAttempts(deps, p.userId);
    await UserMfa.query(db).deleteById(p.userId);
    await audit({ action: 'auth.mfa.disabled', entityType: 'user', entityId: p.userId, details: { with: body.code !== undefined ? 'code' : 'password' } });
    return { status: 204 };
  },
});

export const regenerateRecoveryCodes = route({
  method: 'post',
  path: '/auth/mfa/recovery-codes',
  summary: 'Replace the recovery codes (a current code required); the old ones stop working',
  tags: ['auth'],
  access: { roles: [...ROLES] },
  body: z.object({ code: totpCodeSchema }).strict(),
  responses: {
    200: { description: 'The 10 new recovery codes, shown once', schema: recoveryCodes },
    403: { description: 'Wrong code' },
    409: { description: 'TOTP is not on' },
    429: { description: 'Too many codes tried' },
  },
  async handler({ principal, body, db, deps, audit }) {
    const p = staffOnly(principal);
    const row = await activeMfa(db, p.userId);
    if (!row) throw conflict('A verificação em duas etapas não está ativa nesta conta.');
    await spendCodeAttempt(deps, p.userId);
    if (!(await acceptTotp(db, deps, row, body.code))) throw forbidden(WRONG_CODE);
    await forgiveAttempts(deps, p.userId);
    const { codes, hashes } = newRecoveryCodes();
    await UserMfa.query(db).patch({ recoveryCodeHashes: hashes, updatedAt: new Date() }).where({ userId: p.userId });
    await audit({ action: 'auth.mfa.recovery_codes_regenerated', entityType: 'user', entityId: p.userId });
    return { body: { recoveryCodes: codes } };
  },
});

// ---- The login's second step ----------------------------------------------------------------

const challengeToken = z.string().min(1).max(2000);

// The challenge's user as they are now: still active, in an open tenant, with the password the
// challenge was issued against.
async function challengedUser(trx: Knex.Transaction, c: Challenge): Promise<User> {
  const user = await User.query(trx).findById(c.userId);
  if (!user?.active || !(await tenantIsOpen(trx, user.tenantId)) || passwordFingerprint(user.passwordHash) !== c.passwordFingerprint) {
    throw unauthorized('Verificação inválida. Faça login novamente.');
  }
  return user;
}

const scopeOf = (tenantId: string | null) => (tenantId ? { tenantId } : ({ platform: true } as const));

export const enrolAtLogin = publicRoute({
  method: 'post',
  path: '/auth/login/mfa/enrol',
  summary: 'With an enrolment challenge from login: a new TOTP secret, its URI and QR code',
  tags: ['auth'],
  body: z.object({ challengeToken }).strict(),
  responses: {
    200: { description: 'The secret to add to an authenticator app; finish with POST /api/auth/login/mfa and its first code', schema: enrolmentSchema },
    401: { description: 'Invalid or expired challenge' },
    409: { description: 'The challenge is not for enrolment' },
    429: { description: 'Too many enrolments for this challenge' },
  },
  async handler({ body, deps, requestId }) {
    const c = await verifyChallenge(deps.config.JWT_SECRET, body.challengeToken);
    if (c.purpose !== 'enrol') throw conflict('Esta conta já tem verificação em duas etapas: informe o código do aplicativo.');
    await spendEnrolment(deps, c.id);
    const enrolment = await withScope(deps.knex, scopeOf(c.tenantId), async (trx) => {
      const user = await challengedUser(trx, c);
      const started = await startEnrolment(trx, deps, user);
      await recordAudit(trx, {
        tenantId: user.tenantId, actor: { type: 'user', id: user.id }, requestId,
        action: 'auth.mfa.enrolment_started', entityType: 'user', entityId: user.id, details: { atLogin: true },
      });
      return started;
    });
    return { body: enrolment };
  },
});

const sessionSchema = z.object({
  accessToken: z.string(),
  accessTokenExpiresAt: z.iso.datetime(),
  refreshToken: z.string(),
  refreshTokenExpiresAt: z.iso.datetime(),
  tokenType: z.literal('Bearer'),
  user: z.object({ id: z.uuid(), tenantId: z.uuid().nullable(), role: z.enum(ROLES) }),
  recoveryCodes: z.array(z.string()).optional().meta({ description: 'Only when this login finished an enrolment: shown once' }),
});

export const completeLoginMfa = publicRoute({
  method: 'post',
  path: '/auth/login/mfa',
  summary: 'The login’s second step: the challenge with a TOTP code (or a recovery code) opens the session',
  tags: ['auth'],
  body: z
    .object({ challengeToken, code: totpCodeSchema.optional(), recoveryCode: recoveryCodeSchema.optional() })
    .strict()
    .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), { message: 'give either code or recoveryCode', path: ['code'] }),
  responses: {
    200: { description: 'Access and refresh tokens (and, after an enrolment, the recovery codes)', schema: sessionSchema },
    401: { description: 'Wrong, reused or expired code, or an invalid challenge' },
    429: { description: 'Too many codes tried for this challenge or this account' },
  },
  async handler({ body, deps, koa, requestId, log }) {
    const c = await verifyChallenge(deps.config.JWT_SECRET, body.challengeToken);
    await spendCodeAttempt(deps, c.userId, c.id);
    const outcome = await withScope(deps.knex, scopeOf(c.tenantId), async (trx) => {
      const user = await challengedUser(trx, c);
      let method: 'totp' | 'recovery_code' | 'enrolment';
      let codes: string[] | undefined;
      if (c.purpose === 'enrol') {
        if (body.code === undefined) throw unauthorized('Conclua o cadastro com o código de 6 dígitos do aplicativo.');
        codes = (await confirmEnrolment(trx, deps, user.id, body.code)) ?? undefined;
        if (!codes) throw unauthorized(WRONG_CODE);
        method = 'enrolment';
        await recordAudit(trx, { tenantId: user.tenantId, actor: { type: 'user', id: user.id }, requestId, action: 'auth.mfa.enabled', entityType: 'user', entityId: user.id, details: { atLogin: true } });
      } else {
        const row = await activeMfa(trx, user.id);
        if (!row) throw unauthorized('Verificação inválida. Faça login novamente.');
        if (body.code !== undefined) {
          if (!(await acceptTotp(trx, deps, row, body.code))) throw unauthorized(WRONG_CODE);
          method = 'totp';
        } else {
          const remaining = await spendRecoveryCode(trx, user.id, body.recoveryCode ?? '');
          if (remaining === null) throw unauthorized('Código de recuperação inválido ou já utilizado.');
          method = 'recovery_code';
          await recordAudit(trx, { tenantId: user.tenantId, actor: { type: 'user', id: user.id }, requestId, action: 'auth.mfa.recovery_code_used', entityType: 'user', entityId: user.id, details: { remaining } });
        }
      }
      // Last, so a refusal above leaves the challenge usable for another try.
      await spendChallenge(deps, c.id);
      const tokens = await deps.sessions.open(trx, user, sessionPolicy(deps.config));
      await User.query(trx).patch({ lastLoginAt: new Date() }).where({ id: user.id });
      await recordAudit(trx, {
        tenantId: user.tenantId, actor: { type: 'user', id: user.id }, requestId,
        action: 'auth.login', entityType: 'user', entityId: user.id, details: { ip: koa.ip, mfa: method },
      });
      return { tokens, user: { id: user.id, tenantId: user.tenantId, role: user.role }, codes };
    }).catch((err: unknown) => {
      if ((err as { status?: number }).status === 401) log.warn({ userId: c.userId, challengeId: c.id }, 'MFA code refused at login');
      throw err;
    });
    await forgiveAttempts(deps, c.userId);
    return { body: { ...outcome.tokens, user: outcome.user, ...(outcome.codes ? { recoveryCodes: outcome.codes } : {}) } };
  },
});

// A lost or stolen phone: a tenant admin turns another person's TOTP off. Their sessions end
// with it (whoever holds the phone may hold a session too); at the next login a role that
// requires MFA makes them enrol again.
export const resetUserMfa = route({
  method: 'post',
  path: '/users/:userId/mfa/reset',
  summary: "Turn another user's TOTP off (lost phone): their recovery codes are void and their sessions end",
  tags: ['auth'],
  access: { roles: ['TENANT_ADMIN'] },
  params: uuidParam('userId'),
  responses: {
    200: { description: 'Whether TOTP was on', schema: z.object({ mfaWasOn: z.boolean() }) },
    404: { description: 'No such user in your company' },
    409: { description: 'Your own account: use /auth/mfa/disable' },
  },
  async handler({ principal, params, db, deps, audit }) {
    const p = staffOnly(principal);
    if (params.userId === p.userId) throw conflict('Para a sua própria conta, use a desativação com código ou senha.');
    const user = await User.query(db).findById(params.userId);
    if (!user) throw notFound('Usuário não encontrado.');
    const removed = await UserMfa.query(db).deleteById(user.id);
    if (removed) {
      await deps.sessions.closeAllFor(db, user.id);
      await audit({ action: 'auth.mfa.reset', entityType: 'user', entityId: user.id, details: {} });
    }
    return { body: { mfaWasOn: removed > 0 } };
  },
});

export const mfaRoutes = [mfaStatus, startMfaEnrolment, confirmMfaEnrolment, disableMfa, regenerateRecoveryCodes, enrolAtLogin, completeLoginMfa, resetUserMfa];
