import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Workflow } from '@temporalio/workflow';
import { beforeTemporalCall } from '../db/request-scope';
import { startOptions, type TaskQueueRole, type WorkflowStart } from '../workflows/workflow-start';
import type { ApiDeps } from './deps';
import { conflict, HttpProblem, notFound, serviceUnavailable } from './problem';

// A request must not hang while Temporal is away: the caller gets its 503 within this.
const CALL_DEADLINE_MS = 5_000;
// A query replays the workflow on a worker; with none running, the rest of the answer is still useful.
const QUERY_DEADLINE_MS = 3_000;

type TemporalDeps = Pick<ApiDeps, 'temporal'>;

export interface CallOptions {
  onDuplicate?: string;
  // What a missing workflow means to this caller (by default a 404).
  onNotFound?: () => HttpProblem;
  deadlineMs?: number;
}

// Temporal being away is not the client's fault: 503, so the caller (or Meta, or a gateway)
// retries. A duplicate business key is a 409; an unknown workflow a 404; an update the workflow's
// validator refused, a 409 carrying the workflow's own (pt-BR) reason. Temporal refusing the call
// itself (an unregistered search attribute, a missing namespace, no permission) is a deployment
// fault that a retry does not fix: it is logged and answered 500, never passed off as an outage.
// Every call commits the request's transaction first: no pooled connection waits on Temporal.
export async function callWorkflow<T>(deps: TemporalDeps, call: () => Promise<T>, o: CallOptions = {}): Promise<T> {
  await beforeTemporalCall();
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + (o.deadlineMs ?? CALL_DEADLINE_MS), call);
  } catch (err) {
    throw temporalProblem(err, o);
  }
}

function temporalProblem(err: unknown, o: Pick<CallOptions, 'onDuplicate' | 'onNotFound'> = {}): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof WorkflowExecutionAlreadyStartedError) return conflict(o.onDuplicate ?? 'Este processo já está em andamento.');
  if (err instanceof WorkflowNotFoundError) return o.onNotFound ? o.onNotFound() : notFound('Processo não encontrado.');
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { type?: string; message?: string } | undefined;
    return new HttpProblem(409, 'Conflict', cause?.message ?? 'O processo não aceita esta ação agora.', {
      type: cause?.type ? `urn:orquestra:workflow:${cause.type}` : undefined,
    });
  }
  const grpc = grpcError(err);
  if (grpc && REFUSALS.has(grpc.code)) return new TemporalRefused(grpc.code, grpc.details || grpc.message);
  return serviceUnavailable('O serviço de workflows está indisponível no momento. Tente novamente em instantes.');
}

// gRPC codes that mean "the server answered no", as opposed to "no answer": INVALID_ARGUMENT,
// NOT_FOUND (namespace), ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION, UNIMPLEMENTED,
// UNAUTHENTICATED.
const REFUSALS = new Set([3, 5, 6, 7, 9, 12, 16]);

export class TemporalRefused extends HttpProblem {
  constructor(
    readonly grpcCode: number,
    readonly temporalMessage: string,
  ) {
    super(500, 'Internal Server Error', 'O serviço de workflows recusou a chamada por um problema de configuração. A equipe de operação foi avisada.', {
      type: 'urn:orquestra:temporal-refused',
    });
  }
}

function grpcError(err: unknown): { code: number; details: string; message: string } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e;
  }
  return undefined;
}

// The configured queue for each role of worker.
export function taskQueues(deps: TemporalDeps): Record<TaskQueueRole, string> {
  return { main: deps.temporal.taskQueue };
}

// Starts the workflow its module describes; a duplicate business key is a 409 (onDuplicate).
export async function startWorkflow<W extends Workflow>(deps: TemporalDeps, start: WorkflowStart<W>, o: CallOptions = {}) {
  return callWorkflow(deps, () => deps.temporal.client.workflow.start(start.workflowType, startOptions(start, taskQueues(deps))), o);
}

// For a view that is still worth answering without it: null when the workflow, a worker or
// Temporal does not answer within the deadline.
export async function queryBestEffort<R>(
  deps: TemporalDeps,
  handle: WorkflowHandle,
  query: QueryDefinition<R, []>,
  deadlineMs = QUERY_DEADLINE_MS,
): Promise<R | null> {
  await beforeTemporalCall();
  return deps.temporal.connection.withDeadline(Date.now() + deadlineMs, () => handle.query(query)).catch(() => null);
}
