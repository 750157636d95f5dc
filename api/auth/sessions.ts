import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { RefreshToken, Tenant, User } from '../../db/models';
import { withScope, type Scope } from '../../db/tenant-scope';
import type { Role } from '../../domain/roles';
import type { SessionRevocations } from '../../infra/session-revocations';
import { unauthorized } from '../problem';
import { formatRefreshToken, newSecret, parseRefreshToken, sameHash, sha256 } from './secrets';
import { ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS, type AccessTokens } from './tokens';

export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  tokenType: 'Bearer';
}

interface SessionUser {
  id: string;
  tenantId: string | null;
  role: Role;
}

// How long a session may last from its login, refreshed or not (SESSION_MAX_AGE_HOURS).
export interface SessionPolicy {
  maxAgeSeconds: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { maxAgeSeconds: 30 * 24 * 60 * 60 };

export const sessionPolicy = (config: { SESSION_MAX_AGE_HOURS: number }): SessionPolicy => ({ maxAgeSeconds: config.SESSION_MAX_AGE_HOURS * 3600 });

const scopeOf = (tenantId: string | null): Scope => (tenantId ? { tenantId } : { platform: true });

// A session is a family of refresh tokens: each refresh spends one token and issues the next.
// Presenting a spent token means it was copied, so the whole family is revoked, along with the
// access tokens it issued. A family also ends at its absolute lifetime, counted from its first
// token: nothing it issues (refresh or access token) outlives that.
export class Sessions {
  constructor(
    private readonly knex: Knex,
    private readonly accessTokens: AccessTokens,
    private readonly revocations: SessionRevocations,
  ) {}

  async open(trx: Knex.Transaction, user: SessionUser, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Promise<TokenPair> {
    const familyId = randomUUID();
    return this.issue(trx, user, familyId, new Date(Date.now() + policy.maxAgeSeconds * 1000));
  }

  async refresh(presented: string, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Promise<TokenPair> {
    const parsed = parseRefreshToken(presented);
    if (!parsed) throw unauthorized('Refresh token inválido.');
    const [row] = await this.knex.select('*').from(this.knex.raw('auth_find_refresh_token(?)', [parsed.id]));
    const found = row as Pick<RefreshToken, 'id' | 'tenantId' | 'userId' | 'familyId' | 'tokenHash' | 'expiresAt' | 'usedAt' | 'revokedAt'> | undefined;
    if (!found || !sameHash(found.tokenHash, sha256(parsed.secret))) throw unauthorized('Refresh token inválido.');

    const outcome = await withScope(this.knex, scopeOf(found.tenantId), async (trx) => {
      const started = await RefreshToken.query(trx).where({ familyId: found.familyId }).min('createdAt as startedAt').first();
      const startedAt = (started as unknown as { startedAt: Date | null } | undefined)?.startedAt ?? new Date();
      const endsAt = new Date(startedAt.getTime() + policy.maxAgeSeconds * 1000);
      if (endsAt.getTime() <= Date.now()) return 'too-old' as const;
      const claimed = await RefreshToken.query(trx)
        .patch({ usedAt: new Date() })
        .where({ id: found.id })
        .whereNull('usedAt')
        .whereNull('revokedAt')
        .where('expiresAt', '>', new Date());
      if (!claimed) {
        // Re-read: a concurrent refresh with the same token is a reuse too.
        const now = await RefreshToken.query(trx).findById(found.id);
        if (now?.usedAt && !now.revokedAt) {
          await this.revokeFamily(trx, found.familyId);
          return 'reused' as const;
        }
        return 'expired' as const;
      }
      const user = await User.query(trx).findById(found.userId);
      if (!user?.active || !(await tenantIsOpen(trx, user.tenantId))) return 'inactive' as const;
      const pair = await this.issue(trx, user, found.familyId, endsAt);
      await RefreshToken.query(trx).patch({ replacedBy: parseRefreshToken(pair.refreshToken)?.id ?? null }).where({ id: found.id });
      return pair;
    });

    if (outcome === 'reused') {
      await this.revocations.revoke(found.familyId);
      throw unauthorized('Refresh token já utilizado: a sessão foi encerrada por segurança. Faça login novamente.');
    }
    if (outcome === 'expired') throw unauthorized('Sessão expirada ou encerrada. Faça login novamente.');
    if (outcome === 'too-old') throw unauthorized('A sessão atingiu a duração máxima. Faça login novamente.');
    if (outcome === 'inactive') throw unauthorized('Usuário ou empresa inativos.');
    return outcome;
  }

  async close(trx: Knex.Transaction, sessionId: string): Promise<void> {
    await this.revokeFamily(trx, sessionId);
    await this.revocations.revoke(sessionId);
  }

  // Deactivating a user, changing their role or their password ends every session they have
  // (but the one changing its own password: `except`). Returns how many ended. A family whose
  // access tokens may still be alive always has an unrevoked token: the one issued with the last.
  async closeAllFor(trx: Knex.Transaction, userId: string, opts: { except?: string } = {}): Promise<number> {
    const open = () => {
      const q = RefreshToken.query(trx).where({ userId }).whereNull('revokedAt');
      if (opts.except) q.whereNot({ familyId: opts.except });
      return q;
    };
    const families = await open().distinct('familyId');
    await open().patch({ revokedAt: new Date() });
    for (const f of families) await this.revocations.revoke(f.familyId);
    return families.length;
  }

  // A suspended tenant's staff are signed out everywhere. The caller's transaction must see the
  // tenant's rows (its scope, not the platform's).
  async closeAllForTenant(trx: Knex.Transaction, tenantId: string): Promise<number> {
    const families = await RefreshToken.query(trx).distinct('familyId').where({ tenantId }).whereNull('revokedAt');
    await RefreshToken.query(trx).patch({ revokedAt: new Date() }).where({ tenantId }).whereNull('revokedAt');
    for (const f of families) await this.revocations.revoke(f.familyId);
    return families.length;
  }

  private async revokeFamily(trx: Knex.Transaction, familyId: string): Promise<void> {
    await RefreshToken.query(trx).patch({ revokedAt: new Date() }).where({ familyId }).whereNull('revokedAt');
  }

  private async issue(trx: Knex.Transaction, user: SessionUser, familyId: string, sessionEndsAt: Date): Promise<TokenPair> {
    const id = randomUUID();
    const secret = newSecret();
    const now = Date.now();
    const expiresAt = new Date(Math.min(now + REFRESH_TOKEN_TTL_SECONDS * 1000, sessionEndsAt.getTime()));
    const accessTtl = Math.max(1, Math.min(ACCESS_TOKEN_TTL_SECONDS, Math.floor((sessionEndsAt.getTime() - now) / 1000)));
    await RefreshToken.query(trx).insert({
      id, tenantId: user.tenantId, userId: user.id, familyId, tokenHash: sha256(secret), expiresAt,
    });
    const access = await this.accessTokens.sign({ userId: user.id, tenantId: user.tenantId, role: user.role, sessionId: familyId }, accessTtl);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: formatRefreshToken(id, secret),
      refreshTokenExpiresAt: expiresAt.toISOString(),
      tokenType: 'Bearer',
    };
  }
}

export async function tenantIsOpen(trx: Knex.Transaction, tenantId: string | null): Promise<boolean> {
  if (tenantId === null) return true;
  const t = await Tenant.query(trx).findById(tenantId);
  return t?.status === 'active';
}
