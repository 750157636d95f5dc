import type Koa from 'koa';
import { ApiKey } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { API_KEY_SCOPES, type ApiKeyScope, type Role } from '../../domain/roles';
import type { ApiDeps } from '../deps';
import { unauthorized } from '../problem';
import { parseApiKey, sameHash, sha256 } from './secrets';

export type Principal =
  | { kind: 'user'; userId: string; tenantId: string | null; role: Role; sessionId: string }
  | { kind: 'apiKey'; keyId: string; tenantId: string; scopes: ApiKeyScope[] };

// Staff present a bearer access token; automations an `X-API-Key`. Returns null when neither
// is present; anything presented and wrong is a 401.
export async function authenticate(ctx: Koa.Context, deps: ApiDeps): Promise<Principal | null> {
  const authorization = ctx.get('authorization');
  const apiKey = ctx.get('x-api-key');
  if (authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) throw unauthorized('Cabeçalho Authorization deve ser "Bearer <token>".');
    const claims = await deps.accessTokens.verify(m[1] as string);
    if (await deps.revocations.isRevoked(claims.sessionId)) throw unauthorized('Sessão encerrada. Faça login novamente.');
    return { kind: 'user', ...claims };
  }
  if (apiKey) {
    const parsed = parseApiKey(apiKey);
    if (!parsed) throw unauthorized('Chave de API inválida.');
    const [row] = await deps.knex.select('*').from(deps.knex.raw('auth_find_api_key(?)', [parsed.id]));
    const key = row as
      | { id: string; tenantId: string; keyHash: string; scopes: string[]; expiresAt: Date | null; revokedAt: Date | null; tenantStatus: string; lastUsedAt: Date | null }
      | undefined;
    if (!key || !sameHash(key.keyHash, sha256(parsed.secret))) throw unauthorized('Chave de API inválida.');
    if (key.revokedAt) throw unauthorized('Chave de API revogada.');
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw unauthorized('Chave de API expirada.');
    if (key.tenantStatus !== 'active') throw unauthorized('Empresa inativa.');
    await noteKeyUse(deps, key);
    return {
      kind: 'apiKey',
      keyId: key.id,
      tenantId: key.tenantId,
      scopes: key.scopes.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s)),
    };
  }
  return null;
}

const KEY_USE_RESOLUTION_MS = 60_000;

// `last_used_at` to the minute: written only when the stored value is a minute old, so a busy
// automation costs one write a minute, not one per request. Before the request's transaction, so
// the request never holds two connections; the WHERE keeps instances racing on it to one write.
async function noteKeyUse(deps: ApiDeps, key: { id: string; tenantId: string; lastUsedAt: Date | null }): Promise<void> {
  const staleBefore = new Date(Date.now() - KEY_USE_RESOLUTION_MS);
  if (key.lastUsedAt && key.lastUsedAt > staleBefore) return;
  await withTenant(deps.knex, key.tenantId, async (trx) => {
    await ApiKey.query(trx)
      .patch({ lastUsedAt: new Date() })
      .where({ id: key.id })
      .where((w) => w.whereNull('lastUsedAt').orWhere('lastUsedAt', '<=', staleBefore));
  });
}
