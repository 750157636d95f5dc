import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApiDeps } from './deps';
import { conflict, HttpProblem, notFound, serviceUnavailable } from './problem';

// A request must not hang while Temporal is away: the caller gets its 503 within this.
const CALL_DEADLINE_MS = 5_000;

export interface CallOptions {
  onDuplicate?: string;
  // What a missing workflow means to this caller (by default a 404).
  onNotFound?: () => HttpProblem;
  deadlineMs?: number;
}

// Temporal being away is not the client's fault: 503, so the caller (or Meta, or a gateway)
// retries. A duplicate business key is a 409; an unknown workflow a 404; an update the workflow's
// validator refused, a 409 carrying the workflow's own (pt-BR) reason.
export async function callWorkflow<T>(deps: Pick<ApiDeps, 'temporal'>, call: () => Promise<T>, o: CallOptions = {}): Promise<T> {
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + (o.deadlineMs ?? CALL_DEADLINE_MS), call);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict(o.onDuplicate ?? 'Este processo já está em andamento.');
    if (err instanceof WorkflowNotFoundError) throw o.onNotFound ? o.onNotFound() : notFound('Processo não encontrado.');
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as { type?: string; message?: string } | undefined;
      throw new HttpProblem(409, 'Conflict', cause?.message ?? 'O processo não aceita esta ação agora.', {
        type: cause?.type ? `urn:orquestra:workflow:${cause.type}` : undefined,
      });
    }
    throw serviceUnavailable('O serviço de workflows está indisponível no momento. Tente novamente em instantes.');
  }
}
