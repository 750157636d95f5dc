import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { ROLES, type Role } from '../../domain/roles';
import { unauthorized } from '../problem';

export const ACCESS_TOKEN_TTL_SECONDS = 8 * 60 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
const ISSUER = 'orquestra';
const AUDIENCE = 'orquestra-api';

export interface AccessClaims {
  userId: string;
  tenantId: string | null;
  role: Role;
  sessionId: string;
}

const claimsSchema = z.object({
  sub: z.uuid(),
  tid: z.uuid().nullable(),
  role: z.enum(ROLES),
  sid: z.uuid(),
  typ: z.literal('access'),
});

// HS256 only: `alg: none` and any other algorithm are refused by jwtVerify's allow-list.
export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(c: AccessClaims, ttlSeconds = ACCESS_TOKEN_TTL_SECONDS): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tid: c.tenantId, role: c.role, sid: c.sessionId, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(c.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
  }

  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      const c = claimsSchema.parse(payload);
      return { userId: c.sub, tenantId: c.tid, role: c.role, sessionId: c.sid };
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw unauthorized('Sessão expirada. Faça login novamente.');
      throw unauthorized('Token de acesso inválido.');
    }
  }
}
