import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { conflict, notFound, serviceUnavailable } from './problem';

// Temporal being away is not the client's fault: 503, so the caller (or Meta, or a gateway)
// retries. A duplicate business key is a 409; an unknown workflow a 404.
export async function callWorkflow<T>(call: () => Promise<T>, onDuplicate = 'Este processo já está em andamento.'): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict(onDuplicate);
    if (err instanceof WorkflowNotFoundError) throw notFound('Processo não encontrado.');
    throw serviceUnavailable('O serviço de workflows está indisponível no momento. Tente novamente em instantes.');
  }
}
