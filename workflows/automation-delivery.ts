import { log, patched, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AutomationEventName } from '../domain/automation-events';
import { entitySearchAttributes } from '../domain/search-attributes';
import { TENANT_ENDPOINTS_PATCH, tenantEndpointsQueue, type WorkflowStart } from './workflow-start';

// One event for a tenant's automation endpoint, delivered with backoff for about a day; an
// endpoint that stays down loses the event after that, and the Web UI shows it as failed.

export const automationEventWorkflowId = (tenantId: string, key: string) => `automation-event:${tenantId}:${key}`;

export interface AutomationEventInput {
  tenantId: string;
  eventId: string;
  event: AutomationEventName;
  occurredAt: string;
  data: Record<string, unknown>;
}

// The event's id is its workflow id: a retried activity that starts it again finds the first.
export function automationDeliveryStart(input: AutomationEventInput): WorkflowStart<typeof automationDelivery> {
  return {
    workflowType: automationDelivery,
    taskQueue: 'main',
    workflowId: input.eventId,
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'automation_event', input.eventId),
  };
}

// One attempt is bounded (the activity gives up on the endpoint after 10 s), so a tarpit holds a
// worker slot for seconds, not minutes. A tenant at its limit of concurrent calls fails the
// attempt too (TenantEndpointBusy) and waits here, with the same backoff.
const delivery: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 3, maximumInterval: '2 hours', maximumAttempts: 15, nonRetryableErrorTypes: ['AutomationEndpointGone'] },
};

export async function automationDelivery(input: AutomationEventInput): Promise<void> {
  // On the tenant-endpoint queue, apart from the activities that answer guests.
  const taskQueue = patched(TENANT_ENDPOINTS_PATCH) ? tenantEndpointsQueue(workflowInfo().taskQueue) : undefined;
  const { postAutomationEvent } = proxyActivities<Activities>({ ...delivery, ...(taskQueue ? { taskQueue } : {}) });
  const result = await postAutomationEvent(input);
  if ('skipped' in result) log.info('automation event skipped', { eventId: input.eventId, reason: result.skipped });
}
