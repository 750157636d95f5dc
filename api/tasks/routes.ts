import { signalIfRunning } from '../../activities/temporal-calls';
import { z } from 'zod';
import { Task } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { taskEvent } from '../../domain/realtime-events';
import { SALES_ROLES } from '../../domain/roles';
import { TASK_KINDS, TASK_STATUSES } from '../../domain/sales-statuses';
import { taskCompletedSignal } from '../../workflows/nurturing/definitions';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { badRequest, conflict, forbidden, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow } from '../workflow-calls';

// The owners' task list (a cadence's call tasks and follow-ups). Completing a task tells the
// workflow waiting on it (a lead's cadence goes on to its next step).

export const taskView = z.object({
  id: z.uuid(),
  leadId: z.uuid().nullable(),
  ownerId: z.uuid().nullable(),
  kind: z.enum(TASK_KINDS),
  title: z.string(),
  status: z.enum(TASK_STATUSES),
  dueAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  completedBy: z.uuid().nullable(),
  outcome: z.string().nullable(),
});

const toTaskView = (t: Task): z.infer<typeof taskView> => ({
  id: t.id,
  leadId: t.leadId,
  ownerId: t.ownerId,
  kind: t.kind,
  title: t.title,
  status: t.status,
  dueAt: t.dueAt?.toISOString() ?? null,
  createdAt: t.createdAt.toISOString(),
  completedAt: t.completedAt?.toISOString() ?? null,
  completedBy: t.completedBy,
  outcome: t.outcome,
});

const listQuery = pageQuery
  .extend({
    // `me` (the default for people), `all` or a user id; only managers and admins see others'.
    ownerId: z.union([z.literal('me'), z.literal('all'), z.uuid()]).optional(),
    status: z.enum(TASK_STATUSES).optional(),
  })
  .strict();

export const listTasks = route({
  method: 'get',
  path: '/tasks',
  summary: 'Tasks: mine by default, newest first (keyset pages); managers may filter by owner',
  tags: ['tasks'],
  access: { roles: SALES_ROLES, scopes: ['leads:read'] },
  query: listQuery,
  responses: { 200: { description: 'A page of tasks', schema: pageOf(taskView) }, 403: { description: 'Another owner’s list' } },
  async handler({ query, db, principal }) {
    const seesAll = principal.kind !== 'user' || principal.role !== 'SALES';
    const me = principal.kind === 'user' ? principal.userId : null;
    const owner = query.ownerId ?? (me ? 'me' : 'all');
    const qb = Task.query(db);
    if (owner === 'me') {
      if (!me) throw badRequest('ownerId=me só vale para usuários.', [{ path: 'query.ownerId', message: 'me requires a user' }]);
      qb.where({ ownerId: me });
    } else if (owner === 'all') {
      if (!seesAll) throw forbidden('Você vê apenas as suas tarefas.');
    } else {
      if (!seesAll && owner !== me) throw forbidden('Você vê apenas as suas tarefas.');
      qb.where({ ownerId: owner });
    }
    if (query.status) qb.where({ status: query.status });
    const { rows, nextCursor } = await keysetPage(qb, query);
    return { body: { items: rows.map(toTaskView), nextCursor } };
  },
});

export const completeTask = route({
  method: 'post',
  path: '/tasks/:taskId/complete',
  summary: 'Complete a task with its outcome; the cadence waiting on it goes on',
  tags: ['tasks'],
  access: { roles: SALES_ROLES, scopes: ['leads:write'] },
  idempotencyKey: true,
  params: uuidParam('taskId'),
  body: z.object({ outcome: z.string().trim().min(1).max(1000) }).strict(),
  responses: {
    200: { description: 'The task', schema: taskView },
    403: { description: 'Another owner’s task' },
    404: { description: 'Not found' },
    409: { description: 'Expired or cancelled' },
  },
  async handler({ params, body, deps, tenantId, principal }) {
    // Committed before Temporal hears of it: the workflow may read the row at once.
    const task = await withTenant(deps.knex, tenantId, async (trx) => {
      const row = await Task.query(trx).findById(params.taskId).forUpdate();
      if (!row) throw notFound('Tarefa não encontrada.');
      if (principal.kind === 'user' && principal.role === 'SALES' && row.ownerId !== principal.userId) throw forbidden('Esta tarefa é de outra pessoa.');
      if (row.status === 'done') return row; // a retry of the same completion
      if (row.status !== 'open') throw conflict(row.status === 'expired' ? 'A tarefa expirou.' : 'A tarefa foi cancelada.');
      return Task.query(trx).patchAndFetchById(row.id, {
        status: 'done',
        outcome: body.outcome,
        completedAt: new Date(),
        completedBy: principal.kind === 'user' ? principal.userId : null,
      });
    });
    if (task.workflowId) {
      const signal = { taskId: task.id, status: 'done' as const, at: (task.completedAt ?? new Date()).toISOString() };
      // A cadence that ended meanwhile has nobody waiting on the task any more.
      const workflowId = task.workflowId;
      await callWorkflow(deps, () => signalIfRunning(deps, workflowId, taskCompletedSignal, signal));
    }
    await deps.realtime.emit({ tenantId, userIds: task.ownerId ? [task.ownerId] : [], roles: ['MANAGER'] }, 'task:updated', taskEvent(task));
    return { body: toTaskView(task) };
  },
});

export const taskRoutes = [listTasks, completeTask];
