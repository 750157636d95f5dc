import type { Knex } from 'knex';
import { AuditEvent } from './models';

export type { Actor };

import type { Actor } from '../domain/actor';

export interface AuditEntry {
  tenantId: string | null;
  actor: Actor;
  action: string;
  entityType: string;
  entityId?: string | null;
  requestId?: string | null;
  workflowId?: string | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(trx: Knex.Transaction, e: AuditEntry): Promise<void> {
  await AuditEvent.query(trx).insert({
    tenantId: e.tenantId,
    actorType: e.actor.type,
    actorId: e.actor.id,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId ?? null,
    requestId: e.requestId ?? null,
    workflowId: e.workflowId ?? null,
    details: e.details ?? {},
  });
}
