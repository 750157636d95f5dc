import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Knex } from 'knex';
import { resolveContactId } from '../../db/contacts';
import { Conversation, WhatsAppChannel } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { conversationStart, type ConversationInput } from '../../workflows/conversation';
import { startOptions } from '../../workflows/workflow-start';
import type { ApiDeps } from '../deps';
import { conflict, notFound } from '../problem';
import { callWorkflow, taskQueues } from '../workflow-calls';

// Staff and automations act on a conversation through its workflow's updates. The workflow's
// validators refuse what does not fit its state (409 with their pt-BR message); an idempotency
// key becomes the update id, so a client retrying after a timeout does not send twice.

// An update waits for the workflow's answer (a send included), so it gets longer than a start.
const CONVERSATION_CALL = { deadlineMs: 10_000, onNotFound: () => conflict('A conversa foi encerrada.') };

export async function openConversationRow(db: Knex.Transaction, id: string): Promise<Conversation> {
  const row = await Conversation.query(db).findById(id);
  if (!row) throw notFound('Conversa não encontrada.');
  return row;
}

export async function updateConversation<Ret, Args extends [unknown, ...unknown[]]>(
  deps: ApiDeps,
  row: Conversation,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
  idempotencyKey?: string,
): Promise<Ret> {
  if (row.status === 'closed') throw conflict('A conversa foi encerrada. Uma nova começa quando o cliente escrever ou com o envio de um modelo (template).');
  const handle = deps.temporal.client.workflow.getHandle(row.workflowId);
  return callWorkflow(deps, () => handle.executeUpdate(update, { args, updateId: idempotencyKey ?? randomUUID() }), CONVERSATION_CALL);
}

// Sending to a person by phone (automations, or a reply to a closed conversation): the update
// goes to the contact's conversation, starting one if none is running.
export async function updateContactConversation<Ret, Args extends [unknown, ...unknown[]]>(
  deps: ApiDeps,
  tenantId: string,
  to: { waId?: string; contactId?: string },
  update: UpdateDefinition<Ret, Args>,
  args: Args,
  idempotencyKey?: string,
): Promise<Ret> {
  // Committed before the update: the workflow's first step reads the contact on a connection of
  // its own. withTenant commits the request's transaction first, so the request holds one at a time.
  const { contactId, channel } = await withTenant(deps.knex, tenantId, async (trx) => ({
    contactId: to.contactId ?? (await resolveContactId(trx, tenantId, { waId: to.waId })),
    channel: await WhatsAppChannel.query(trx).orderBy('createdAt').first(),
  }));
  if (!channel) throw conflict('Este cliente não tem um número de WhatsApp conectado.');
  const input: ConversationInput = {
    tenantId,
    contactId,
    channelId: channel.id,
    options: { perCustomerIntervalMs: deps.config.WHATSAPP_PER_CUSTOMER_INTERVAL_MS },
  };
  const start = conversationStart(input);
  const startWorkflowOperation = new WithStartWorkflowOperation(start.workflowType, {
    ...startOptions(start, taskQueues(deps)),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return callWorkflow(
    deps,
    () => deps.temporal.client.workflow.executeUpdateWithStart(update, { args, startWorkflowOperation, updateId: idempotencyKey ?? randomUUID() }),
    CONVERSATION_CALL,
  );
}
