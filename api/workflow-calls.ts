import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { ApiDeps } from './deps';
import { conflict, notFound, serviceUnavailable } from './problem';

// A request must not hang while Temporal is away: the caller gets its 503 within this.
const CALL_DEADLINE_MS = 5_000;

// Temporal being away is not the client's fault: 503, so the caller (or Meta, or a gateway)
// retries. A duplicate business key is a 409; an unknown workflow a 404.
export async function callWorkflow<T>(
  deps: Pick<ApiDeps, 'temporal'>,
  call: () => Promise<T>,
  onDuplicate = 'Este processo já está em andamento.',
): Promise<T> {
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict(onDuplicate);
    if (err instanceof WorkflowNotFoundError) throw notFound('Processo não encontrado.');
    throw serviceUnavailable('O serviço de workflows está indisponível no momento. Tente novamente em instantes.');
  }
}
