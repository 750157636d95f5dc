import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { Appointment, Conversation, Task } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { formatAppointmentTime, APPOINTMENT_KIND_LABELS } from '../domain/appointment-schedule';
import { isWithinBusinessHours, localParts } from '../domain/calendar';
import { isWindowOpen } from '../domain/customer-window';
import type { OutboundContent } from '../domain/outbound-content';
import { PERMANENT_FAILURE_TYPES } from '../domain/permanent-failures';
import { taskEvent } from '../domain/realtime-events';
import { OPEN_APPOINTMENT_STATUSES } from '../domain/sales-statuses';
import type { TenantSettings } from '../domain/tenant-settings';
import type { AppointmentSettings } from '../workflows/appointment/definitions';
import type { AppointmentChange, OwnerNotice } from '../workflows/appointment/transitions';
import { sendToContact } from './contact-messaging';
import { realtimeOf, type ActivityDeps } from './deps';

// The appointment workflow's side effects: its row, the slot rules shared with the booking
// route, the messages to the contact (through the conversation's send path) and the owner's
// notices (a follow-up task, live events).

type Calendar = Pick<TenantSettings, 'timeZone' | 'businessHours' | 'observeNationalHolidays'>;

const MINUTE_MS = 60_000;

export interface SlotRequest {
  ownerId: string | null;
  startsAt: Date;
  endsAt: Date;
  // The appointment being moved, which does not overlap itself.
  excludeId?: string;
  now: Date;
}

// Why a slot cannot be booked (pt-BR, for the person booking), or null. Serialized per owner by a
// transaction-scoped advisory lock, so two bookings racing for one owner's slot cannot both see
// it free: call inside the transaction that then writes the slot.
export async function refuseSlot(trx: Knex.Transaction, calendar: Calendar, r: SlotRequest): Promise<string | null> {
  const start = r.startsAt.getTime();
  const end = r.endsAt.getTime();
  if (!(end > start)) return 'O fim do horário precisa ser depois do início.';
  if (start <= r.now.getTime()) return 'Não é possível agendar num horário que já passou.';
  const lastMinute = end - MINUTE_MS;
  if (
    !isWithinBusinessHours(calendar, start) ||
    !isWithinBusinessHours(calendar, lastMinute) ||
    localParts(start, calendar.timeZone).date !== localParts(lastMinute, calendar.timeZone).date
  ) {
    return 'O horário fica fora do expediente da empresa.';
  }
  if (!r.ownerId) return null;
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`appointment-owner:${r.ownerId}`]);
  const q = Appointment.query(trx)
    .where({ ownerId: r.ownerId })
    .whereIn('status', OPEN_APPOINTMENT_STATUSES)
    .where('startsAt', '<', r.endsAt)
    .where('endsAt', '>', r.startsAt)
    .orderBy('startsAt')
    .first();
  if (r.excludeId) q.whereNot('id', r.excludeId);
  const clash = await q;
  if (clash) {
    return `O responsável já tem outro agendamento nesse horário (${APPOINTMENT_KIND_LABELS[clash.kind]} de ${formatAppointmentTime(clash.startsAt, calendar.timeZone)}).`;
  }
  return null;
}

export async function emitAppointmentUpdated(deps: Pick<ActivityDeps, 'realtime'>, a: Appointment): Promise<void> {
  const payload = {
    tenantId: a.tenantId,
    appointmentId: a.id,
    leadId: a.leadId,
    ownerId: a.ownerId,
    kind: a.kind,
    status: a.status,
    startsAt: a.startsAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
  await realtimeOf(deps).emit({ tenantId: a.tenantId }, 'appointment:updated', payload);
}

const gone = (what: string) => ApplicationFailure.create({ type: PERMANENT_FAILURE_TYPES.permanent, message: `${what} not found`, nonRetryable: true });

const toChangePatch = (change: AppointmentChange, now: Date) => ({
  ...(change.status ? { status: change.status } : {}),
  ...(change.startsAt ? { startsAt: new Date(change.startsAt) } : {}),
  ...(change.endsAt ? { endsAt: new Date(change.endsAt) } : {}),
  ...(change.rescheduleCount !== undefined ? { rescheduleCount: change.rescheduleCount } : {}),
  ...(change.outcomeNote !== undefined ? { outcomeNote: change.outcomeNote } : {}),
  updatedAt: now,
});

const OWNER_TASK_TITLES: Record<OwnerNotice, (kind: string, when: string) => string> = {
  contact_cancelled: (kind, when) => `O cliente cancelou a ${kind} de ${when}: retome o contato`,
  contact_asked_reschedule: (kind, when) => `O cliente pediu para remarcar a ${kind} de ${when}: combine um novo horário`,
  no_show: (kind, when) => `O cliente não compareceu à ${kind} de ${when}: retome o contato`,
  outcome_missing: (kind, when) => `Registre o resultado da ${kind} de ${when}`,
};

export function appointmentActivities(deps: ActivityDeps) {
  const { knex } = deps;
  return {
    async loadAppointmentContext(a: { tenantId: string; appointmentId: string }): Promise<{ settings: AppointmentSettings; contactName: string | null }> {
      return withTenant(knex, a.tenantId, async (trx) => {
        const row = await Appointment.query(trx).findById(a.appointmentId);
        if (!row) throw gone(`appointment ${a.appointmentId}`);
        const read = await readTenantSettings(trx, a.tenantId);
        if (!read) throw gone(`settings of tenant ${a.tenantId}`);
        const contact = await trx('contacts').where({ id: row.contactId }).first('name', 'profileName');
        const { timeZone, businessHours, observeNationalHolidays, sales } = read.settings;
        return {
          settings: { timeZone, businessHours, observeNationalHolidays, reminders: sales.appointmentReminders },
          contactName: (contact?.name as string | null) ?? (contact?.profileName as string | null) ?? null,
        };
      });
    },

    async recordAppointmentChange(a: { tenantId: string; appointmentId: string; change: AppointmentChange }): Promise<void> {
      const row = await withTenant(knex, a.tenantId, async (trx) => {
        const updated = await Appointment.query(trx).patchAndFetchById(a.appointmentId, toChangePatch(a.change, new Date()));
        if (!updated) throw gone(`appointment ${a.appointmentId}`);
        return updated;
      });
      await emitAppointmentUpdated(deps, row);
    },

    // Re-checked here, under the owner's lock, whatever the route already checked: another
    // booking may have taken the slot in between.
    async rescheduleAppointmentSlot(a: {
      tenantId: string;
      appointmentId: string;
      change: AppointmentChange;
    }): Promise<{ ok: true } | { ok: false; reason: string }> {
      const result = await withTenant(knex, a.tenantId, async (trx) => {
        const row = await Appointment.query(trx).findById(a.appointmentId).forUpdate();
        if (!row) throw gone(`appointment ${a.appointmentId}`);
        const read = await readTenantSettings(trx, a.tenantId);
        if (!read) throw gone(`settings of tenant ${a.tenantId}`);
        const startsAt = new Date(a.change.startsAt as string);
        const endsAt = new Date(a.change.endsAt as string);
        // A retried activity finds its own write done.
        if (row.startsAt.getTime() === startsAt.getTime() && row.endsAt.getTime() === endsAt.getTime() && row.rescheduleCount === a.change.rescheduleCount) {
          return { ok: true as const, row };
        }
        const reason = await refuseSlot(trx, read.settings, { ownerId: row.ownerId, startsAt, endsAt, excludeId: row.id, now: new Date() });
        if (reason) return { ok: false as const, reason };
        return { ok: true as const, row: await Appointment.query(trx).patchAndFetchById(row.id, toChangePatch(a.change, new Date())) };
      });
      if (!result.ok) return result;
      await emitAppointmentUpdated(deps, result.row);
      return { ok: true };
    },

    // Free-form first; when the 24-hour window is closed (known from the last inbound message,
    // or learnt from the conversation's refusal) the approved template instead.
    async sendAppointmentMessage(a: {
      tenantId: string;
      contactId: string;
      updateId: string;
      content: OutboundContent;
      fallback: OutboundContent;
    }): Promise<{ status: 'accepted' | 'failed'; via: 'free_form' | 'template'; messageId: string; failure?: string }> {
      const lastInbound = await withTenant(knex, a.tenantId, async (trx) =>
        Conversation.query(trx).where({ contactId: a.contactId }).whereNotNull('lastInboundAt').max('lastInboundAt as at').first(),
      );
      const at = (lastInbound as unknown as { at: Date | null } | undefined)?.at ?? null;
      if (isWindowOpen(at ? new Date(at).getTime() : null, Date.now())) {
        const r = await sendToContact(deps, { tenantId: a.tenantId, contactId: a.contactId, content: a.content, updateId: a.updateId });
        if (r.status === 'accepted' || !/janela|window/i.test(r.failure ?? '')) return { ...r, via: 'free_form' };
      }
      const t = await sendToContact(deps, { tenantId: a.tenantId, contactId: a.contactId, content: a.fallback, updateId: `${a.updateId}:template` });
      return { ...t, via: 'template' };
    },

    async notifyAppointmentOwner(a: { tenantId: string; appointmentId: string; taskId: string; notice: OwnerNotice }): Promise<void> {
      const { task, row } = await withTenant(knex, a.tenantId, async (trx) => {
        const row = await Appointment.query(trx).findById(a.appointmentId);
        if (!row) throw gone(`appointment ${a.appointmentId}`);
        const read = await readTenantSettings(trx, a.tenantId);
        const when = formatAppointmentTime(row.startsAt, read?.settings.timeZone ?? 'America/Sao_Paulo');
        // The workflow drew the task id: a retried activity finds the task it created.
        const existing = await Task.query(trx).findById(a.taskId);
        const task =
          existing ??
          (await Task.query(trx).insertAndFetch({
            id: a.taskId,
            tenantId: a.tenantId,
            leadId: row.leadId,
            ownerId: row.ownerId,
            kind: 'follow_up',
            title: OWNER_TASK_TITLES[a.notice](APPOINTMENT_KIND_LABELS[row.kind], when),
            status: 'open',
            dueAt: null,
            workflowId: row.workflowId,
          }));
        return { task, row };
      });
      const target = row.ownerId ? { tenantId: a.tenantId, userIds: [row.ownerId] } : { tenantId: a.tenantId, roles: ['TENANT_ADMIN', 'MANAGER'] as const };
      await realtimeOf(deps).emit(target, 'task:new', taskEvent(task));
      await realtimeOf(deps).emit(target, 'appointment:updated', {
        tenantId: a.tenantId,
        appointmentId: row.id,
        leadId: row.leadId,
        ownerId: row.ownerId,
        kind: row.kind,
        status: row.status,
        startsAt: row.startsAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
      });
    },
  };
}

