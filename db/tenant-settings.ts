import type { Knex } from 'knex';
import { DEFAULT_TENANT_SETTINGS, storedTenantSettingsSchema, type TenantSettings } from '../domain/tenant-settings';
import { TenantSettingsRow } from './models';

// The one reader of a tenant's settings row. A row is written once at provisioning and patched
// later, so it holds the shape of the day it was last written: a section added since is missing,
// and a section may lack a field added since. Both read as their defaults, section by section
// and field by field, so adding a setting needs no data migration.

type Section = Record<string, unknown>;

const isSection = (v: unknown): v is Section => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ReadSettings {
  settings: TenantSettings;
  // What was stored but invalid and read as its default instead (`conversation.outOfHoursMessage`).
  replaced: string[];
}

// Pure: the stored JSON (or nothing) with the defaults filled in and validated. A stored value the
// schema refuses falls back to its default rather than making the whole row unreadable, and is
// named in `replaced` so the caller can log it.
export function withSettingsDefaults(stored: unknown): ReadSettings {
  const defaults = DEFAULT_TENANT_SETTINGS as unknown as Section;
  const row = isSection(stored) ? stored : {};
  const merged: Section = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = row[key];
    merged[key] = isSection(fallback) && isSection(value) ? { ...fallback, ...value } : value === undefined ? fallback : value;
  }

  const replaced = new Set<string>();
  let parsed = storedTenantSettingsSchema.safeParse(merged);
  // First the refused fields alone, keeping the rest of their section; then, for whatever is still
  // refused, the whole section.
  for (const level of ['field', 'section'] as const) {
    if (parsed.success) break;
    for (const issue of parsed.error.issues) {
      const [key, field] = issue.path.map(String);
      if (key === undefined || !(key in defaults)) continue;
      const fallback = defaults[key];
      const current = merged[key];
      if (level === 'field' && field !== undefined && isSection(fallback) && isSection(current) && field in fallback) {
        merged[key] = { ...current, [field]: fallback[field] };
        replaced.add(`${key}.${field}`);
      } else if (level === 'section' || field === undefined || !isSection(current)) {
        merged[key] = fallback;
        replaced.add(key);
      }
    }
    parsed = storedTenantSettingsSchema.safeParse(merged);
  }
  return parsed.success
    ? { settings: parsed.data, replaced: [...replaced] }
    : { settings: DEFAULT_TENANT_SETTINGS, replaced: Object.keys(defaults) };
}

// `undefined` when the tenant has no settings row (it is being provisioned, or is gone).
export async function readTenantSettings(
  db: Knex | Knex.Transaction,
  tenantId: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ReadSettings | undefined> {
  const query = TenantSettingsRow.query(db).findById(tenantId);
  const row = await (opts.forUpdate ? query.forUpdate() : query);
  return row ? withSettingsDefaults(row.settings) : undefined;
}

export async function writeTenantSettings(db: Knex | Knex.Transaction, tenantId: string, settings: TenantSettings): Promise<void> {
  await TenantSettingsRow.query(db).patch({ settings, updatedAt: new Date() }).where({ tenantId });
}
