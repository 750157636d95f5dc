import { TenantSettingsRow } from '../../db/models';
import { mergeTenantSettings, tenantSettingsPatchSchema, tenantSettingsSchema } from '../../domain/tenant-settings';
import { badRequest, notFound, zodFieldErrors } from '../problem';
import { route } from '../route';
import { forgetTenantRateLimits } from '../tenant-rate-limits';

export const getSettings = route({
  method: 'get',
  path: '/settings',
  summary: 'The tenant’s operating settings: time zone, business hours, limits, SLAs',
  tags: ['settings'],
  access: { roles: ['TENANT_ADMIN', 'MANAGER'], scopes: ['settings:read'] },
  responses: { 200: { description: 'Settings', schema: tenantSettingsSchema } },
  async handler({ principal, db }) {
    const row = await TenantSettingsRow.query(db).findById(principal.tenantId as string);
    if (!row) throw notFound('Configurações não encontradas.');
    return { body: row.settings };
  },
});

export const updateSettings = route({
  method: 'patch',
  path: '/settings',
  summary: 'Change some settings; nested objects are merged',
  tags: ['settings'],
  access: { roles: ['TENANT_ADMIN'] },
  body: tenantSettingsPatchSchema,
  responses: { 200: { description: 'The settings after the change', schema: tenantSettingsSchema } },
  async handler({ principal, body, db, audit }) {
    if (Object.keys(body).length === 0) throw badRequest('Nada a alterar.');
    const tenantId = principal.tenantId as string;
    const row = await TenantSettingsRow.query(db).findById(tenantId).forUpdate();
    if (!row) throw notFound('Configurações não encontradas.');
    let settings;
    try {
      settings = mergeTenantSettings(row.settings, body);
    } catch (err) {
      throw badRequest('As configurações resultantes são inválidas.', zodFieldErrors(err, 'body'));
    }
    await TenantSettingsRow.query(db).patch({ settings, updatedAt: new Date() }).where({ tenantId });
    forgetTenantRateLimits(tenantId);
    await audit({ action: 'settings.updated', entityType: 'tenant_settings', entityId: tenantId, details: { changes: body } });
    return { body: settings };
  },
});

export const settingsRoutes = [getSettings, updateSettings];
