import { z } from 'zod';
import { AuditEvent } from '../../db/models';
import { ACTOR_TYPES } from '../../domain/actor';
import { badRequest } from '../problem';
import { route } from '../route';

const auditView = z.object({
  id: z.string(),
  occurredAt: z.iso.datetime(),
  actor: z.object({ type: z.enum(ACTOR_TYPES), id: z.string().nullable() }),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string().nullable(),
  requestId: z.string().nullable(),
  workflowId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const listAuditEvents = route({
  method: 'get',
  path: '/audit-events',
  summary: 'The tenant’s audit log, newest first (platform events for platform administrators)',
  tags: ['audit'],
  access: { roles: ['SUPER_ADMIN', 'TENANT_ADMIN', 'MANAGER'], scopes: ['audit:read'] },
  query: z.object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().regex(/^\d{1,19}$/, 'expected the nextCursor of a previous page').optional(),
    action: z.string().max(100).optional(),
    entityType: z.string().max(100).optional(),
    entityId: z.string().max(200).optional(),
  }),
  responses: { 200: { description: 'A page of events', schema: z.object({ items: z.array(auditView), nextCursor: z.string().nullable() }) } },
  async handler({ query, db }) {
    const qb = AuditEvent.query(db).orderBy('id', 'desc').limit(query.limit + 1);
    if (query.cursor) {
      if (BigInt(query.cursor) > 9223372036854775807n) throw badRequest('Cursor inválido.');
      qb.where('id', '<', query.cursor);
    }
    if (query.action) qb.where({ action: query.action });
    if (query.entityType) qb.where({ entityType: query.entityType });
    if (query.entityId) qb.where({ entityId: query.entityId });
    const rows = await qb;
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      body: {
        items: page.map((e) => ({
          id: String(e.id),
          occurredAt: e.occurredAt.toISOString(),
          actor: { type: e.actorType, id: e.actorId },
          action: e.action,
          entityType: e.entityType,
          entityId: e.entityId,
          requestId: e.requestId,
          workflowId: e.workflowId,
          details: e.details,
        })),
        nextCursor: rows.length > query.limit && last ? String(last.id) : null,
      },
    };
  },
});

export const auditRoutes = [listAuditEvents];
