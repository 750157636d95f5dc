import type { WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { Workflow } from '@temporalio/workflow';

// What a caller needs to start (or signal-with-start, or update-with-start) a workflow, built by
// the workflow's own module from its business key, so the API, webhooks and activities never
// assemble ids, queues or search attributes by hand.

// The worker pool that runs a workflow. One today; the name leaves room for a separate queue
// (the hot path of conversations) without touching the callers.
export type TaskQueueRole = 'main';

// The queue of the activities that call endpoints tenants chose (activities/tenant-endpoints.ts),
// next to the queue of the workflow that schedules them. Derived from the workflow's own queue
// (workflowInfo().taskQueue), so a workflow needs no input for it and a replay finds the same name;
// the worker (workers/main.ts) derives it from TEMPORAL_TASK_QUEUE the same way.
export const tenantEndpointsQueue = (mainQueue: string) => `${mainQueue}-tenant-endpoints`;

// The patch that moves those calls there: runs recorded before it scheduled them on the main queue.
export const TENANT_ENDPOINTS_PATCH = 'tenant-endpoints-queue';

export interface WorkflowStart<W extends Workflow> {
  workflowType: W;
  taskQueue: TaskQueueRole;
  workflowId: string;
  args: Parameters<W>;
  typedSearchAttributes: SearchAttributePair[];
}

// Start options for the client, the role resolved to the queue this deployment configures.
// (The cast: TypeScript cannot see that a generic Parameters<W> meets the client's conditional
// `args` type; for every concrete workflow it does.)
export function startOptions<W extends Workflow>(start: WorkflowStart<W>, taskQueues: Record<TaskQueueRole, string>): WorkflowStartOptions<W> {
  const options = {
    workflowId: start.workflowId,
    taskQueue: taskQueues[start.taskQueue],
    args: start.args,
    typedSearchAttributes: start.typedSearchAttributes,
  };
  return options as unknown as WorkflowStartOptions<W>;
}
