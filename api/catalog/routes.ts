import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Offering } from '../../db/models';
import { isUniqueViolation } from '../../db/tenant-scope';
import { parseOfferingAttributes } from '../../domain/offerings';
import { SALES_ROLES } from '../../domain/roles';
import type { OfferingKind } from '../../domain/sales-statuses';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { badRequest, conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { createOfferingBody, offeringListQuery, offeringView, patchOfferingBody, toOfferingView } from './schema';

// What the tenant sells: properties, vehicles, plans, services. Leads, appointments and proposals
// point at these.

const readers = { roles: SALES_ROLES, scopes: ['catalog:read' as const] };
const writers = { roles: ['TENANT_ADMIN' as const, 'MANAGER' as const], scopes: ['catalog:write' as const] };

function attributesFor(kind: OfferingKind, attributes: unknown): Record<string, unknown> {
  const r = parseOfferingAttributes(kind, attributes);
  if (r.ok) return r.attributes;
  throw badRequest(
    'Os atributos não correspondem ao tipo da oferta.',
    r.issues.map((i) => ({ path: ['body.attributes', i.path].filter(Boolean).join('.'), message: i.message, code: i.code })),
  );
}

async function saving<T>(work: () => PromiseLike<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err, 'offerings_code')) throw conflict('Já existe uma oferta com este código.');
    throw err;
  }
}

async function offeringRow(db: Knex.Transaction, id: string, lock = false): Promise<Offering> {
  const q = Offering.query(db).findById(id);
  const row = await (lock ? q.forUpdate() : q);
  if (!row) throw notFound('Oferta não encontrada.');
  return row;
}

export const listOfferings = route({
  method: 'get',
  path: '/offerings',
  summary: 'The catalog, newest first (filters: kind, active)',
  tags: ['catalog'],
  access: readers,
  query: pageQuery.extend(offeringListQuery.shape),
  responses: { 200: { description: 'A page of offerings', schema: pageOf(offeringView) } },
  async handler({ query, db }) {
    const qb = Offering.query(db);
    if (query.kind) qb.where({ kind: query.kind });
    if (query.active !== undefined) qb.where({ active: query.active });
    const { rows, nextCursor } = await keysetPage(qb, query);
    return { body: { items: rows.map(toOfferingView), nextCursor } };
  },
});

export const createOffering = route({
  method: 'post',
  path: '/offerings',
  summary: 'Add an offering; its attributes are validated for its kind',
  tags: ['catalog'],
  access: writers,
  body: createOfferingBody,
  responses: { 201: { description: 'Created', schema: offeringView }, 409: { description: 'Code already in use' } },
  async handler({ body, db, tenantId, audit }) {
    const attributes = attributesFor(body.kind, body.attributes);
    const id = randomUUID();
    const row = await saving(() =>
      Offering.query(db).insertAndFetch({
        id,
        tenantId,
        kind: body.kind,
        code: body.code ?? null,
        title: body.title,
        description: body.description,
        priceCents: body.priceCents ?? null,
        attributes,
        active: body.active,
      }),
    );
    await audit({ action: 'offering.created', entityType: 'offering', entityId: id, details: { kind: body.kind, title: body.title } });
    return { status: 201, headers: { location: `/api/offerings/${id}` }, body: toOfferingView(row) };
  },
});

export const getOffering = route({
  method: 'get',
  path: '/offerings/:offeringId',
  summary: 'One offering',
  tags: ['catalog'],
  access: readers,
  params: uuidParam('offeringId'),
  responses: { 200: { description: 'The offering', schema: offeringView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db }) {
    return { body: toOfferingView(await offeringRow(db, params.offeringId)) };
  },
});

export const patchOffering = route({
  method: 'patch',
  path: '/offerings/:offeringId',
  summary: 'Change an offering (its kind stays)',
  tags: ['catalog'],
  access: writers,
  params: uuidParam('offeringId'),
  body: patchOfferingBody,
  responses: { 200: { description: 'Updated', schema: offeringView }, 404: { description: 'Not in this tenant' }, 409: { description: 'Code already in use' } },
  async handler({ params, body, db, audit }) {
    const row = await offeringRow(db, params.offeringId, true);
    const { attributes, ...rest } = body;
    const patch: Partial<Offering> = { ...rest, updatedAt: new Date() };
    if (attributes !== undefined) patch.attributes = attributesFor(row.kind, attributes);
    const updated = await saving(() => Offering.query(db).patchAndFetchById(row.id, patch));
    await audit({ action: 'offering.updated', entityType: 'offering', entityId: row.id, details: { fields: Object.keys(body) } });
    return { body: toOfferingView(updated) };
  },
});

export const archiveOffering = route({
  method: 'delete',
  path: '/offerings/:offeringId',
  summary: 'Archive an offering (inactive); the leads and proposals that name it keep it',
  tags: ['catalog'],
  access: writers,
  params: uuidParam('offeringId'),
  responses: { 204: { description: 'Archived (also when it already was)' }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db, audit }) {
    const row = await offeringRow(db, params.offeringId, true);
    if (row.active) {
      await Offering.query(db).patch({ active: false, updatedAt: new Date() }).where({ id: row.id });
      await audit({ action: 'offering.archived', entityType: 'offering', entityId: row.id, details: { title: row.title } });
    }
    return { status: 204 };
  },
});

export const catalogRoutes = [listOfferings, createOffering, getOffering, patchOffering, archiveOffering];
