// Who may do what. SUPER_ADMIN belongs to the platform (no tenant); every other role to one tenant.
export const ROLES = ['SUPER_ADMIN', 'TENANT_ADMIN', 'MANAGER', 'ATTENDANT', 'SALES', 'FINANCE'] as const;
export type Role = (typeof ROLES)[number];

export const TENANT_ROLES = ROLES.filter((r): r is Exclude<Role, 'SUPER_ADMIN'> => r !== 'SUPER_ADMIN');
export type TenantRole = (typeof TENANT_ROLES)[number];

// Scopes an automation API key can hold. Later processes add theirs here so that one list
// drives validation, documentation and the admin screen.
export const API_KEY_SCOPES = [
  'users:read',
  'audit:read',
  'settings:read',
  'conversations:read',
  'conversations:write',
  'messages:send',
  'catalog:read',
  'catalog:write',
  'leads:read',
  'leads:write',
  'appointments:write',
  'proposals:write',
  'contracts:read',
  'contracts:write',
  'invoices:read',
  'invoices:write',
  'payments:write',
  'subscriptions:write',
  'consortium:read',
  'consortium:write',
  'bids:write',
  'lottery:write',
  // LGPD data-subject requests: read them (and a request's export), register and decide them.
  'privacy:read',
  'privacy:write',
] as const;

// Who works the funnel: sales users own leads; managers and admins see and act on everyone's.
export const SALES_ROLES = ['TENANT_ADMIN', 'MANAGER', 'SALES'] as const satisfies readonly Role[];
// Who works billing and collection: finance users, managers and admins.
export const BILLING_ROLES = ['TENANT_ADMIN', 'MANAGER', 'FINANCE'] as const satisfies readonly Role[];
// Who runs consortium groups and their assemblies: the administrator's back office.
export const CONSORTIUM_ROLES = ['TENANT_ADMIN', 'MANAGER', 'FINANCE'] as const satisfies readonly Role[];
// Who answers LGPD data-subject requests (art. 18) and confirms the person's identity: the tenant's
// administrators, who act for the controller (and its encarregado, art. 41). An erasure cannot be
// undone and an export holds everything about a person, so no other role sees them.
export const PRIVACY_ROLES = ['TENANT_ADMIN'] as const satisfies readonly Role[];
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export function isTenantRole(role: Role): role is TenantRole {
  return role !== 'SUPER_ADMIN';
}
