import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { OutboundContent } from '../domain/outbound-content';
import { conversationStart, replyUpdate, type ReplyResult } from '../workflows/conversation';
import { startOptions } from '../workflows/workflow-start';
import type { ActivityDeps } from './deps';

// STAND-IN (sales-appt branch) for the leads process's shared helper of the same name and
// signature; the merge keeps that one. A sales workflow's message to a contact goes through the
// existing send path: the contact's conversation workflow's reply update, started if none is
// running, under a deterministic update id so a retried activity does not send twice.

export interface SendToContact {
  tenantId: string;
  contactId: string;
  content: OutboundContent;
  updateId: string;
}

export async function sendToContact(deps: Pick<ActivityDeps, 'knex' | 'temporal'>, m: SendToContact): Promise<ReplyResult> {
  if (!deps.temporal) throw new Error('sendToContact needs the Temporal client in the activity deps');
  const channel = await withTenant(deps.knex, m.tenantId, async (trx) => WhatsAppChannel.query(trx).orderBy('createdAt').first());
  if (!channel) return { messageId: '', status: 'failed', failure: 'Este cliente não tem um número de WhatsApp conectado.' };
  const start = conversationStart({ tenantId: m.tenantId, contactId: m.contactId, channelId: channel.id });
  const startWorkflowOperation = new WithStartWorkflowOperation(start.workflowType, {
    ...startOptions(start, { main: deps.temporal.taskQueue }),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    return await deps.temporal.client.workflow.executeUpdateWithStart(replyUpdate, {
      args: [{ actor: SYSTEM_ACTOR, content: m.content, source: 'automation' }],
      startWorkflowOperation,
      updateId: m.updateId,
    });
  } catch (err) {
    // The conversation refused the content (the 24-hour window closed, the conversation ending):
    // an answer for the caller to act on, not a failure to retry.
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as { message?: string } | undefined;
      return { messageId: '', status: 'failed', failure: cause?.message ?? err.message };
    }
    throw err;
  }
}
