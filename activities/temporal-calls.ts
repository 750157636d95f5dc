import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Workflow } from '@temporalio/workflow';
import { startOptions, type WorkflowStart } from '../workflows/workflow-start';
import type { ActivityDeps } from './deps';

// The two calls every process makes to another one after committing its own rows, and which a
// retry must be able to repeat: start a workflow (the business-key id makes a second start find
// the first), and tell one something (one that already ended has nothing left to hear).

type TemporalDeps = Pick<ActivityDeps, 'temporal'>;

// True when this call started it; false when it was running already (a retry, a duplicate).
export async function startOnce<W extends Workflow>(deps: TemporalDeps, start: WorkflowStart<W>): Promise<boolean> {
  if (!deps.temporal) return false;
  try {
    await deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: deps.temporal.taskQueue }));
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

// True when the workflow got the signal; false when it no longer runs.
export async function signalIfRunning<A extends unknown[]>(deps: TemporalDeps, workflowId: string, signal: SignalDefinition<A>, ...args: A): Promise<boolean> {
  if (!deps.temporal) return false;
  try {
    await deps.temporal.client.workflow.getHandle(workflowId).signal(signal, ...args);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
