import { z } from 'zod';
import { collectionEvent } from '../../activities/dunning';
import { CollectionItem } from '../../db/models';
import { COLLECTION_ITEM_STATUSES, COLLECTION_OUTCOMES } from '../../domain/billing-statuses';
import { BILLING_ROLES } from '../../domain/roles';
import { decodeCursor, encodeCursor, pageOf, pageQuery } from '../pagination';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';

// The collectors' queue: the invoices the automatic notices did not settle, for a person to
// call. Oldest first (the longest waiting), claimed by one collector, resolved with an outcome.
// Every change goes live to the billing roles.

const read = { roles: BILLING_ROLES, scopes: ['invoices:read' as const] };
const write = { roles: BILLING_ROLES, scopes: ['invoices:write' as const] };
const idParam = uuidParam('collectionId');

export const collectionView = z.object({
  id: z.uuid(),
  invoiceId: z.uuid(),
  contactId: z.uuid(),
  status: z.enum(COLLECTION_ITEM_STATUSES),
  assigneeId: z.uuid().nullable(),
  amountDueCents: z.number(),
  daysLate: z.number(),
  note: z.string().nullable(),
  outcome: z.enum(COLLECTION_OUTCOMES).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  resolvedAt: z.iso.datetime().nullable(),
});
const toView = (c: CollectionItem): z.infer<typeof collectionView> => ({
  id: c.id,
  invoiceId: c.invoiceId,
  contactId: c.contactId,
  status: c.status,
  assigneeId: c.assigneeId,
  amountDueCents: c.amountDueCents,
  daysLate: c.daysLate,
  note: c.note,
  outcome: c.outcome,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
  resolvedAt: c.resolvedAt ? c.resolvedAt.toISOString() : null,
});

const cursorKey = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

export const listCollections = route({
  method: 'get',
  path: '/collections',
  summary: 'The collectors’ queue: open and claimed items, oldest first (keyset pages); status filters',
  tags: ['collections'],
  access: read,
  query: pageQuery.extend({ status: z.enum(COLLECTION_ITEM_STATUSES).optional(), assigneeId: z.uuid().optional() }).strict(),
  responses: { 200: { description: 'A page of the queue', schema: pageOf(collectionView) } },
  async handler({ query, db }) {
    const qb = CollectionItem.query(db);
    if (query.status) qb.where({ status: query.status });
    else qb.whereIn('status', ['open', 'claimed']);
    if (query.assigneeId) qb.where({ assigneeId: query.assigneeId });
    if (query.cursor) {
      const c = decodeCursor(cursorKey, query.cursor);
      qb.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [c.createdAt, c.id]);
    }
    const rows = await qb.orderBy([{ column: 'createdAt', order: 'asc' }, { column: 'id', order: 'asc' }]).limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { body: { items: page.map(toView), nextCursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null } };
  },
});

export const claimCollection = route({
  method: 'post',
  path: '/collections/:collectionId/claim',
  summary: 'Takes an item of the queue (the caller becomes its collector)',
  tags: ['collections'],
  access: write,
  params: idParam,
  responses: { 200: { description: 'Claimed', schema: collectionView }, 404: { description: 'No such item' }, 409: { description: 'Already resolved' } },
  async handler({ params, db, deps, tenantId, actor }) {
    const row = await CollectionItem.query(db).findById(params.collectionId).forUpdate();
    if (!row) throw notFound('Item de cobrança não encontrado.');
    if (row.status === 'resolved') throw conflict('Este item de cobrança já foi resolvido.');
    const item = await CollectionItem.query(db).patchAndFetchById(row.id, { status: 'claimed', assigneeId: actor.type === 'user' ? actor.id : row.assigneeId, updatedAt: new Date() });
    await deps.realtime.emit({ tenantId, roles: BILLING_ROLES }, 'collection:updated', collectionEvent(item));
    return { body: toView(item) };
  },
});

export const resolveCollectionBody = z.object({ outcome: z.enum(COLLECTION_OUTCOMES), note: z.string().trim().min(1).max(2000).optional() }).strict();

export const resolveCollection = route({
  method: 'post',
  path: '/collections/:collectionId/resolve',
  summary: 'Closes an item of the queue with its outcome (paid, promised, renegotiated, unreachable, disputed, other)',
  tags: ['collections'],
  access: write,
  params: idParam,
  body: resolveCollectionBody,
  responses: { 200: { description: 'Resolved', schema: collectionView }, 404: { description: 'No such item' }, 409: { description: 'Already resolved' } },
  async handler({ params, body, db, deps, tenantId, actor }) {
    const row = await CollectionItem.query(db).findById(params.collectionId).forUpdate();
    if (!row) throw notFound('Item de cobrança não encontrado.');
    if (row.status === 'resolved') throw conflict('Este item de cobrança já foi resolvido.');
    const now = new Date();
    const item = await CollectionItem.query(db).patchAndFetchById(row.id, {
      status: 'resolved',
      outcome: body.outcome,
      note: body.note ?? row.note,
      assigneeId: row.assigneeId ?? (actor.type === 'user' ? actor.id : null),
      resolvedAt: now,
      updatedAt: now,
    });
    await deps.realtime.emit({ tenantId, roles: BILLING_ROLES }, 'collection:updated', collectionEvent(item));
    return { body: toView(item) };
  },
});

export const collectionRoutes = [listCollections, claimCollection, resolveCollection];
