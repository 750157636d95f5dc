// The tenant provisioning process's lists. The zod enums, the model's fields, the workflow's
// progress and the migration's CHECK all read these; test/db/status-checks.test.ts fails if the
// database accepts anything else.

// Where a tenant stands: being provisioned, open, suspended by the platform, or a provisioning
// that failed (its slug is free again).
export const TENANT_STATUSES = ['provisioning', 'active', 'suspended', 'failed'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const TENANT_PLANS = ['trial', 'standard', 'premium'] as const;
export type TenantPlan = (typeof TENANT_PLANS)[number];

// The provisioning workflow's progress, as its query reports it.
export const PROVISIONING_STATES = ['running', 'compensating', 'completed', 'failed'] as const;
export type ProvisioningState = (typeof PROVISIONING_STATES)[number];

export const PROVISIONING_STEP_STATES = ['pending', 'running', 'done', 'skipped', 'failed', 'compensated'] as const;
export type ProvisioningStepState = (typeof PROVISIONING_STEP_STATES)[number];
