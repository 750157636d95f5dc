import { ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Actor } from '../domain/actor';
import { entitySearchAttributes } from '../domain/search-attributes';
import type { ProvisioningState, ProvisioningStepState } from '../domain/tenant-statuses';
import type { WorkflowStart } from './workflow-start';

// Tenant provisioning: create the tenant, give it default settings and its first admin, check
// the WhatsApp number it brings, then open it. A step that cannot succeed undoes the steps
// before it, newest first, and the tenant ends as `failed` with the reason.

export const provisioningWorkflowId = (tenantId: string) => `tenant-provisioning:${tenantId}`;

export interface ProvisionTenantInput {
  tenantId: string;
  slug: string;
  name: string;
  plan: string;
  timeZone?: string;
  admin: { name: string; email: string; passwordHash: string };
  // The access token arrives sealed by the API, so it never sits in the history in clear.
  whatsapp?: { phoneNumberId: string; wabaId: string; accessTokenSealed: string };
  requestedBy: Actor;
  requestId?: string;
}

export const PROVISIONING_STEPS = ['createTenant', 'applyDefaultSettings', 'createAdmin', 'verifyWhatsApp', 'activateTenant'] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];
export type StepState = ProvisioningStepState;

export interface ProvisioningStatus {
  tenantId: string;
  slug: string;
  state: ProvisioningState;
  steps: { name: ProvisioningStep; state: StepState; error?: string }[];
  adminUserId?: string;
  failure?: string;
}

export interface ProvisioningResult {
  tenantId: string;
  adminUserId: string;
  whatsappChannelId?: string;
}

// One provisioning per tenant id: a second start for the same tenant finds the first.
export function provisioningStart(input: ProvisionTenantInput): WorkflowStart<typeof tenantProvisioning> {
  return {
    workflowType: tenantProvisioning,
    taskQueue: 'main',
    workflowId: provisioningWorkflowId(input.tenantId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'tenant', input.tenantId),
  };
}

export const provisioningStatusQuery = defineQuery<ProvisioningStatus>('provisioningStatus');

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

// Undoing must eventually succeed, however long the database is away.
const undo = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function tenantProvisioning(input: ProvisionTenantInput): Promise<ProvisioningResult> {
  const { tenantId } = input;
  const audit = { actor: input.requestedBy, requestId: input.requestId };
  const status: ProvisioningStatus = {
    tenantId,
    slug: input.slug,
    state: 'running',
    steps: PROVISIONING_STEPS.map((name) => ({ name, state: 'pending' })),
  };
  setHandler(provisioningStatusQuery, () => status);

  const compensations: { step: ProvisioningStep; run: () => Promise<void> }[] = [];
  const run = async <T>(name: ProvisioningStep, action: () => Promise<T>): Promise<T> => {
    const s = stepOf(status, name);
    s.state = 'running';
    try {
      const result = await action();
      s.state = 'done';
      return result;
    } catch (err) {
      s.state = 'failed';
      s.error = failureMessage(err);
      throw err;
    }
  };

  try {
    await run('createTenant', () =>
      steps.createTenant({ tenantId, slug: input.slug, name: input.name, plan: input.plan, ...audit }),
    );
    compensations.unshift({ step: 'createTenant', run: () => undo.discardTenant({ tenantId, ...audit }) });

    await run('applyDefaultSettings', () => steps.applyDefaultSettings({ tenantId, timeZone: input.timeZone, ...audit }));
    compensations.unshift({ step: 'applyDefaultSettings', run: () => undo.removeSettings({ tenantId }) });

    const adminUserId = await run('createAdmin', () => steps.createTenantAdmin({ tenantId, ...input.admin, ...audit }));
    status.adminUserId = adminUserId;
    compensations.unshift({ step: 'createAdmin', run: () => undo.removeUser({ tenantId, userId: adminUserId, ...audit }) });

    let whatsappChannelId: string | undefined;
    if (input.whatsapp) {
      const whatsapp = input.whatsapp;
      whatsappChannelId = await run('verifyWhatsApp', async () => {
        const profile = await steps.verifyWhatsAppCredentials(whatsapp);
        return steps.saveWhatsAppChannel({ tenantId, ...whatsapp, ...profile, ...audit });
      });
      compensations.unshift({
        step: 'verifyWhatsApp',
        run: () => undo.removeWhatsAppChannel({ tenantId, channelId: whatsappChannelId as string }),
      });
    } else {
      stepOf(status, 'verifyWhatsApp').state = 'skipped';
    }

    await run('activateTenant', () => steps.activateTenant({ tenantId, ...audit }));
    status.state = 'completed';
    return { tenantId, adminUserId, whatsappChannelId };
  } catch (err) {
    const reason = failureMessage(err);
    status.state = 'compensating';
    status.failure = reason;
    for (const c of compensations) {
      await c.run();
      stepOf(status, c.step).state = 'compensated';
    }
    await undo.recordProvisioningFailure({ tenantId, slug: input.slug, reason, ...audit });
    status.state = 'failed';
    throw ApplicationFailure.nonRetryable(`Provisioning of tenant ${input.slug} failed: ${reason}`, 'ProvisioningFailed');
  }
}

function stepOf(status: ProvisioningStatus, name: ProvisioningStep) {
  const s = status.steps.find((x) => x.name === name);
  if (!s) throw ApplicationFailure.nonRetryable(`unknown step ${name}`);
  return s;
}

// An activity failure wraps the activity's own error: report the innermost message.
function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
