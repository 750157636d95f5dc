import { createHash, randomUUID } from 'node:crypto';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import { emitAppointmentUpdated, refuseSlot } from '../../activities/appointments';
import { startAutomationEvent } from '../../activities/automation-events';
import { moveLeadStage } from '../../activities/lead-stages';
import { startOnce } from '../../activities/temporal-calls';
import { Appointment, Lead, Offering, User } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import { SALES_ROLES } from '../../domain/roles';
import { CLOSED_LEAD_STAGES, OPEN_APPOINTMENT_STATUSES } from '../../domain/sales-statuses';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import {
  appointmentStart,
  appointmentStateQuery,
  appointmentWorkflowId,
  cancelAppointmentUpdate,
  recordOutcomeUpdate,
  rescheduleAppointmentUpdate,
  type AppointmentInput,
} from '../../workflows/appointment';
import type { ApiDeps } from '../deps';
import { decodeCursor, encodeCursor } from '../pagination';
import { badRequest, conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow, queryBestEffort } from '../workflow-calls';
import {
  agendaQuery,
  appointmentView,
  bookBody,
  cancelBody,
  liveAppointmentView,
  outcomeBody,
  rescheduleBody,
  toAppointmentView,
} from './schema';

// Visits, test drives and meetings. The row is the agenda the dashboard reads; each appointment's
// workflow talks to the contact and owns every change after booking (reschedule, cancel,
// outcome are its updates, refused with its pt-BR reason when the state does not allow them).

const write = { roles: SALES_ROLES, scopes: ['appointments:write' as const] };
const read = { roles: SALES_ROLES, scopes: ['leads:read' as const] };
const idParam = uuidParam('appointmentId');
const MINUTE_MS = 60_000;
// An update waits for the workflow's answer, a message to the contact included.
const UPDATE_DEADLINE_MS = 20_000;

const actionResponses = {
  200: { description: 'Done; the workflow’s view', schema: liveAppointmentView },
  404: { description: 'No such appointment in this tenant' },
  409: { description: 'The appointment does not accept this now (cancelled, outcome recorded, slot taken…)' },
  503: { description: 'Temporal unavailable; retry' },
};

const isOpen = (status: string) => (OPEN_APPOINTMENT_STATUSES as readonly string[]).includes(status);

// A retry under the same Idempotency-Key books the same appointment: its id comes from the key.
function idFromKey(tenantId: string, key: string): string {
  const h = createHash('sha256').update(`appointment:${tenantId}:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function calendarOf(deps: ApiDeps, tenantId: string) {
  return withTenant(deps.knex, tenantId, async (trx) => (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS);
}

export const bookAppointment = route({
  method: 'post',
  path: '/leads/:leadId/appointments',
  summary: 'Book a visit, test drive or meeting for a lead: the owner’s slot is checked, the contact gets the confirmation on WhatsApp',
  tags: ['appointments'],
  access: write,
  idempotencyKey: true,
  params: uuidParam('leadId'),
  body: bookBody,
  responses: {
    201: { description: 'Booked', schema: appointmentView },
    404: { description: 'No such lead in this tenant' },
    409: { description: 'The slot overlaps the owner’s agenda, is past or outside business hours, or the lead is closed' },
  },
  async handler({ params, body, db, deps, tenantId, actor, principal, idempotencyKey }) {
    const lead = await Lead.query(db).findById(params.leadId);
    if (!lead) throw notFound('Lead não encontrado.');
    if ((CLOSED_LEAD_STAGES as readonly string[]).includes(lead.stage)) throw conflict('O lead já foi encerrado (ganho ou perdido): não é possível agendar.');
    const ownerId = body.ownerId ?? lead.ownerId ?? (principal.kind === 'user' ? principal.userId : null);
    if (!ownerId) throw badRequest('Informe o responsável pelo agendamento: o lead não tem um.', [{ path: 'body.ownerId', message: 'required when the lead has no owner' }]);
    const owner = await User.query(db).findById(ownerId);
    if (!owner || !owner.active) throw badRequest('Responsável inválido.', [{ path: 'body.ownerId', message: 'no active user with this id in the tenant' }]);
    const offeringId = body.offeringId ?? lead.offeringId;
    if (body.offeringId && !(await Offering.query(db).findById(body.offeringId))) {
      throw badRequest('Oferta não encontrada.', [{ path: 'body.offeringId', message: 'no offering with this id in the tenant' }]);
    }
    const startsAt = new Date(body.startsAt);
    const endsAt = body.endsAt ? new Date(body.endsAt) : new Date(startsAt.getTime() + (body.durationMinutes as number) * MINUTE_MS);
    const id = idempotencyKey ? idFromKey(tenantId, idempotencyKey) : randomUUID();
    const workflowId = appointmentWorkflowId(tenantId, id);

    // Committed on its own, before the workflow starts: its first step reads the row.
    const booked = await withTenant(deps.knex, tenantId, async (trx) => {
      const existing = await Appointment.query(trx).findById(id);
      if (existing) return { row: existing, replay: true };
      const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
      const reason = await refuseSlot(trx, settings, { ownerId, startsAt, endsAt, now: new Date() });
      if (reason) return { reason };
      const row = await Appointment.query(trx).insertAndFetch({
        id,
        tenantId,
        leadId: lead.id,
        contactId: lead.contactId,
        ownerId,
        offeringId,
        kind: body.kind,
        status: 'scheduled',
        startsAt,
        endsAt,
        location: body.location ?? null,
        notes: body.notes ?? null,
        workflowId,
      });
      return { row, replay: false };
    });
    if ('reason' in booked) throw conflict(booked.reason as string);
    const { row, replay } = booked;
    if (row.leadId !== lead.id) throw conflict('Esta chave de idempotência já foi usada em outro agendamento.');

    // What the workflow starts from is also what the appointment.scheduled event says.
    const booking = {
      appointmentId: row.id,
      leadId: row.leadId,
      contactId: row.contactId,
      ownerId: row.ownerId,
      kind: row.kind,
      startsAt: row.startsAt.toISOString(),
      endsAt: row.endsAt.toISOString(),
      location: row.location,
    };
    const input: AppointmentInput = { tenantId, ...booking };
    const start = appointmentStart(input);
    try {
      // A retry of a booking whose workflow did start finds it.
      await callWorkflow(deps, () => startOnce(deps, start));
    } catch (err) {
      // No workflow, no appointment: the slot is given back and the caller may retry.
      if (!replay) await withTenant(deps.knex, tenantId, async (trx) => Appointment.query(trx).deleteById(row.id));
      throw err;
    }

    // Also on a retry: a first attempt may have stopped before these. Each is idempotent (the
    // stage is left as it is once at visit, the event's key is the appointment's).
    const moved = await moveLeadStage(deps, { tenantId, leadId: lead.id, stage: 'visit', actor, reason: 'appointment_booked', onlyForward: true });
    if (moved.outcome === 'refused') deps.log.warn({ leadId: lead.id, reason: moved.reason }, 'lead stage not moved by the booking');
    await startAutomationEvent(deps, tenantId, `appointment:${row.id}:scheduled`, 'appointment.scheduled', booking);
    await emitAppointmentUpdated(deps, row);
    return { status: 201, body: toAppointmentView(row) };
  },
});

const agendaCursor = z.object({ at: z.iso.datetime(), id: z.uuid() });

export const listAppointments = route({
  method: 'get',
  path: '/appointments',
  summary: 'The agenda: appointments by time range, owner, status or lead, earliest first (keyset pages)',
  tags: ['appointments'],
  access: read,
  query: agendaQuery,
  responses: { 200: { description: 'A page of appointments', schema: z.object({ items: z.array(appointmentView), nextCursor: z.string().nullable() }) } },
  async handler({ query, db, principal }) {
    const qb = Appointment.query(db);
    if (query.from) qb.where('startsAt', '>=', new Date(query.from));
    if (query.to) qb.where('startsAt', '<', new Date(query.to));
    if (query.status) qb.where('status', query.status);
    if (query.leadId) qb.where('leadId', query.leadId);
    if (query.ownerId === 'me') {
      if (principal.kind !== 'user') throw badRequest('ownerId=me só vale para usuários.', [{ path: 'query.ownerId', message: 'me requires a user' }]);
      qb.where('ownerId', principal.userId);
    } else if (query.ownerId) qb.where('ownerId', query.ownerId);
    if (query.cursor) {
      const c = decodeCursor(agendaCursor, query.cursor);
      qb.whereRaw('(starts_at, id) > (?::timestamptz, ?::uuid)', [c.at, c.id]);
    }
    const rows = await qb.orderBy([{ column: 'startsAt', order: 'asc' }, { column: 'id', order: 'asc' }]).limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last ? encodeCursor({ at: last.startsAt.toISOString(), id: last.id }) : null;
    return { body: { items: page.map(toAppointmentView), nextCursor } };
  },
});

async function appointmentRow(db: Parameters<typeof Appointment.query>[0], id: string): Promise<Appointment> {
  const row = await Appointment.query(db).findById(id);
  if (!row) throw notFound('Agendamento não encontrado.');
  return row;
}

export const getAppointment = route({
  method: 'get',
  path: '/appointments/:appointmentId',
  summary: 'One appointment, with its workflow’s live state (next reminder, answers) while it is open',
  tags: ['appointments'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The appointment', schema: appointmentView.extend({ live: liveAppointmentView.nullable() }) }, 404: { description: 'Not found' } },
  async handler({ params, db, deps }) {
    const row = await appointmentRow(db, params.appointmentId);
    const live = isOpen(row.status) ? await queryBestEffort(deps, deps.temporal.client.workflow.getHandle(row.workflowId), appointmentStateQuery, 2_000) : null;
    return { body: { ...toAppointmentView(row), live } };
  },
});

async function updateAppointment<Ret, Args extends [unknown, ...unknown[]]>(
  deps: ApiDeps,
  row: Appointment,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
  idempotencyKey?: string,
): Promise<Ret> {
  if (!isOpen(row.status)) throw conflict(row.status === 'cancelled' ? 'O agendamento foi cancelado.' : 'O resultado deste agendamento já foi registrado.');
  const handle = deps.temporal.client.workflow.getHandle(row.workflowId);
  return callWorkflow(deps, () => handle.executeUpdate(update, { args, updateId: idempotencyKey ?? randomUUID() }), {
    deadlineMs: UPDATE_DEADLINE_MS,
    onNotFound: () => conflict('O agendamento já foi encerrado.'),
  });
}

export const rescheduleAppointment = route({
  method: 'post',
  path: '/appointments/:appointmentId/reschedule',
  summary: 'Move the appointment to a new slot: reminders start over and the contact is told the new time',
  tags: ['appointments'],
  access: write,
  idempotencyKey: true,
  params: idParam,
  body: rescheduleBody,
  responses: actionResponses,
  async handler({ params, body, db, deps, tenantId, actor, idempotencyKey }) {
    const row = await appointmentRow(db, params.appointmentId);
    const startsAt = new Date(body.startsAt);
    const length = body.durationMinutes !== undefined ? body.durationMinutes * MINUTE_MS : row.endsAt.getTime() - row.startsAt.getTime();
    const endsAt = new Date(startsAt.getTime() + length);
    if (isOpen(row.status)) {
      // Checked here for a clear answer; the workflow checks again under the owner's lock. In a
      // transaction of its own: the lock must not be held while the update waits.
      const settings = await calendarOf(deps, tenantId);
      const reason = await withTenant(deps.knex, tenantId, (trx) => refuseSlot(trx, settings, { ownerId: row.ownerId, startsAt, endsAt, excludeId: row.id, now: new Date() }));
      if (reason) throw conflict(reason);
    }
    const view = await updateAppointment(deps, row, rescheduleAppointmentUpdate, [{ actor, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() }], idempotencyKey);
    return { body: view };
  },
});

export const cancelAppointment = route({
  method: 'post',
  path: '/appointments/:appointmentId/cancel',
  summary: 'Cancel the appointment; the contact is told',
  tags: ['appointments'],
  access: write,
  idempotencyKey: true,
  params: idParam,
  body: cancelBody,
  responses: actionResponses,
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const row = await appointmentRow(db, params.appointmentId);
    return { body: await updateAppointment(deps, row, cancelAppointmentUpdate, [{ actor, reason: body.reason }], idempotencyKey) };
  },
});

export const recordAppointmentOutcome = route({
  method: 'post',
  path: '/appointments/:appointmentId/outcome',
  summary: 'Record what happened: attended, or no-show (the owner gets a follow-up task)',
  tags: ['appointments'],
  access: write,
  idempotencyKey: true,
  params: idParam,
  body: outcomeBody,
  responses: actionResponses,
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const row = await appointmentRow(db, params.appointmentId);
    return { body: await updateAppointment(deps, row, recordOutcomeUpdate, [{ actor, outcome: body.outcome, note: body.note ?? null }], idempotencyKey) };
  },
});

export const appointmentRoutes = [bookAppointment, listAppointments, getAppointment, rescheduleAppointment, cancelAppointment, recordAppointmentOutcome];
