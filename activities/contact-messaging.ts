import { WithStartWorkflowOperation } from '@temporalio/client';
import { Message, WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { OutboundContent } from '../domain/outbound-content';
import { conversationStart, replyUpdate, type ConversationInput, type ReplyResult } from '../workflows/conversation';
import { startOptions } from '../workflows/workflow-start';
import type { ActivityDeps } from './deps';

// STAND-IN written by the nurturing branch until the leads branch's activities/contact-messaging.ts
// lands on main (same name and signature; the merge keeps the leads branch's). Sales workflows
// send through the contact's conversation workflow, as automations do (update-with-start), so
// pacing, the 24-hour window and the inbox all apply; the update id makes a retried activity
// find the send it already made instead of sending twice.

export interface SendToContact {
  tenantId: string;
  contactId: string;
  content: OutboundContent;
  updateId: string;
}

export async function sendToContact(deps: Pick<ActivityDeps, 'knex' | 'temporal'>, s: SendToContact): Promise<ReplyResult & { code?: number }> {
  if (!deps.temporal) throw new Error('sendToContact needs a Temporal client');
  const channel = await withTenant(deps.knex, s.tenantId, async (trx) => WhatsAppChannel.query(trx).orderBy('createdAt').first());
  if (!channel) return { messageId: '', status: 'failed', failure: 'Este cliente não tem um número de WhatsApp conectado.' };
  const input: ConversationInput = { tenantId: s.tenantId, contactId: s.contactId, channelId: channel.id };
  const start = conversationStart(input);
  const startWorkflowOperation = new WithStartWorkflowOperation(start.workflowType, {
    ...startOptions(start, { main: deps.temporal.taskQueue }),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const result = await deps.temporal.client.workflow.executeUpdateWithStart(replyUpdate, {
    args: [{ actor: SYSTEM_ACTOR, content: s.content, source: 'automation' }],
    startWorkflowOperation,
    updateId: s.updateId,
  });
  if (result.status !== 'failed' || !result.messageId) return result;
  // Meta's error code, as the messaging activity stored it on the failed message.
  const failed = await withTenant(deps.knex, s.tenantId, async (trx) => Message.query(trx).findById(result.messageId));
  const code = (failed?.error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? { ...result, code } : result;
}
