import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ApiKey } from '../../db/models';
import { API_KEY_SCOPES } from '../../domain/roles';
import { formatApiKey, newSecret, sha256 } from '../auth/secrets';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';

const apiKeyView = z.object({
  id: z.uuid(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  // Written at most once a minute per key: a key nobody uses any more shows it.
  lastUsedAt: z.iso.datetime().nullable(),
});

const toView = (k: ApiKey): z.infer<typeof apiKeyView> => ({
  id: k.id,
  name: k.name,
  scopes: k.scopes,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

const admins = { roles: ['TENANT_ADMIN' as const] };

export const listApiKeys = route({
  method: 'get',
  path: '/api-keys',
  summary: 'List the tenant’s automation API keys (never their secrets)',
  tags: ['api-keys'],
  access: admins,
  query: pageQuery,
  responses: { 200: { description: 'A page of keys', schema: pageOf(apiKeyView) } },
  async handler({ query, db }) {
    const { rows, nextCursor } = await keysetPage(ApiKey.query(db), query);
    return { body: { items: rows.map(toView), nextCursor } };
  },
});

export const createApiKey = route({
  method: 'post',
  path: '/api-keys',
  summary: 'Create an automation API key; the key is shown only in this response',
  tags: ['api-keys'],
  access: admins,
  body: z
    .object({
      name: z.string().trim().min(1).max(100),
      scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
      expiresAt: z.iso
        .datetime({ offset: true })
        .refine((d) => new Date(d).getTime() > Date.now(), 'must be in the future')
        .optional(),
    })
    .strict(),
  responses: { 201: { description: 'Created; store `key` now', schema: apiKeyView.extend({ key: z.string() }) } },
  async handler({ body, principal, db, audit, tenantId }) {
    const id = randomUUID();
    const secret = newSecret();
    const key = await ApiKey.query(db).insertAndFetch({
      id,
      tenantId: tenantId,
      name: body.name,
      keyHash: sha256(secret),
      scopes: [...new Set(body.scopes)],
      createdBy: principal.kind === 'user' ? principal.userId : null,
      expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
    });
    await audit({ action: 'api_key.created', entityType: 'api_key', entityId: id, details: { name: body.name, scopes: key.scopes } });
    return { status: 201, headers: { location: `/api/api-keys/${id}` }, body: { ...toView(key), key: formatApiKey(id, secret) } };
  },
});

export const getApiKey = route({
  method: 'get',
  path: '/api-keys/:keyId',
  summary: 'One API key (without its secret)',
  tags: ['api-keys'],
  access: admins,
  params: uuidParam('keyId'),
  responses: { 200: { description: 'The key', schema: apiKeyView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db }) {
    const key = await ApiKey.query(db).findById(params.keyId);
    if (!key) throw notFound('Chave de API não encontrada.');
    return { body: toView(key) };
  },
});

export const revokeApiKey = route({
  method: 'delete',
  path: '/api-keys/:keyId',
  summary: 'Revoke an API key; it stops working at once',
  tags: ['api-keys'],
  access: admins,
  params: uuidParam('keyId'),
  responses: { 204: { description: 'Revoked (also when it already was)' }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db, audit }) {
    const key = await ApiKey.query(db).findById(params.keyId).forUpdate();
    if (!key) throw notFound('Chave de API não encontrada.');
    if (!key.revokedAt) {
      await ApiKey.query(db).patch({ revokedAt: new Date() }).where({ id: key.id });
      await audit({ action: 'api_key.revoked', entityType: 'api_key', entityId: key.id, details: { name: key.name } });
    }
    return { status: 204 };
  },
});

export const apiKeyRoutes = [listApiKeys, createApiKey, getApiKey, revokeApiKey];
