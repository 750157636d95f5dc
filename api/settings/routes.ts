import { User, UserMfa } from '../../db/models';
import { readTenantSettings, writeTenantSettings, type ReadSettings } from '../../db/tenant-settings';
import { mergeTenantSettings, tenantSettingsPatchSchema, tenantSettingsSchema } from '../../domain/tenant-settings';
import type { Logger } from '../../infra/logger';
import { badRequest, notFound, zodFieldErrors } from '../problem';
import { route } from '../route';
import { forgetTenantRateLimits } from '../tenant-rate-limits';

function found(read: ReadSettings | undefined, tenantId: string, log: Logger): ReadSettings['settings'] {
  if (!read) throw notFound('Configurações não encontradas.');
  if (read.replaced.length) log.warn({ tenantId, replaced: read.replaced }, 'stored tenant settings were invalid; their defaults apply');
  return read.settings;
}

export const getSettings = route({
  method: 'get',
  path: '/settings',
  summary: 'The tenant’s operating settings: time zone, business hours, limits, SLAs',
  tags: ['settings'],
  access: { roles: ['TENANT_ADMIN', 'MANAGER'], scopes: ['settings:read'] },
  responses: { 200: { description: 'Settings', schema: tenantSettingsSchema } },
  async handler({ tenantId, db, log }) {
    return { body: found(await readTenantSettings(db, tenantId), tenantId, log) };
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
  async handler({ tenantId, body, db, deps, audit, log }) {
    if (Object.keys(body).length === 0) throw badRequest('Nada a alterar.');
    const current = found(await readTenantSettings(db, tenantId, { forUpdate: true }), tenantId, log);
    let settings;
    try {
      settings = mergeTenantSettings(current, body);
    } catch (err) {
      throw badRequest('As configurações resultantes são inválidas.', zodFieldErrors(err, 'body'));
    }
    // The whole shape is written back, so a row from before a section existed now holds it.
    await writeTenantSettings(db, tenantId, settings);
    forgetTenantRateLimits(tenantId);
    // A role that now requires MFA: its people without it sign in again, through enrolment.
    const newlyRequired = settings.security.mfaRequiredRoles.filter((r) => !current.security.mfaRequiredRoles.includes(r));
    if (newlyRequired.length) {
      const withoutMfa = await User.query(db).whereIn('role', newlyRequired).whereNotExists(UserMfa.query(db).whereColumn('user_mfa.user_id', 'users.id'));
      for (const u of withoutMfa) await deps.sessions.closeAllFor(db, u.id);
    }
    await audit({ action: 'settings.updated', entityType: 'tenant_settings', entityId: tenantId, details: { changes: body } });
    return { body: settings };
  },
});

export const settingsRoutes = [getSettings, updateSettings];
