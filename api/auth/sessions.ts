import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { RefreshToken, Tenant, User } from '../../db/models';
import { withScope, type Scope } from '../../db/tenant-scope';
import type { Role } from '../../domain/roles';
import type { SessionRevocations } from '../../infra/session-revocations';
import { unauthorized } from '../problem';
import { formatRefreshToken, newSecret, parseRefreshToken, sameHash, sha256 } from './secrets';
import { REFRESH_TOKEN_TTL_SECONDS, type AccessTokens } from './tokens';

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

const scopeOf = (tenantId: string | null): Scope => (tenantId ? { tenantId } : { platform: true });

// A session is a family of refresh tokens: each refresh spends one token and issues the next.
// Presenting a spent token means it was copied, so the whole family is revoked, along with the
// access tokens it issued.
export class Sessions {
  constructor(
    private readonly knex: Knex,
    private readonly accessTokens: AccessTokens,
    private readonly revocations: SessionRevocations,
  ) {}

  async open(trx: Knex.Transaction, user: SessionUser): Promise<TokenPair> {
    const familyId = randomUUID();
    return this.issue(trx, user, familyId);
  }

  async refresh(presented: string): Promise<TokenPair> {
    const parsed = parseRefreshToken(presented);
    if (!parsed) throw unauthorized('Refresh token inválido.');
    const [row] = await this.knex.select('*').from(this.knex.raw('auth_find_refresh_token(?)', [parsed.id]));
    const found = row as Pick<RefreshToken, 'id' | 'tenantId' | 'userId' | 'familyId' | 'tokenHash' | 'expiresAt' | 'usedAt' | 'revokedAt'> | undefined;
    if (!found || !sameHash(found.tokenHash, sha256(parsed.secret))) throw unauthorized('Refresh token inválido.');

    const outcome = await withScope(this.knex, scopeOf(found.tenantId), async (trx) => {
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
      const pair = await this.issue(trx, user, found.familyId);
      await RefreshToken.query(trx).patch({ replacedBy: parseRefreshToken(pair.refreshToken)?.id ?? null }).where({ id: found.id });
      return pair;
    });

    if (outcome === 'reused') {
      await this.revocations.revoke(found.familyId);
      throw unauthorized('Refresh token já utilizado: a sessão foi encerrada por segurança. Faça login novamente.');
    }
    if (outcome === 'expired') throw unauthorized('Sessão expirada ou encerrada. Faça login novamente.');
    if (outcome === 'inactive') throw unauthorized('Usuário ou empresa inativos.');
    return outcome;
  }

  async close(trx: Knex.Transaction, sessionId: string): Promise<void> {
    await this.revokeFamily(trx, sessionId);
    await this.revocations.revoke(sessionId);
  }

  // Deactivating a user or resetting their password ends every session they have.
  async closeAllFor(trx: Knex.Transaction, userId: string): Promise<void> {
    const families = await RefreshToken.query(trx).distinct('familyId').where({ userId }).whereNull('revokedAt');
    await RefreshToken.query(trx).patch({ revokedAt: new Date() }).where({ userId }).whereNull('revokedAt');
    for (const f of families) await this.revocations.revoke(f.familyId);
  }

  private async revokeFamily(trx: Knex.Transaction, familyId: string): Promise<void> {
    await RefreshToken.query(trx).patch({ revokedAt: new Date() }).where({ familyId }).whereNull('revokedAt');
  }

  private async issue(trx: Knex.Transaction, user: SessionUser, familyId: string): Promise<TokenPair> {
    const id = randomUUID();
    const secret = newSecret();
    const expiresAt = new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000);
    await RefreshToken.query(trx).insert({
      id, tenantId: user.tenantId, userId: user.id, familyId, tokenHash: sha256(secret), expiresAt,
    });
    const access = await this.accessTokens.sign({ userId: user.id, tenantId: user.tenantId, role: user.role, sessionId: familyId });
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
