import { ApplicationFailure } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { OutboundContent } from '../domain/outbound-content';
import { conversationStart, replyUpdate, type ConversationInput, type ReplyResult } from '../workflows/conversation';
import { startOptions } from '../workflows/workflow-start';
import { activityCancellation } from './call-signal';
import type { ActivityDeps } from './deps';

// Sales workflows (a cadence's template, an appointment's confirmation, a signing link) write to
// a contact through the one send path there is: the contact's conversation workflow, by
// update-with-start (starting the conversation when none is running), exactly as automations do
// from the API. The update id is the caller's deterministic step key, so a retried activity gets
// the first send's result instead of sending again.

export interface SendToContact {
  tenantId: string;
  contactId: string;
  content: OutboundContent;
  // e.g. `${workflowId}:${stepKey}`: the same id twice sends once.
  updateId: string;
}

export const NO_WHATSAPP_CHANNEL = 'NoWhatsAppChannel';

// The API sends too (a proposal's link, a signing code): it hands only the pacing it is configured with.
export type ContactMessagingDeps = Pick<ActivityDeps, 'knex' | 'temporal'> & { whatsapp?: Pick<ActivityDeps['whatsapp'], 'perCustomerIntervalMs'> };

export async function sendToContact(deps: ContactMessagingDeps, s: SendToContact): Promise<ReplyResult> {
  if (!deps.temporal) throw new Error('sendToContact needs a Temporal client in the activity deps');
  const channel = await withTenant(deps.knex, s.tenantId, async (trx) => WhatsAppChannel.query(trx).orderBy('createdAt').first());
  if (!channel) throw ApplicationFailure.nonRetryable('the tenant has no WhatsApp number connected', NO_WHATSAPP_CHANNEL);
  // A conversation this send starts paces its replies as the worker's configuration says.
  const perCustomerIntervalMs = deps.whatsapp?.perCustomerIntervalMs;
  const input: ConversationInput = { tenantId: s.tenantId, contactId: s.contactId, channelId: channel.id, ...(perCustomerIntervalMs !== undefined ? { options: { perCustomerIntervalMs } } : {}) };
  const start = conversationStart(input);
  const startWorkflowOperation = new WithStartWorkflowOperation(start.workflowType, {
    ...startOptions(start, { main: deps.temporal.taskQueue }),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const { client } = deps.temporal;
  const call = () =>
    client.workflow.executeUpdateWithStart(replyUpdate, {
      args: [{ actor: SYSTEM_ACTOR, content: s.content, source: 'automation' }],
      startWorkflowOperation,
      updateId: s.updateId,
    });
  // In an activity the wait ends with the attempt: a worker shutting down stops polling the very
  // conversation this waits on, and an uncancellable wait kept the shutdown from ever finishing.
  const cancellation = activityCancellation();
  try {
    return await (cancellation ? client.withAbortSignal(cancellation, call) : call());
  } catch (err) {
    // The conversation refused it (free text outside the 24-hour window): an answer, not an outage.
    // No message was written, so there is no message id to give.
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as { message?: string } | undefined;
      return { messageId: '', status: 'failed', failure: cause?.message ?? 'A conversa recusou o envio.' };
    }
    throw err;
  }
}
