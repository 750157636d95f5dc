import { Context } from '@temporalio/activity';

// The signal for an outbound call made by an activity: aborted by its own timeout, or as soon as
// the activity is cancelled (its workflow cancelled, its timeout reached, or the worker shutting
// down at the end of its grace time), so a hanging call does not outlive the attempt that made it.
// Outside an activity (the API, a script) only the timeout applies.
export function callSignal(timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  const cancellation = activityCancellation();
  return cancellation ? AbortSignal.any([timeout, cancellation]) : timeout;
}

// True when a failed call failed because the activity was cancelled: the error is then rethrown
// as it is, so the SDK reports a cancellation rather than a retryable failure of the call.
export function cancelledActivity(): boolean {
  return activityCancellation()?.aborted ?? false;
}

// The running activity's own signal, for a client that combines it with a timeout per call.
export function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // not in an activity
  }
}
