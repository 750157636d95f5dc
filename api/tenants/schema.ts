import { z } from 'zod';
import type { Tenant } from '../../db/models';
import { isValidTimeZone } from '../../domain/tenant-settings';
import { PROVISIONING_STATES, PROVISIONING_STEP_STATES, TENANT_PLANS, TENANT_STATUSES } from '../../domain/tenant-statuses';
import { email, password, personName } from '../schemas';

export const slug = z
  .string()
  .min(2)
  .max(63)
  .regex(/^[a-z0-9](-?[a-z0-9])*$/, 'lowercase letters, digits and single hyphens');

export const createTenantBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    slug,
    plan: z.enum(TENANT_PLANS).default('standard'),
    timeZone: z.string().refine(isValidTimeZone, 'unknown IANA time zone').optional(),
    admin: z.object({ name: personName, email, password }).strict(),
    whatsapp: z
      .object({
        phoneNumberId: z.string().regex(/^\d{5,30}$/, 'digits only'),
        wabaId: z.string().regex(/^\d{5,30}$/, 'digits only'),
        accessToken: z.string().min(10).max(1024),
      })
      .strict()
      .optional(),
  })
  .strict();

export const tenantView = z.object({
  id: z.uuid(),
  slug: z.string(),
  name: z.string(),
  plan: z.string(),
  status: z.enum(TENANT_STATUSES),
  failureReason: z.string().nullable(),
  provisioningWorkflowId: z.string(),
  createdAt: z.iso.datetime(),
  provisionedAt: z.iso.datetime().nullable(),
});

export function toTenantView(t: Tenant): z.infer<typeof tenantView> {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    plan: t.plan,
    status: t.status,
    failureReason: t.failureReason,
    provisioningWorkflowId: t.provisioningWorkflowId,
    createdAt: t.createdAt.toISOString(),
    provisionedAt: t.provisionedAt?.toISOString() ?? null,
  };
}

export const provisioningView = z.object({
  tenantId: z.uuid(),
  workflowId: z.string(),
  runId: z.string(),
  workflowStatus: z.string(),
  progress: z
    .object({
      state: z.enum(PROVISIONING_STATES),
      steps: z.array(z.object({ name: z.string(), state: z.enum(PROVISIONING_STEP_STATES), error: z.string().optional() })),
      failure: z.string().optional(),
    })
    .nullable(),
});
