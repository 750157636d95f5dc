import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { Actor } from '../domain/actor';
import type { SecretBox } from '../infra/secret-box';

// What activities need from the outside world, handed in by the worker (or a test).
export interface ActivityDeps {
  knex: Knex;
  secrets: SecretBox;
  whatsapp: { baseUrl: string; apiVersion: string; timeoutMs?: number };
}

export interface AuditContext {
  actor: Actor;
  requestId?: string;
}

// The id of the workflow this activity runs for: every audit row written by a step points back
// to the process that wrote it.
export function callerWorkflowId(): string | null {
  return Context.current().info.workflowExecution?.workflowId ?? null;
}
