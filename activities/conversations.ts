import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { recordAudit } from '../db/audit';
import { Contact, Conversation } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import type { Actor } from '../domain/actor';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../domain/tenant-settings';
import type { ConversationUpdatedEvent } from '../domain/realtime-events';
import type { InboundMessage } from '../domain/whatsapp-messages';
import { automationEndpointOf, startAutomationEvent } from './automation-events';
import { salesInboundActivities } from './sales-inbound';
import { callerWorkflowId, realtimeOf, type ActivityDeps } from './deps';

// The conversation's record in Postgres and the live events staff see. Every write is
// idempotent (ids come from the workflow), so a retried activity changes nothing twice. Events
// are emitted after the commit; one lost in transit is recovered by the REST resync.

export interface ConversationIds {
  tenantId: string;
  conversationId: string;
  contactId: string;
  channelId: string;
}

export type ConversationChange =
  | { kind: 'escalated'; escalationId: string; reason: string; intent: string | null; team: string | null; outOfHours: boolean; slaDueAt: number | null }
  | { kind: 'accepted'; escalationId: string; userId: string }
  | { kind: 'transferred'; escalationId: string | null; toUserId: string | null; team: string | null }
  | { kind: 'resolved'; escalationId: string | null }
  | { kind: 'note'; messageId: string; text: string }
  | { kind: 'sla_breached'; escalationId: string; breaches: number; team: string | null; nextDueAt: number | null }
  | { kind: 'closed'; reason: string; escalationId: string | null };

export async function loadTenantSettings(trx: Knex.Transaction, tenantId: string): Promise<TenantSettings> {
  const read = await readTenantSettings(trx, tenantId);
  if (read?.replaced.length) {
    Context.current().log.warn('stored tenant settings were invalid; their defaults apply', { tenantId, replaced: read.replaced });
  }
  return read?.settings ?? DEFAULT_TENANT_SETTINGS;
}

export function conversationSnapshot(row: Conversation): ConversationUpdatedEvent {
  return {
    tenantId: row.tenantId,
    conversationId: row.id,
    status: row.status,
    assigneeId: row.assigneeId,
    team: row.team,
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
    lastMessagePreview: row.lastMessagePreview,
    unreadCount: row.unreadCount,
    updatedAt: row.updatedAt.toISOString(),
  };
}

const preview = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

export function conversationActivities(deps: ActivityDeps) {
  const { knex } = deps;
  const realtime = realtimeOf(deps);
  const emit: typeof realtime.emit = (target, event, payload) => realtime.emit(target, event, payload);
  const sales = salesInboundActivities(deps);

  return {
    async openConversation(a: ConversationIds & { workflowId: string }): Promise<{ settings: TenantSettings; to: string }> {
      const { settings, to, created } = await withTenant(knex, a.tenantId, async (trx) => {
        const inserted = await trx('conversations')
          .insert({ id: a.conversationId, tenantId: a.tenantId, contactId: a.contactId, channelId: a.channelId, workflowId: a.workflowId, status: 'ai' })
          .onConflict('id')
          .ignore()
          .returning('id');
        const contact = await Contact.query(trx).findById(a.contactId).throwIfNotFound();
        const row = inserted.length ? await Conversation.query(trx).findById(a.conversationId) : undefined;
        return { settings: await loadTenantSettings(trx, a.tenantId), to: (contact.waId ?? contact.userId) as string, created: row };
      });
      if (created) await emit({ tenantId: a.tenantId, conversationId: a.conversationId }, 'conversation:updated', conversationSnapshot(created));
      return { settings, to };
    },

    // With `routeToSales`, a new message also goes to the sales funnel here, in the same local
    // activity (one step of the workflow task instead of two); `salesRouted` false tells the
    // workflow to try that part again on its own, which it does with retries.
    async recordInbound(
      a: ConversationIds & { message: InboundMessage; status: string; routeToSales?: boolean },
    ): Promise<{ duplicate: boolean; messageId: string; settings: TenantSettings; salesRouted?: boolean }> {
      const m = a.message;
      const occurredAt = new Date(m.timestamp * 1000);
      const info = Context.current().info;
      const ingestKey = `${info.workflowExecution?.runId ?? info.workflowExecution?.workflowId ?? ''}:${info.activityId}`;
      const result = await withTenant(knex, a.tenantId, async (trx) => {
        const settings = await loadTenantSettings(trx, a.tenantId);
        const endpoint = await automationEndpointOf(trx, a.tenantId);
        const [row] = await trx('messages')
          .insert({
            id: knex.raw('gen_random_uuid()'),
            tenantId: a.tenantId,
            conversationId: a.conversationId,
            contactId: a.contactId,
            direction: 'inbound',
            senderType: 'contact',
            type: m.type,
            body: m.text,
            payload: JSON.stringify(m),
            wamid: m.wamid,
            status: 'received',
            contextWamid: m.contextMessageId ?? null,
            occurredAt,
            ingestKey,
          })
          .onConflict(['tenantId', 'wamid'])
          .ignore()
          .returning(['id', 'seq']);
        if (!row) {
          const existing = await trx('messages').where({ tenantId: a.tenantId, wamid: m.wamid }).first('id', 'seq', 'ingestKey');
          // This very activity stored it before its completion was lost (a worker died): not a redelivery.
          const mine = existing.ingestKey === ingestKey;
          const conversation = mine ? await Conversation.query(trx).findById(a.conversationId) : undefined;
          return { duplicate: !mine, messageId: existing.id as string, seq: String(existing.seq), settings, conversation, endpoint };
        }
        const conversation = await Conversation.query(trx)
          .patchAndFetchById(a.conversationId, {
            lastMessageAt: occurredAt,
            lastInboundAt: knex.raw('greatest(last_inbound_at, ?)', [occurredAt]) as unknown as Date,
            lastMessagePreview: preview(m.text || `[${m.type}]`),
            unreadCount: knex.raw('unread_count + 1') as unknown as number,
            updatedAt: new Date(),
          });
        if (m.from.profileName) {
          await Contact.query(trx).findById(a.contactId).patch({ profileName: m.from.profileName, updatedAt: new Date() });
        }
        return { duplicate: false, messageId: row.id as string, seq: String(row.seq), settings, conversation, endpoint };
      });
      if (!result.duplicate) {
        const target = { tenantId: a.tenantId, conversationId: a.conversationId };
        await emit(target, 'message:new', {
          tenantId: a.tenantId,
          conversationId: a.conversationId,
          messageId: result.messageId,
          seq: result.seq,
          direction: 'inbound',
          senderType: 'contact',
          senderId: a.contactId,
          type: m.type,
          body: m.text,
          status: 'received',
          mediaId: null,
          occurredAt: occurredAt.toISOString(),
        });
        if (result.conversation) await emit(target, 'conversation:updated', conversationSnapshot(result.conversation));
        await startAutomationEvent(deps, a.tenantId, `message.received:${result.messageId}`, 'message.received', {
          conversationId: a.conversationId,
          contactId: a.contactId,
          messageId: result.messageId,
          wamid: m.wamid,
          type: m.type,
          text: m.text,
          from: m.from,
          timestamp: m.timestamp,
          conversationStatus: a.status,
        }, { endpoint: result.endpoint });
      }
      if (!a.routeToSales || result.duplicate) return { duplicate: result.duplicate, messageId: result.messageId, settings: result.settings };
      let salesRouted = true;
      try {
        await sales.routeInboundToSales({ tenantId: a.tenantId, contactId: a.contactId, message: m }, { settings: result.settings });
      } catch (err) {
        salesRouted = false;
        Context.current().log.warn('sales routing inside recordInbound failed; the workflow routes it again', { wamid: m.wamid, error: (err as Error).message });
      }
      return { duplicate: false, messageId: result.messageId, settings: result.settings, salesRouted };
    },

    async recordConversationChange(a: ConversationIds & { actor: Actor; change: ConversationChange }): Promise<void> {
      const { tenantId, conversationId } = a;
      const c = a.change;
      const now = new Date();
      const workflowId = callerWorkflowId();
      const audit = (trx: Knex.Transaction, action: string, details: Record<string, unknown>) =>
        recordAudit(trx, { tenantId, actor: a.actor, workflowId, action, entityType: 'conversation', entityId: conversationId, details });

      const view = await withTenant(knex, tenantId, async (trx) => {
        switch (c.kind) {
          case 'escalated': {
            const inserted = await trx('escalations')
              .insert({
                id: c.escalationId, tenantId, conversationId, status: 'waiting', reason: c.reason, intent: c.intent,
                requestedByType: a.actor.type === 'system' ? (c.reason.startsWith('ai') ? 'ai' : c.reason === 'guest_asked_for_person' ? 'contact' : 'system') : a.actor.type,
                requestedById: a.actor.id, team: c.team, outOfHours: c.outOfHours,
                slaDueAt: c.slaDueAt === null ? null : new Date(c.slaDueAt),
              })
              .onConflict('id').ignore().returning('id');
            await trx('conversations').where({ id: conversationId }).update({ status: 'escalated', team: c.team, intent: c.intent, assigneeId: null, updatedAt: now });
            if (inserted.length) await audit(trx, 'conversation.escalated', { escalationId: c.escalationId, reason: c.reason, team: c.team, outOfHours: c.outOfHours });
            break;
          }
          case 'accepted':
            await trx('escalations').where({ id: c.escalationId }).update({ status: 'accepted', acceptedAt: now, acceptedBy: c.userId, slaDueAt: null });
            await trx('conversations').where({ id: conversationId }).update({ status: 'assigned', assigneeId: c.userId, unreadCount: 0, updatedAt: now });
            await audit(trx, 'conversation.accepted', { escalationId: c.escalationId, userId: c.userId });
            break;
          case 'transferred':
            if (c.escalationId) {
              await trx('escalations').where({ id: c.escalationId }).update(
                c.toUserId ? { status: 'accepted', acceptedAt: knex.raw('coalesce(accepted_at, ?)', [now]), acceptedBy: c.toUserId, team: c.team } : { status: 'waiting', acceptedAt: null, acceptedBy: null, team: c.team },
              );
            }
            await trx('conversations').where({ id: conversationId }).update({ status: c.toUserId ? 'assigned' : 'escalated', assigneeId: c.toUserId, team: c.team, updatedAt: now });
            await audit(trx, 'conversation.transferred', { toUserId: c.toUserId, team: c.team });
            break;
          case 'resolved':
            if (c.escalationId) await trx('escalations').where({ id: c.escalationId }).update({ status: 'resolved', resolvedAt: now });
            await trx('conversations').where({ id: conversationId }).update({ status: 'ai', assigneeId: null, team: null, updatedAt: now });
            await audit(trx, 'conversation.resolved', { escalationId: c.escalationId });
            break;
          case 'note': {
            const inserted = await trx('messages')
              .insert({
                id: c.messageId, tenantId, conversationId, contactId: a.contactId, direction: 'internal',
                senderType: a.actor.type === 'api_key' ? 'automation' : a.actor.type === 'user' ? 'user' : 'system',
                senderId: a.actor.id, type: 'note', body: c.text, status: 'note', occurredAt: now,
              })
              .onConflict('id').ignore().returning(['id', 'seq']);
            if (inserted.length) await audit(trx, 'conversation.note_added', { messageId: c.messageId });
            return { seq: inserted[0] ? String(inserted[0].seq) : null };
          }
          case 'sla_breached':
            await trx('escalations').where({ id: c.escalationId }).update({ slaBreaches: c.breaches });
            await audit(trx, 'escalation.sla_breached', { escalationId: c.escalationId, breaches: c.breaches });
            break;
          case 'closed':
            if (c.escalationId) {
              await trx('escalations').where({ id: c.escalationId }).whereIn('status', ['waiting', 'accepted']).update({ status: 'cancelled', resolvedAt: now });
            }
            await trx('conversations').where({ id: conversationId }).update({ status: 'closed', closedAt: now, closeReason: c.reason, updatedAt: now });
            await audit(trx, 'conversation.closed', { reason: c.reason });
            break;
        }
        return { seq: null };
      });

      const conv = { tenantId, conversationId };
      const base = { tenantId, conversationId, contactId: a.contactId };
      switch (c.kind) {
        case 'escalated':
          await emit(conv, 'escalation:new', { ...conv, escalationId: c.escalationId, reason: c.reason, intent: c.intent, team: c.team, outOfHours: c.outOfHours, slaDueAt: c.slaDueAt === null ? null : new Date(c.slaDueAt).toISOString(), createdAt: now.toISOString() });
          await startAutomationEvent(deps, tenantId, `conversation.escalated:${c.escalationId}`, 'conversation.escalated', { ...base, escalationId: c.escalationId, reason: c.reason, intent: c.intent });
          break;
        case 'accepted':
          await emit(conv, 'escalation:accepted', { ...conv, escalationId: c.escalationId, acceptedBy: c.userId, acceptedAt: now.toISOString() });
          break;
        case 'note':
          if (view.seq) {
            await emit(conv, 'message:new', {
              ...conv, messageId: c.messageId, seq: view.seq, direction: 'internal', senderType: a.actor.type === 'api_key' ? 'automation' : a.actor.type === 'user' ? 'user' : 'system',
              senderId: a.actor.id, type: 'note', body: c.text, status: 'note', mediaId: null, occurredAt: now.toISOString(),
            });
          }
          return;
        case 'sla_breached':
          // Managers hear about it again; attendants already have it in their queue.
          await emit({ tenantId, conversationId, roles: ['MANAGER', 'TENANT_ADMIN'] }, 'escalation:sla_breached', {
            ...conv, escalationId: c.escalationId, breaches: c.breaches, team: c.team, slaDueAt: new Date(c.nextDueAt ?? now.getTime()).toISOString(),
          });
          return;
        case 'resolved':
          await startAutomationEvent(deps, tenantId, `conversation.resolved:${c.escalationId ?? conversationId}`, 'conversation.resolved', { ...base, escalationId: c.escalationId });
          break;
        case 'closed':
          await startAutomationEvent(deps, tenantId, `conversation.closed:${conversationId}`, 'conversation.closed', { ...base, reason: c.reason });
          break;
        default:
          break;
      }
      const row = await withTenant(knex, tenantId, async (trx) => Conversation.query(trx).findById(conversationId));
      if (row) await emit(conv, 'conversation:updated', conversationSnapshot(row));
    },
  };
}
