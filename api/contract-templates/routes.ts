import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { ContractTemplate } from '../../db/models';
import { CONTRACT_PLACEHOLDERS, unknownPlaceholders } from '../../domain/contract-template';
import { SALES_ROLES } from '../../domain/roles';
import { badRequest, notFound, type FieldError } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';

// The texts contracts are rendered from. A placeholder no contract can fill is refused when the
// template is saved (naming it), not discovered when a contract renders.

const write = { roles: SALES_ROLES, scopes: ['contracts:write' as const] };
const read = { roles: SALES_ROLES, scopes: ['contracts:read' as const] };
const idParam = uuidParam('templateId');

const fields = {
  name: z.string().trim().min(1).max(200),
  title: z.string().trim().min(1).max(300),
  body: z.string().trim().min(1).max(100_000),
  isDefault: z.boolean(),
};
const createBody = z.object({ ...fields, isDefault: fields.isDefault.default(false) }).strict();
const patchBody = z
  .object(fields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'informe ao menos um campo', path: ['name'] });

const templateView = z.object({
  id: z.uuid(),
  name: z.string(),
  version: z.number().int(),
  title: z.string(),
  body: z.string(),
  isDefault: z.boolean(),
  createdAt: z.iso.datetime(),
});
const toView = (t: ContractTemplate): z.infer<typeof templateView> => ({
  id: t.id, name: t.name, version: t.version, title: t.title, body: t.body, isDefault: t.isDefault, createdAt: new Date(t.createdAt).toISOString(),
});

function checkPlaceholders(b: { title?: string; body?: string }): void {
  const errors: FieldError[] = [];
  for (const field of ['title', 'body'] as const) {
    for (const name of unknownPlaceholders(b[field] ?? '')) {
      errors.push({ path: `body.${field}`, message: `marcador desconhecido: {{${name}}}`, code: 'unknown_placeholder' });
    }
  }
  if (errors.length) {
    const names = errors.map((e) => e.message.replace('marcador desconhecido: ', '')).join(', ');
    throw badRequest(`Marcadores desconhecidos: ${names}. Use: ${CONTRACT_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}.`, errors);
  }
}

// One default per tenant: the new one takes the place.
async function clearDefault(db: Knex.Transaction) {
  await ContractTemplate.query(db).patch({ isDefault: false }).where({ isDefault: true });
}

export const listTemplates = route({
  method: 'get',
  path: '/contract-templates',
  summary: 'The tenant’s contract templates',
  tags: ['contracts'],
  access: read,
  responses: { 200: { description: 'Templates', schema: z.object({ items: z.array(templateView), placeholders: z.array(z.string()) }) } },
  async handler({ db }) {
    const rows = await ContractTemplate.query(db).orderBy([{ column: 'createdAt', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(500);
    return { body: { items: rows.map(toView), placeholders: [...CONTRACT_PLACEHOLDERS] } };
  },
});

export const createTemplate = route({
  method: 'post',
  path: '/contract-templates',
  summary: 'Creates a template ({{placeholders}} checked)',
  tags: ['contracts'],
  access: write,
  body: createBody,
  responses: { 201: { description: 'Created', schema: templateView }, 400: { description: 'Invalid, or an unknown placeholder (named)' } },
  async handler({ body, db, tenantId }) {
    checkPlaceholders(body);
    if (body.isDefault) await clearDefault(db);
    const row = await ContractTemplate.query(db).insertAndFetch({ id: randomUUID(), tenantId, name: body.name, title: body.title, body: body.body, isDefault: body.isDefault, version: 1 });
    return { status: 201, body: toView(row) };
  },
});

export const getTemplate = route({
  method: 'get',
  path: '/contract-templates/:templateId',
  summary: 'A template',
  tags: ['contracts'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The template', schema: templateView }, 404: { description: 'No such template' } },
  async handler({ params, db }) {
    const row = await ContractTemplate.query(db).findById(params.templateId);
    if (!row) throw notFound('Modelo de contrato não encontrado.');
    return { body: toView(row) };
  },
});

export const updateTemplate = route({
  method: 'patch',
  path: '/contract-templates/:templateId',
  summary: 'Edits a template (its version goes up; contracts already rendered keep their PDF)',
  tags: ['contracts'],
  access: write,
  params: idParam,
  body: patchBody,
  responses: { 200: { description: 'Updated', schema: templateView }, 400: { description: 'Invalid, or an unknown placeholder (named)' }, 404: { description: 'No such template' } },
  async handler({ params, body, db }) {
    const row = await ContractTemplate.query(db).findById(params.templateId).forUpdate();
    if (!row) throw notFound('Modelo de contrato não encontrado.');
    checkPlaceholders(body);
    if (body.isDefault) await clearDefault(db);
    const textChanged = (body.title !== undefined && body.title !== row.title) || (body.body !== undefined && body.body !== row.body);
    const updated = await ContractTemplate.query(db).patchAndFetchById(row.id, { ...body, version: textChanged ? row.version + 1 : row.version });
    return { body: toView(updated) };
  },
});

export const deleteTemplate = route({
  method: 'delete',
  path: '/contract-templates/:templateId',
  summary: 'Removes a template (contracts made from it keep their documents)',
  tags: ['contracts'],
  access: write,
  params: idParam,
  responses: { 204: { description: 'Removed' }, 404: { description: 'No such template' } },
  async handler({ params, db }) {
    const n = await ContractTemplate.query(db).deleteById(params.templateId);
    if (!n) throw notFound('Modelo de contrato não encontrado.');
    return { status: 204 };
  },
});

export const contractTemplateRoutes = [listTemplates, createTemplate, getTemplate, updateTemplate, deleteTemplate];
