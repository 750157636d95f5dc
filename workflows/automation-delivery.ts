import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AutomationEventName } from '../domain/automation-events';
import { entitySearchAttributes } from '../domain/search-attributes';
import type { WorkflowStart } from './workflow-start';

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

const { postAutomationEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 3, maximumInterval: '2 hours', maximumAttempts: 15, nonRetryableErrorTypes: ['AutomationEndpointGone'] },
});

export async function automationDelivery(input: AutomationEventInput): Promise<void> {
  const result = await postAutomationEvent(input);
  if ('skipped' in result) log.info('automation event skipped', { eventId: input.eventId, reason: result.skipped });
}
