import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { Cadence, CadenceVersion } from '../../db/models';
import { SALES_ROLES } from '../../domain/roles';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { cadenceVersionView, cadenceView, createCadenceBody, editCadenceBody, listCadencesQuery, toCadenceView, toVersionView } from './schema';

// A tenant's cadences. Editing never changes a version: it appends the next one and moves
// `current_version`, which only new enrolments read (a running workflow keeps the version it
// froze). Deactivating keeps the rows for the enrolments that still run on them.

const read = { roles: SALES_ROLES, scopes: ['leads:read' as const] };
const write = { roles: ['TENANT_ADMIN', 'MANAGER'] as const };
const idParam = uuidParam('cadenceId');
const userId = (actor: { type: string; id: string | null }) => (actor.type === 'user' ? actor.id : null);

async function cadenceRow(db: Knex.Transaction, id: string, forUpdate = false): Promise<Cadence> {
  const q = Cadence.query(db).findById(id);
  const row = await (forUpdate ? q.forUpdate() : q);
  if (!row) throw notFound('Cadência não encontrada.');
  return row;
}

async function withCurrent(db: Knex.Transaction, c: Cadence) {
  return toCadenceView(c, await CadenceVersion.query(db).findById([c.id, c.currentVersion]));
}

// One default per tenant (a partial unique index): the old one gives way in the same transaction.
async function makeDefault(db: Knex.Transaction, id: string): Promise<void> {
  await Cadence.query(db).where({ isDefault: true }).whereNot({ id }).patch({ isDefault: false, updatedAt: new Date() });
  await Cadence.query(db).findById(id).patch({ isDefault: true, updatedAt: new Date() });
}

export const createCadence = route({
  method: 'post',
  path: '/cadences',
  summary: 'Create a cadence (its version 1); isDefault makes it the one new leads enrol on',
  tags: ['cadences'],
  access: write,
  body: createCadenceBody,
  responses: { 201: { description: 'Created', schema: cadenceView }, 400: { description: 'Invalid cadence' } },
  async handler({ body, db, tenantId, actor, audit }) {
    const id = randomUUID();
    await Cadence.query(db).insert({ id, tenantId, name: body.name, currentVersion: 1, isDefault: false, active: true });
    await CadenceVersion.query(db).insert({ tenantId, cadenceId: id, version: 1, steps: body.steps, createdBy: userId(actor) });
    if (body.isDefault) await makeDefault(db, id);
    await audit({ action: 'cadence.created', entityType: 'cadence', entityId: id, details: { name: body.name, steps: body.steps.length, isDefault: body.isDefault } });
    return { status: 201, body: await withCurrent(db, await cadenceRow(db, id)) };
  },
});

export const listCadences = route({
  method: 'get',
  path: '/cadences',
  summary: 'The tenant’s cadences with their current steps',
  tags: ['cadences'],
  access: read,
  query: listCadencesQuery,
  responses: { 200: { description: 'Cadences', schema: z.object({ items: z.array(cadenceView) }) } },
  async handler({ query, db }) {
    const qb = Cadence.query(db).orderBy([{ column: 'createdAt', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(200);
    if (query.active) qb.where({ active: query.active === 'true' });
    const rows = await qb;
    const items = [];
    for (const c of rows) items.push(await withCurrent(db, c));
    return { body: { items } };
  },
});

export const getCadence = route({
  method: 'get',
  path: '/cadences/:cadenceId',
  summary: 'One cadence with every version (running enrolments may be on an older one)',
  tags: ['cadences'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The cadence', schema: cadenceView.extend({ versions: z.array(cadenceVersionView) }) }, 404: { description: 'Not found' } },
  async handler({ params, db }) {
    const c = await cadenceRow(db, params.cadenceId);
    const versions = await CadenceVersion.query(db).where({ cadenceId: c.id }).orderBy('version', 'desc');
    return { body: { ...(await withCurrent(db, c)), versions: versions.map(toVersionView) } };
  },
});

export const editCadence = route({
  method: 'post',
  path: '/cadences/:cadenceId/versions',
  summary: 'Edit a cadence: appends a new version for new enrolments; running ones keep theirs',
  tags: ['cadences'],
  access: write,
  params: idParam,
  body: editCadenceBody,
  responses: { 201: { description: 'The new version', schema: cadenceView }, 404: { description: 'Not found' }, 409: { description: 'Deactivated' } },
  async handler({ params, body, db, tenantId, actor, audit }) {
    const c = await cadenceRow(db, params.cadenceId, true);
    if (!c.active) throw conflict('A cadência está desativada; crie uma nova.');
    const version = c.currentVersion + 1;
    await CadenceVersion.query(db).insert({ tenantId, cadenceId: c.id, version, steps: body.steps, createdBy: userId(actor) });
    await Cadence.query(db).findById(c.id).patch({ currentVersion: version, ...(body.name ? { name: body.name } : {}), updatedAt: new Date() });
    await audit({ action: 'cadence.edited', entityType: 'cadence', entityId: c.id, details: { version, steps: body.steps.length } });
    return { status: 201, body: await withCurrent(db, await cadenceRow(db, c.id)) };
  },
});

export const setDefaultCadence = route({
  method: 'post',
  path: '/cadences/:cadenceId/default',
  summary: 'Make this the cadence new leads enrol on',
  tags: ['cadences'],
  access: write,
  params: idParam,
  responses: { 200: { description: 'The cadence', schema: cadenceView }, 404: { description: 'Not found' }, 409: { description: 'Deactivated' } },
  async handler({ params, db, audit }) {
    const c = await cadenceRow(db, params.cadenceId, true);
    if (!c.active) throw conflict('Uma cadência desativada não pode ser a padrão.');
    await makeDefault(db, c.id);
    await audit({ action: 'cadence.default_set', entityType: 'cadence', entityId: c.id });
    return { body: await withCurrent(db, await cadenceRow(db, c.id)) };
  },
});

export const deactivateCadence = route({
  method: 'post',
  path: '/cadences/:cadenceId/deactivate',
  summary: 'Deactivate a cadence: no new enrolments; running ones finish on their version',
  tags: ['cadences'],
  access: write,
  params: idParam,
  responses: { 200: { description: 'The cadence', schema: cadenceView }, 404: { description: 'Not found' } },
  async handler({ params, db, audit }) {
    const c = await cadenceRow(db, params.cadenceId, true);
    await Cadence.query(db).findById(c.id).patch({ active: false, isDefault: false, updatedAt: new Date() });
    await audit({ action: 'cadence.deactivated', entityType: 'cadence', entityId: c.id });
    return { body: await withCurrent(db, await cadenceRow(db, c.id)) };
  },
});

export const cadenceRoutes = [createCadence, listCadences, getCadence, editCadence, setDefaultCadence, deactivateCadence];
