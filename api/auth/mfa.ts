import { randomBytes, randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Knex } from 'knex';
import { toDataURL } from 'qrcode';
import { z } from 'zod';
import { UserMfa } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { withScope, type Scope } from '../../db/tenant-scope';
import type { Role } from '../../domain/roles';
import { newTotpSecret, totpStep, totpUri } from '../../infra/totp';
import type { ApiDeps } from '../deps';
import { conflict, tooManyRequests, unauthorized } from '../problem';
import { sha256 } from './secrets';

// Staff TOTP: enrolment, the login challenge and the checks every code goes through. The routes
// are in mfa-routes.ts; the login route only asks `loginChallenge` whether to answer a challenge
// instead of a session.

export const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
// Codes tried against one challenge before its holder must give the password again.
export const MFA_ATTEMPTS_PER_CHALLENGE = 5;
const ENROLMENTS_PER_CHALLENGE = 5;
const RECOVERY_CODE_COUNT = 10;

export const totpCodeSchema = z.string().regex(/^\d{6}$/, 'expected the 6-digit code');
export const recoveryCodeSchema = z.string().trim().min(16).max(40);

const scopeOf = (tenantId: string | null): Scope => (tenantId ? { tenantId } : { platform: true });

// SUPER_ADMIN always; a tenant role when its tenant's settings say so.
export async function mfaRequiredFor(trx: Knex.Transaction, user: { role: Role; tenantId: string | null }): Promise<boolean> {
  if (user.role === 'SUPER_ADMIN' || user.tenantId === null) return true;
  const read = await readTenantSettings(trx, user.tenantId);
  return (read?.settings.security.mfaRequiredRoles as readonly Role[] | undefined)?.includes(user.role) ?? false;
}

export async function activeMfa(trx: Knex.Transaction, userId: string): Promise<(UserMfa & { secretSealed: string }) | undefined> {
  const row = await UserMfa.query(trx).findById(userId);
  return row?.secretSealed && row.enabledAt ? (row as UserMfa & { secretSealed: string }) : undefined;
}

// ---- The login challenge -------------------------------------------------------------------
//
// A short-lived signed token that says "this password was right a moment ago". It is not an
// access token (another audience and type, so neither is ever taken for the other) and is bound to
// the password hash it was issued against, so a password change voids it. `enrol` challenges,
// for a role that requires MFA and a user without it, only open the enrolment and its first code.

export type ChallengePurpose = 'verify' | 'enrol';

export interface Challenge {
  id: string;
  userId: string;
  tenantId: string | null;
  purpose: ChallengePurpose;
  passwordFingerprint: string;
}

const ISSUER = 'orquestra';
const AUDIENCE = 'orquestra-mfa';
const challengeClaims = z.object({
  sub: z.uuid(),
  tid: z.uuid().nullable(),
  pur: z.enum(['verify', 'enrol']),
  pwf: z.string(),
  jti: z.uuid(),
  typ: z.literal('mfa-challenge'),
});

const keyOf = (jwtSecret: string) => new TextEncoder().encode(jwtSecret);
export const passwordFingerprint = (passwordHash: string) => sha256(`mfa-challenge:${passwordHash}`).slice(0, 32);

export async function signChallenge(jwtSecret: string, c: Omit<Challenge, 'id'>): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ tid: c.tenantId, pur: c.purpose, pwf: c.passwordFingerprint, typ: 'mfa-challenge' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(c.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + MFA_CHALLENGE_TTL_SECONDS)
    .setJti(randomUUID())
    .sign(keyOf(jwtSecret));
  return { token, expiresAt: new Date((now + MFA_CHALLENGE_TTL_SECONDS) * 1000) };
}

export async function verifyChallenge(jwtSecret: string, token: string): Promise<Challenge> {
  try {
    const { payload } = await jwtVerify(token, keyOf(jwtSecret), { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    const c = challengeClaims.parse(payload);
    return { id: c.jti, userId: c.sub, tenantId: c.tid, purpose: c.pur, passwordFingerprint: c.pwf };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw unauthorized('O tempo para informar o código acabou. Faça login novamente.');
    throw unauthorized('Verificação inválida. Faça login novamente.');
  }
}

export const loginChallengeSchema = z.object({
  mfaRequired: z.literal(true),
  challengeToken: z.string(),
  challengeExpiresAt: z.iso.datetime(),
  // The role requires MFA and the user has none yet: enrol (POST /api/auth/login/mfa/enrol), then
  // complete the login with the app's first code.
  enrolmentRequired: z.boolean(),
});
export type LoginChallenge = z.infer<typeof loginChallengeSchema>;

// What the login route answers instead of a session when the user has MFA, or must have it.
export async function loginChallenge(
  deps: Pick<ApiDeps, 'knex' | 'config'>,
  user: { id: string; tenantId: string | null; role: Role; passwordHash: string },
): Promise<LoginChallenge | null> {
  const purpose = await withScope(deps.knex, scopeOf(user.tenantId), async (trx): Promise<ChallengePurpose | null> => {
    if (await activeMfa(trx, user.id)) return 'verify';
    return (await mfaRequiredFor(trx, user)) ? 'enrol' : null;
  });
  if (!purpose) return null;
  const signed = await signChallenge(deps.config.JWT_SECRET, {
    userId: user.id, tenantId: user.tenantId, purpose, passwordFingerprint: passwordFingerprint(user.passwordHash),
  });
  return { mfaRequired: true, challengeToken: signed.token, challengeExpiresAt: signed.expiresAt.toISOString(), enrolmentRequired: purpose === 'enrol' };
}

// ---- Limits ----------------------------------------------------------------------------------

// Spent before a code is checked, so parallel guesses are bounded too: a few per challenge, and a
// few per account in a window whatever the number of challenges (each needs the password). A
// right code gives the account its points back (`forgiveAttempts`).
export async function spendCodeAttempt(deps: Pick<ApiDeps, 'rateLimits' | 'config'>, userId: string, challengeId?: string): Promise<void> {
  const { RATE_LIMIT_MFA_POINTS: points, RATE_LIMIT_MFA_WINDOW_SECONDS: window } = deps.config;
  const account = await deps.rateLimits.consume('mfa-account', userId, points, window);
  if (!account.allowed) {
    throw tooManyRequests(account.retryAfterSeconds, 'Muitas tentativas de código de verificação. Aguarde alguns minutos e tente novamente.');
  }
  if (challengeId) {
    const perChallenge = await deps.rateLimits.consume('mfa-challenge', challengeId, MFA_ATTEMPTS_PER_CHALLENGE, MFA_CHALLENGE_TTL_SECONDS);
    if (!perChallenge.allowed) {
      throw tooManyRequests(perChallenge.retryAfterSeconds, 'Muitas tentativas de código de verificação. Faça login novamente.');
    }
  }
}

export async function forgiveAttempts(deps: Pick<ApiDeps, 'rateLimits' | 'config'>, userId: string): Promise<void> {
  await deps.rateLimits.reset('mfa-account', userId, deps.config.RATE_LIMIT_MFA_POINTS, deps.config.RATE_LIMIT_MFA_WINDOW_SECONDS);
}

export async function spendEnrolment(deps: Pick<ApiDeps, 'rateLimits'>, challengeId: string): Promise<void> {
  const d = await deps.rateLimits.consume('mfa-enrol', challengeId, ENROLMENTS_PER_CHALLENGE, MFA_CHALLENGE_TTL_SECONDS);
  if (!d.allowed) throw tooManyRequests(d.retryAfterSeconds, 'Muitas tentativas de cadastro. Faça login novamente.');
}

// A challenge opens one session: a second completion (its token copied from a log) is refused.
export async function spendChallenge(deps: Pick<ApiDeps, 'rateLimits'>, challengeId: string): Promise<void> {
  const d = await deps.rateLimits.consume('mfa-challenge-used', challengeId, 1, MFA_CHALLENGE_TTL_SECONDS);
  if (!d.allowed) throw unauthorized('Esta verificação já foi usada. Faça login novamente.');
}

// ---- Codes -----------------------------------------------------------------------------------

// Accepts a code of the active secret once: the step is recorded in the same statement that
// checks it is newer than the last one, so two requests racing with the same code get one yes.
export async function acceptTotp(trx: Knex.Transaction, deps: Pick<ApiDeps, 'secrets'>, row: UserMfa & { secretSealed: string }, code: string): Promise<boolean> {
  const step = totpStep(deps.secrets.open(row.secretSealed), code);
  if (step === null) return false;
  const updated = await UserMfa.query(trx)
    .patch({ lastUsedStep: String(step), updatedAt: new Date() })
    .where({ userId: row.userId })
    .whereNotNull('secretSealed')
    .where((q) => q.whereNull('lastUsedStep').orWhere('lastUsedStep', '<', step));
  return updated === 1;
}

// Recovery codes are 80 random bits in Crockford's base32 (no I, L, O, U), shown as
// XXXX-XXXX-XXXX-XXXX. They are bearer secrets with nothing to guess, so SHA-256 stores them as it
// stores refresh tokens and API keys; a slow hash would cost ten verifications per attempt and buy
// nothing against 2^80.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 15; i >= 0; i--) out += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  return out.match(/.{4}/g)!.join('-');
}

// What a person types back: any case, with or without dashes or spaces, O for 0 and I or L for 1.
export function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

export const hashRecoveryCode = (code: string) => sha256(`recovery:${normalizeRecoveryCode(code)}`);

export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

// Removes the code as it checks it, so it works once even when two requests race.
export async function spendRecoveryCode(trx: Knex.Transaction, userId: string, code: string): Promise<number | null> {
  const hash = hashRecoveryCode(code);
  const { rows } = await trx.raw(
    `UPDATE user_mfa SET recovery_code_hashes = array_remove(recovery_code_hashes, ?), updated_at = now()
     WHERE user_id = ? AND secret_sealed IS NOT NULL AND ? = ANY(recovery_code_hashes)
     RETURNING cardinality(recovery_code_hashes) AS remaining`,
    [hash, userId, hash],
  );
  const row = (rows as { remaining: number }[])[0];
  return row ? Number(row.remaining) : null;
}

// ---- Enrolment -------------------------------------------------------------------------------

export const enrolmentSchema = z.object({
  // For typing into an app by hand; the same secret is in the URI and the QR code. Shown here only.
  secret: z.string(),
  otpauthUri: z.string(),
  qrCode: z.string().meta({ description: 'PNG data URL of the otpauth URI' }),
});
export type Enrolment = z.infer<typeof enrolmentSchema>;

// A new pending secret (any earlier pending one is replaced); the active one, if any, is never
// touched here.
export async function startEnrolment(
  trx: Knex.Transaction,
  deps: Pick<ApiDeps, 'secrets'>,
  user: { id: string; tenantId: string | null; email: string },
): Promise<Enrolment> {
  if (await activeMfa(trx, user.id)) throw conflict('A verificação em duas etapas já está ativa nesta conta.');
  const secret = newTotpSecret();
  const sealed = deps.secrets.seal(secret);
  const now = new Date();
  await trx('user_mfa')
    .insert({ userId: user.id, tenantId: user.tenantId, pendingSecretSealed: sealed, pendingSince: now, updatedAt: now })
    .onConflict('userId')
    .merge({ pendingSecretSealed: sealed, pendingSince: now, updatedAt: now });
  const otpauthUri = totpUri(secret, user.email);
  return { secret, otpauthUri, qrCode: await toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 1, width: 256 }) };
}

// The first code of the pending secret makes it the active one, with fresh recovery codes.
// Null when the code is wrong (nothing changes).
export async function confirmEnrolment(trx: Knex.Transaction, deps: Pick<ApiDeps, 'secrets'>, userId: string, code: string): Promise<string[] | null> {
  const row = await UserMfa.query(trx).findById(userId).forUpdate();
  if (row?.secretSealed) throw conflict('A verificação em duas etapas já está ativa nesta conta.');
  if (!row?.pendingSecretSealed) throw conflict('Nenhum cadastro de verificação em duas etapas em andamento: comece pelo cadastro.');
  const step = totpStep(deps.secrets.open(row.pendingSecretSealed), code);
  if (step === null) return null;
  const { codes, hashes } = newRecoveryCodes();
  const now = new Date();
  await UserMfa.query(trx).patch({
    secretSealed: row.pendingSecretSealed, enabledAt: now, lastUsedStep: String(step),
    pendingSecretSealed: null, pendingSince: null, recoveryCodeHashes: hashes, updatedAt: now,
  }).where({ userId });
  return codes;
}
