import { WithStartWorkflowOperation } from '@temporalio/client';
import { WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { OutboundContent } from '../domain/outbound-content';
import { conversationStart, replyUpdate, type ConversationInput, type ReplyResult } from '../workflows/conversation';
import { startOptions } from '../workflows/workflow-start';
import type { ActivityDeps } from './deps';

// STAND-IN (H1 owns this file): the signature every sales process shares; the merge keeps H1's.
// A sales process's WhatsApp message goes through the contact's conversation workflow (its
// pacing, window rules and message rows), started if none is running. The update id is the
// caller's deterministic key, so a retried activity finds the update it already made.

export interface SendToContact {
  tenantId: string;
  contactId: string;
  content: OutboundContent;
  updateId: string;
}

export async function sendToContact(deps: Pick<ActivityDeps, 'knex' | 'temporal' | 'whatsapp'> | Pick<ActivityDeps, 'knex' | 'temporal'>, m: SendToContact): Promise<ReplyResult> {
  if (!deps.temporal) throw new Error('sendToContact needs a Temporal client');
  const channel = await withTenant(deps.knex, m.tenantId, async (trx) => WhatsAppChannel.query(trx).orderBy('createdAt').first());
  if (!channel) return { messageId: '', status: 'failed', failure: 'no WhatsApp channel' };
  const interval = 'whatsapp' in deps ? deps.whatsapp.perCustomerIntervalMs : undefined;
  const input: ConversationInput = {
    tenantId: m.tenantId,
    contactId: m.contactId,
    channelId: channel.id,
    ...(interval !== undefined ? { options: { perCustomerIntervalMs: interval } } : {}),
  };
  const start = conversationStart(input);
  const startWorkflowOperation = new WithStartWorkflowOperation(start.workflowType, {
    ...startOptions(start, { main: deps.temporal.taskQueue }),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return deps.temporal.client.workflow.executeUpdateWithStart(replyUpdate, {
    args: [{ actor: SYSTEM_ACTOR, content: m.content, source: 'automation' }],
    startWorkflowOperation,
    updateId: m.updateId,
  });
}
