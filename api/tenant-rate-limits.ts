import type { Knex } from 'knex';
import { readTenantSettings } from '../db/tenant-settings';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../domain/tenant-settings';

// Limits come from each tenant's settings. Read at most every 30 s per tenant: a changed limit
// takes effect within that, without one query per request.
const TTL_MS = 30_000;
const cache = new Map<string, { at: number; limits: TenantSettings['rateLimits'] }>();

export async function tenantRateLimits(db: Knex.Transaction, tenantId: string | null): Promise<TenantSettings['rateLimits']> {
  if (!tenantId) return DEFAULT_TENANT_SETTINGS.rateLimits;
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.limits;
  const limits = (await readTenantSettings(db, tenantId))?.settings.rateLimits ?? DEFAULT_TENANT_SETTINGS.rateLimits;
  cache.set(tenantId, { at: Date.now(), limits });
  return limits;
}

export function forgetTenantRateLimits(tenantId: string): void {
  cache.delete(tenantId);
}
