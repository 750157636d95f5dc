import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { currentConsent, marketingAllowed } from '../db/consent';
import { Cadence, CadenceVersion, ConsentEvent, Lead, LeadEvent, SalesCapacity, Task, User } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { parseCadenceSteps } from '../domain/cadence';
import { pickOwner } from '../domain/owner-assignment';
import type { OutboundContent } from '../domain/outbound-content';
import { taskEvent } from '../domain/realtime-events';
import { OPEN_LEAD_STAGES, type LeadEventType, type NurturingStatus, type TaskStatus } from '../domain/sales-statuses';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../domain/tenant-settings';
import type { FrozenCadence } from '../workflows/nurturing/definitions';
import { sendToContact } from './contact-messaging';
import { realtimeOf, type ActivityDeps } from './deps';
import { emitLeadUpdated } from './lead-stages';

// The side effects of a lead's nurturing workflow, one each: the owner, the cadence frozen at
// enrolment, the consent check before a marketing send, the send itself (through the contact's
// conversation), the lead's nurturing columns and timeline, the call tasks, and the record of
// Meta's "stopped marketing" (131050) in the consent ledger.

export interface TimelineEntry {
  type: LeadEventType;
  data: Record<string, unknown>;
  actorType: string;
  actorId: string | null;
}

export interface Enrolment {
  cadence: FrozenCadence | null;
  marketingConsent: boolean;
  settings: TenantSettings;
}

const timelineRow = (tenantId: string, leadId: string, e: TimelineEntry) => ({
  id: randomUUID(),
  tenantId,
  leadId,
  type: e.type,
  data: e.data,
  actorType: e.actorType,
  actorId: e.actorId,
  occurredAt: new Date(),
});

async function openLeadCounts(trx: Knex.Transaction, userIds: string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = (await trx('leads')
    .whereIn('ownerId', userIds)
    .whereIn('stage', OPEN_LEAD_STAGES)
    .groupBy('ownerId')
    .select('ownerId')
    .count({ n: '*' })) as unknown as { ownerId: string; n: string | number }[];
  return new Map(rows.map((r) => [r.ownerId, Number(r.n)]));
}

export function leadNurturingActivities(deps: ActivityDeps) {
  const { knex } = deps;
  return {
    // Round robin under the tenant's cursor row, locked so two leads arriving together never go
    // to the same person by racing. A lead that already has an owner keeps it.
    async assignLeadOwner({ tenantId, leadId }: { tenantId: string; leadId: string }): Promise<{ ownerId: string | null; assigned: boolean }> {
      const result = await withTenant(knex, tenantId, async (trx) => {
        const lead = await Lead.query(trx).findById(leadId).forUpdate().throwIfNotFound();
        if (lead.ownerId) return { ownerId: lead.ownerId, assigned: false, lead };
        await trx.raw('INSERT INTO lead_assignment_cursors (tenant_id) VALUES (?) ON CONFLICT (tenant_id) DO NOTHING', [tenantId]);
        const cursor = (await trx('lead_assignment_cursors').where({ tenantId }).forUpdate().first()) as { lastUserId: string | null };
        const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
        const users = await User.query(trx).where({ role: 'SALES' }).orderBy([{ column: 'createdAt' }, { column: 'id' }]);
        const capacities = new Map((await SalesCapacity.query(trx)).map((c) => [c.userId, c.maxOpenLeads]));
        const open = await openLeadCounts(trx, users.map((u) => u.id));
        const ownerId = pickOwner(
          users.map((u) => ({ userId: u.id, active: u.active, openLeads: open.get(u.id) ?? 0, capacity: capacities.get(u.id) ?? settings.sales.defaultMaxOpenLeads })),
          cursor.lastUserId,
        );
        if (!ownerId) {
          await LeadEvent.query(trx).insert(timelineRow(tenantId, leadId, { type: 'assigned', data: { ownerId: null, reason: 'no_eligible_user' }, actorType: 'system', actorId: null }));
          return { ownerId: null, assigned: false, lead };
        }
        await trx('lead_assignment_cursors').where({ tenantId }).update({ lastUserId: ownerId, updatedAt: new Date() });
        const updated = await Lead.query(trx).patchAndFetchById(leadId, { ownerId, updatedAt: new Date() });
        await LeadEvent.query(trx).insert(timelineRow(tenantId, leadId, { type: 'assigned', data: { ownerId, by: 'round_robin' }, actorType: 'system', actorId: null }));
        return { ownerId, assigned: true, lead: updated };
      });
      if (result.assigned) await emitLeadUpdated(deps, result.lead);
      return { ownerId: result.ownerId, assigned: result.assigned };
    },

    // There is no 'lead.hot' automation event (the list is shared): a hot lead is a live alert to
    // its owner and the managers, and a timeline row; automations read the score and temperature
    // off lead.created / lead.stage_changed and the REST API.
    async alertHotLead({ tenantId, leadId }: { tenantId: string; leadId: string }): Promise<void> {
      const lead = await withTenant(knex, tenantId, async (trx) => {
        const row = await Lead.query(trx).findById(leadId).throwIfNotFound();
        await LeadEvent.query(trx).insert(
          timelineRow(tenantId, leadId, { type: 'note', data: { kind: 'hot_alert', score: row.score, ownerId: row.ownerId }, actorType: 'system', actorId: null }),
        );
        return row;
      });
      const target = { tenantId, userIds: lead.ownerId ? [lead.ownerId] : [], roles: ['MANAGER', 'TENANT_ADMIN'] as const };
      await realtimeOf(deps).emit(target, 'lead:hot', { tenantId, leadId, ownerId: lead.ownerId, score: lead.score ?? 0, reasons: lead.scoreReasons });
    },

    // The lead's cadence (one set on it, else the tenant's default) at its current version, read
    // once: the workflow keeps this copy, so an edit reaches new enrolments only.
    async enrolLeadInCadence({ tenantId, leadId, contactId }: { tenantId: string; leadId: string; contactId: string }): Promise<Enrolment> {
      return withTenant(knex, tenantId, async (trx) => {
        const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
        const lead = await Lead.query(trx).findById(leadId).throwIfNotFound();
        const cadence = lead.cadenceId
          ? await Cadence.query(trx).findById(lead.cadenceId)
          : await Cadence.query(trx).where({ isDefault: true, active: true }).first();
        const consent = { granted: await marketingAllowed(trx, tenantId, contactId) };
        if (!cadence) return { cadence: null, marketingConsent: consent.granted, settings };
        // Already enrolled (a retried activity, a continued run): the version it froze.
        const version = lead.cadenceId === cadence.id && lead.cadenceVersion ? lead.cadenceVersion : cadence.currentVersion;
        const row = await CadenceVersion.query(trx).findById([cadence.id, version]);
        const steps = row ? parseCadenceSteps(row.steps) : null;
        if (!steps) return { cadence: null, marketingConsent: consent.granted, settings };
        if (lead.cadenceVersion !== version || lead.cadenceId !== cadence.id) {
          await Lead.query(trx).findById(leadId).patch({ cadenceId: cadence.id, cadenceVersion: version, updatedAt: new Date() });
          await LeadEvent.query(trx).insert(
            timelineRow(tenantId, leadId, {
              type: 'cadence_enrolled',
              data: { cadenceId: cadence.id, name: cadence.name, version, steps: steps.length, marketingConsent: consent.granted },
              actorType: 'system',
              actorId: null,
            }),
          );
        }
        return { cadence: { id: cadence.id, version, steps }, marketingConsent: consent.granted, settings };
      });
    },

    async nurturingMarketingConsent({ tenantId, contactId }: { tenantId: string; contactId: string }): Promise<boolean> {
      return withTenant(knex, tenantId, async (trx) => marketingAllowed(trx, tenantId, contactId));
    },

    async sendCadenceTemplate(s: { tenantId: string; contactId: string; content: OutboundContent; updateId: string }) {
      const r = await sendToContact(deps, s);
      return { status: r.status, messageId: r.messageId, ...(r.code !== undefined ? { code: r.code } : {}), ...(r.failure ? { failure: r.failure } : {}) };
    },

    // The lead's nurturing columns (the board shows them) and its timeline rows, in one transaction.
    async recordNurturing(r: { tenantId: string; leadId: string; status: NurturingStatus; nextAt: string | null; events: TimelineEntry[] }): Promise<void> {
      const lead = await withTenant(knex, r.tenantId, async (trx) => {
        const updated = await Lead.query(trx).patchAndFetchById(r.leadId, {
          nurturingStatus: r.status,
          nurturingNextAt: r.nextAt ? new Date(r.nextAt) : null,
          updatedAt: new Date(),
        });
        if (r.events.length > 0) await LeadEvent.query(trx).insert(r.events.map((e) => timelineRow(r.tenantId, r.leadId, e)));
        return updated;
      });
      if (lead) await emitLeadUpdated(deps, lead);
    },

    // Idempotent on the task id the workflow drew, so a retried activity creates it once.
    async createCadenceTask(t: { tenantId: string; leadId: string; taskId: string; title: string; ownerId: string | null; dueAt: string; workflowId: string }): Promise<void> {
      const created = await withTenant(knex, t.tenantId, async (trx) => {
        const inserted = await trx('tasks')
          .insert({ id: t.taskId, tenantId: t.tenantId, leadId: t.leadId, ownerId: t.ownerId, kind: 'call', title: t.title, status: 'open', dueAt: new Date(t.dueAt), workflowId: t.workflowId })
          .onConflict('id')
          .ignore()
          .returning('id');
        return inserted.length > 0;
      });
      if (!created) return;
      await realtimeOf(deps).emit({ tenantId: t.tenantId, userIds: t.ownerId ? [t.ownerId] : [], roles: ['MANAGER'] }, 'task:new', taskEvent({ tenantId: t.tenantId, id: t.taskId, leadId: t.leadId, ownerId: t.ownerId, kind: 'call', title: t.title, status: 'open', dueAt: new Date(t.dueAt) }));
    },

    // An open task the cadence no longer waits on (expired, skipped, the cadence stopped).
    async closeCadenceTask({ tenantId, taskId, status }: { tenantId: string; taskId: string; status: Extract<TaskStatus, 'expired' | 'cancelled'> }): Promise<void> {
      const task = await withTenant(knex, tenantId, async (trx) => {
        const n = await Task.query(trx).findById(taskId).where({ status: 'open' }).patch({ status, completedAt: new Date() });
        return n > 0 ? Task.query(trx).findById(taskId) : undefined;
      });
      if (!task) return;
      await realtimeOf(deps).emit({ tenantId, userIds: task.ownerId ? [task.ownerId] : [], roles: ['MANAGER'] }, 'task:updated', taskEvent(task));
    },

    // Meta's 131050: the person turned off marketing messages in WhatsApp. That is a withdrawal
    // of marketing consent, recorded in the ledger like any other (channel meta_opt_out).
    async recordMarketingBlocked({ tenantId, contactId, leadId, messageId }: { tenantId: string; contactId: string; leadId: string; messageId: string }): Promise<void> {
      await withTenant(knex, tenantId, async (trx) => {
        const consent = await currentConsent(trx, tenantId, contactId, 'marketing');
        if (consent.granted || consent.channel !== 'meta_opt_out') {
          await ConsentEvent.query(trx).insert({
            id: randomUUID(),
            tenantId,
            contactId,
            purpose: 'marketing',
            action: 'withdrawn',
            channel: 'meta_opt_out',
            textVersion: null,
            evidence: { metaErrorCode: 131050, messageId, leadId },
            recordedByType: 'system',
            recordedById: null,
            occurredAt: new Date(),
          });
        }
      });
    },
  };
}
