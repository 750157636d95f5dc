import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MetaApp, WhatsAppChannel } from '../../db/models';
import { isUniqueViolation } from '../../db/tenant-scope';
import { conflict } from '../problem';
import { route } from '../route';

// The tenant's WhatsApp numbers and, for tenants that bring their own Meta app, that app's
// secret and webhook verify token (sealed at rest). Its webhook URL is /webhooks/whatsapp/{appId}.

const channelView = z.object({
  id: z.uuid(),
  phoneNumberId: z.string(),
  wabaId: z.string(),
  displayPhoneNumber: z.string().nullable(),
  verifiedName: z.string().nullable(),
  metaAppId: z.string().nullable(),
  webhookPath: z.string(),
});

export const listChannels = route({
  method: 'get',
  path: '/whatsapp/channels',
  summary: 'The tenant’s WhatsApp numbers and the webhook path each one is served on',
  tags: ['whatsapp'],
  access: { roles: ['TENANT_ADMIN'] },
  responses: { 200: { description: 'Channels', schema: z.object({ items: z.array(channelView) }) } },
  async handler({ db }) {
    const channels = await WhatsAppChannel.query(db).orderBy('createdAt');
    const apps = new Map((await MetaApp.query(db)).map((a) => [a.id, a.appId]));
    return {
      body: {
        items: channels.map((c) => {
          const appId = c.metaAppId ? (apps.get(c.metaAppId) ?? null) : null;
          return {
            id: c.id, phoneNumberId: c.phoneNumberId, wabaId: c.wabaId, displayPhoneNumber: c.displayPhoneNumber, verifiedName: c.verifiedName,
            metaAppId: appId, webhookPath: appId ? `/webhooks/whatsapp/${appId}` : '/webhooks/whatsapp',
          };
        }),
      },
    };
  },
});

export const putMetaApp = route({
  method: 'put',
  path: '/whatsapp/meta-app',
  summary: 'Bring your own Meta app: its id, App Secret and webhook verify token; the tenant’s numbers move to it',
  tags: ['whatsapp'],
  access: { roles: ['TENANT_ADMIN'] },
  body: z
    .object({
      appId: z.string().regex(/^\d{5,30}$/, 'digits only'),
      appSecret: z.string().min(16).max(200),
      verifyToken: z.string().min(8).max(200),
    })
    .strict(),
  responses: { 200: { description: 'Saved', schema: z.object({ appId: z.string(), webhookPath: z.string() }) }, 409: { description: 'App registered by another tenant' } },
  async handler({ body, db, deps, audit, tenantId }) {
    const existing = await MetaApp.query(db).findOne({ appId: body.appId });
    const id = existing?.id ?? randomUUID();
    const sealed = { appSecretSealed: deps.secrets.seal(body.appSecret), verifyTokenSealed: deps.secrets.seal(body.verifyToken), updatedAt: new Date() };
    try {
      if (existing) await MetaApp.query(db).findById(id).patch(sealed);
      else await MetaApp.query(db).insert({ id, tenantId, appId: body.appId, ...sealed });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('Este aplicativo Meta já está registrado por outro cliente.');
      throw err;
    }
    await WhatsAppChannel.query(db).patch({ metaAppId: id });
    await audit({ action: 'meta_app.set', entityType: 'meta_app', entityId: id, details: { appId: body.appId } });
    return { body: { appId: body.appId, webhookPath: `/webhooks/whatsapp/${body.appId}` } };
  },
});

export const whatsappRoutes = [listChannels, putMetaApp];
