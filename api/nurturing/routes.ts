import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { Lead } from '../../db/models';
import { NURTURING_STATUSES } from '../../domain/sales-statuses';
import { SALES_ROLES } from '../../domain/roles';
import {
  nurturingStateQuery,
  pauseNurturingUpdate,
  resumeNurturingUpdate,
  skipNurturingStepUpdate,
  type NurturingControlRequest,
  type NurturingView,
} from '../../workflows/nurturing/definitions';
import type { UpdateDefinition } from '@temporalio/common';
import type { Principal } from '../auth/principal';
import type { ApiDeps } from '../deps';
import { conflict, forbidden, notFound } from '../problem';
import { route, type RouteDefinition } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow, queryBestEffort } from '../workflow-calls';
import type { Actor } from '../../domain/actor';

// A lead's nurturing, seen and steered by its owner (and managers, admins): the workflow's query
// for where the cadence is and why; pause, resume and skip as its updates.

const idParam = uuidParam('leadId');
const read = { roles: SALES_ROLES, scopes: ['leads:read' as const] };
const write = { roles: SALES_ROLES, scopes: ['leads:write' as const] };

const liveView = z.object({
  status: z.enum(NURTURING_STATUSES),
  cadenceId: z.uuid().nullable(),
  cadenceVersion: z.number().int().nullable(),
  stepIndex: z.number().int(),
  stepCount: z.number().int(),
  step: z.record(z.string(), z.unknown()).nullable(),
  nextActionAt: z.iso.datetime().nullable(),
  why: z.string(),
  stopReason: z.string().nullable(),
  ownerId: z.uuid().nullable(),
  taskId: z.uuid().nullable(),
});

const nurturingView = z.object({
  leadId: z.uuid(),
  nurturingStatus: z.enum(NURTURING_STATUSES).nullable(),
  nurturingNextAt: z.iso.datetime().nullable(),
  cadenceId: z.uuid().nullable(),
  cadenceVersion: z.number().int().nullable(),
  live: liveView.nullable(),
});

async function leadRow(db: Knex.Transaction, id: string): Promise<Lead> {
  const lead = await Lead.query(db).findById(id);
  if (!lead) throw notFound('Lead não encontrado.');
  return lead;
}

// A sales user steers only the leads they own; managers and admins any lead of the tenant.
function mayControl(principal: Principal, lead: Lead): boolean {
  if (principal.kind !== 'user') return true;
  return principal.role !== 'SALES' || principal.userId === lead.ownerId;
}

export const getNurturing = route({
  method: 'get',
  path: '/leads/:leadId/nurturing',
  summary: 'Where a lead’s cadence is: current step, when the next action is due and why',
  tags: ['leads'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The nurturing state', schema: nurturingView }, 404: { description: 'Not found' } },
  async handler({ params, db, deps }) {
    const lead = await leadRow(db, params.leadId);
    const live = await queryBestEffort(deps, deps.temporal.client.workflow.getHandle(lead.workflowId), nurturingStateQuery, 2_000);
    return {
      body: {
        leadId: lead.id,
        nurturingStatus: lead.nurturingStatus,
        nurturingNextAt: lead.nurturingNextAt?.toISOString() ?? null,
        cadenceId: lead.cadenceId,
        cadenceVersion: lead.cadenceVersion,
        live,
      },
    };
  },
});

function control(action: 'pause' | 'resume' | 'skip', update: UpdateDefinition<NurturingView, [NurturingControlRequest]>, summary: string): RouteDefinition {
  return route({
    method: 'post',
    path: `/leads/:leadId/nurturing/${action}`,
    summary,
    tags: ['leads'],
    access: write,
    idempotencyKey: true,
    params: idParam,
    responses: {
      200: { description: 'The nurturing state after it', schema: liveView },
      403: { description: 'Not the lead’s owner' },
      404: { description: 'Not found' },
      409: { description: 'The cadence does not accept this now (not running, not paused, ended)' },
      503: { description: 'Temporal unavailable; retry' },
    },
    async handler({ params, db, deps, principal, actor, idempotencyKey }) {
      const lead = await leadRow(db, params.leadId);
      if (!mayControl(principal, lead)) throw forbidden('Só o responsável pelo lead, gestores e administradores podem alterar a cadência.');
      return { body: await updateNurturing(deps, lead, update, actor, idempotencyKey) };
    },
  });
}

async function updateNurturing(deps: ApiDeps, lead: Lead, update: UpdateDefinition<NurturingView, [NurturingControlRequest]>, actor: Actor, idempotencyKey?: string) {
  const handle = deps.temporal.client.workflow.getHandle(lead.workflowId);
  return callWorkflow(deps, () => handle.executeUpdate(update, { args: [{ actor }], updateId: idempotencyKey ?? randomUUID() }), {
    deadlineMs: 10_000,
    onNotFound: () => conflict('A cadência deste lead já terminou.'),
  });
}

export const pauseNurturing = control('pause', pauseNurturingUpdate, 'Pause a lead’s cadence; the delay left is kept for the resume');
export const resumeNurturing = control('resume', resumeNurturingUpdate, 'Resume a paused cadence where it was');
export const skipNurturingStep = control('skip', skipNurturingStepUpdate, 'Skip the current step of a lead’s cadence');

export const nurturingRoutes = [getNurturing, pauseNurturing, resumeNurturing, skipNurturingStep];
