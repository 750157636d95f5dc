import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Tenant } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { TENANT_STATUSES } from '../../domain/tenant-statuses';
import { hashPassword } from '../../infra/passwords';
import { provisioningStart, provisioningStatusQuery, provisioningWorkflowId, type ProvisionTenantInput } from '../../workflows/provisioning';
import { conflict, notFound } from '../problem';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow, queryBestEffort, startWorkflow } from '../workflow-calls';
import { createTenantBody, provisioningView, tenantView, toTenantView } from './schema';

export const createTenant = route({
  method: 'post',
  path: '/tenants',
  summary: 'Create a tenant: starts its provisioning workflow',
  tags: ['tenants'],
  access: { roles: ['SUPER_ADMIN'] },
  body: createTenantBody,
  responses: {
    202: {
      description: 'Provisioning started; follow statusUrl',
      schema: z.object({ tenantId: z.uuid(), workflowId: z.string(), status: z.literal('provisioning'), statusUrl: z.string() }),
    },
    409: { description: 'Slug or admin e-mail already in use' },
    503: { description: 'Temporal unavailable: nothing was started, retry' },
  },
  async handler({ body, db, deps, actor, requestId, audit }) {
    if (await Tenant.query(db).whereNot('status', 'failed').findOne({ slug: body.slug })) {
      throw conflict(`O identificador "${body.slug}" já está em uso.`);
    }
    const [emailOwner] = await db.select('id').from(db.raw('auth_find_login(?)', [body.admin.email]));
    if (emailOwner) throw conflict(`O e-mail ${body.admin.email} já está cadastrado.`);

    const tenantId = randomUUID();
    // Secrets are transformed before they enter the workflow history: the password hashed,
    // the WhatsApp token sealed with the platform key.
    const input: ProvisionTenantInput = {
      tenantId,
      slug: body.slug,
      name: body.name,
      plan: body.plan,
      timeZone: body.timeZone,
      admin: { name: body.admin.name, email: body.admin.email, passwordHash: await hashPassword(body.admin.password) },
      whatsapp: body.whatsapp && {
        phoneNumberId: body.whatsapp.phoneNumberId,
        wabaId: body.whatsapp.wabaId,
        accessTokenSealed: deps.secrets.seal(body.whatsapp.accessToken),
      },
      requestedBy: actor,
      requestId,
    };
    const start = provisioningStart(input);
    const { workflowId } = start;
    await startWorkflow(deps, start);
    await audit({
      tenantId: null,
      action: 'tenant.provisioning_requested',
      entityType: 'tenant',
      entityId: tenantId,
      workflowId,
      details: { slug: body.slug, name: body.name, plan: body.plan, whatsapp: Boolean(body.whatsapp) },
    });
    const statusUrl = `/api/tenants/${tenantId}/provisioning`;
    return { status: 202, headers: { location: statusUrl }, body: { tenantId, workflowId, status: 'provisioning', statusUrl } };
  },
});

export const listTenants = route({
  method: 'get',
  path: '/tenants',
  summary: 'List tenants (platform administrators)',
  tags: ['tenants'],
  access: { roles: ['SUPER_ADMIN'] },
  query: pageQuery.extend({ status: z.enum(TENANT_STATUSES).optional() }),
  responses: { 200: { description: 'A page of tenants', schema: pageOf(tenantView) } },
  async handler({ query, db }) {
    const qb = Tenant.query(db);
    if (query.status) qb.where({ status: query.status });
    const { rows, nextCursor } = await keysetPage(qb, query);
    return { body: { items: rows.map(toTenantView), nextCursor } };
  },
});

export const getTenant = route({
  method: 'get',
  path: '/tenants/:tenantId',
  summary: 'One tenant (platform administrators, or the tenant’s own admins and managers)',
  tags: ['tenants'],
  access: { roles: ['SUPER_ADMIN', 'TENANT_ADMIN', 'MANAGER'] },
  params: uuidParam('tenantId'),
  responses: { 200: { description: 'The tenant', schema: tenantView }, 404: { description: 'No such tenant in your reach' } },
  async handler({ params, db }) {
    const tenant = await Tenant.query(db).findById(params.tenantId);
    if (!tenant) throw notFound('Empresa não encontrada.');
    return { body: toTenantView(tenant) };
  },
});

export const changeTenantStatus = route({
  method: 'patch',
  path: '/tenants/:tenantId',
  summary: 'Suspend a tenant (its staff are signed out everywhere, its API keys stop working) or reactivate it',
  tags: ['tenants'],
  access: { roles: ['SUPER_ADMIN'] },
  params: uuidParam('tenantId'),
  body: z.object({ status: z.enum(['active', 'suspended']) }).strict(),
  responses: {
    200: { description: 'The tenant, with its new status', schema: tenantView },
    404: { description: 'No such tenant' },
    409: { description: 'The tenant is being provisioned or its provisioning failed' },
  },
  async handler({ params, body, db, deps, audit }) {
    const tenant = await Tenant.query(db).findById(params.tenantId).forUpdate();
    if (!tenant) throw notFound('Empresa não encontrada.');
    if (tenant.status !== 'active' && tenant.status !== 'suspended') {
      throw conflict('Só é possível suspender ou reativar uma empresa já provisionada.');
    }
    const updated = tenant.status === body.status ? tenant : await Tenant.query(db).patchAndFetchById(tenant.id, { status: body.status, updatedAt: new Date() });
    // The platform's transaction cannot see a tenant's sessions (RLS): they are ended in the
    // tenant's own scope, after the status is committed, so no login or refresh succeeds in
    // between. Suspending again ends whatever a failure here left open.
    const endedSessions = body.status === 'suspended' ? await withTenant(deps.knex, tenant.id, (trx) => deps.sessions.closeAllForTenant(trx, tenant.id)) : 0;
    await audit({
      tenantId: null,
      action: body.status === 'suspended' ? 'tenant.suspended' : 'tenant.reactivated',
      entityType: 'tenant',
      entityId: tenant.id,
      details: { from: tenant.status, endedSessions },
    });
    return { body: toTenantView(updated) };
  },
});

export const getProvisioning = route({
  method: 'get',
  path: '/tenants/:tenantId/provisioning',
  summary: 'Progress of the tenant’s provisioning workflow, step by step',
  tags: ['tenants'],
  access: { roles: ['SUPER_ADMIN', 'TENANT_ADMIN'] },
  params: uuidParam('tenantId'),
  responses: {
    200: { description: 'Workflow status and step progress', schema: provisioningView },
    404: { description: 'No such provisioning in your reach' },
  },
  async handler({ params, principal, db, deps }) {
    // Tenant staff see their own tenant only, like every other read: the row decides.
    if (principal.tenantId && !(await Tenant.query(db).findById(params.tenantId))) throw notFound('Empresa não encontrada.');
    const workflowId = provisioningWorkflowId(params.tenantId);
    const handle = deps.temporal.client.workflow.getHandle(workflowId);
    const description = await callWorkflow(deps, () => handle.describe());
    const progress = await queryBestEffort(deps, handle, provisioningStatusQuery);
    return {
      body: {
        tenantId: params.tenantId,
        workflowId,
        runId: description.runId,
        workflowStatus: description.status.name,
        progress: progress && { state: progress.state, steps: progress.steps, failure: progress.failure },
      },
    };
  },
});

export const tenantRoutes = [createTenant, listTenants, getTenant, changeTenantStatus, getProvisioning];
