import { ApplicationFailure, Context } from '@temporalio/activity';
import { applyStatusEvents } from '../db/message-status';
import { Message, WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { outboundPreview, toGraphMessage, type OutboundContent } from '../domain/outbound-content';
import { classifySendError, isRetryable } from '../domain/whatsapp-errors';
import { NumberThroughput } from '../infra/number-throughput';
import { callSignal, cancelledActivity } from './call-signal';
import type { ConversationIds } from './conversations';
import { realtimeOf, type ActivityDeps } from './deps';

// Sending through the Graph API `/{phone-number-id}/messages`. The message row is written first
// under an id the workflow chose, and a row that already carries Meta's wamid is never sent
// again: a retried activity (or a worker that died after the call) does not double-send, except
// in the instant between Meta's answer and the commit that stores it.

export interface SendInput extends ConversationIds {
  messageId: string;
  to: string;
  content: OutboundContent;
  sender: { type: 'ai' | 'user' | 'automation' | 'system'; id: string | null };
  assigneeId: string | null;
}

const PAIR_RATE_LIMIT = 131056;
// How long a retry waits for Meta's word on an attempt whose answer was lost before sending again.
const OUTCOME_WAIT_MS = 30_000;

export type SendResult = { status: 'accepted'; wamid: string } | { status: 'failed'; failure: string; code?: number };

interface GraphSendResponse {
  messages?: { id: string; message_status?: string }[];
  error?: { message?: string; code?: number; error_data?: { details?: string } };
}

export function messagingActivities(deps: ActivityDeps) {
  const { knex, secrets, whatsapp } = deps;
  const base = `${whatsapp.baseUrl.replace(/\/$/, '')}/${whatsapp.apiVersion}`;
  const throughput = new NumberThroughput(deps.redis, deps.redisKeyPrefix ?? 'orq:', whatsapp.numberMessagesPerSecond ?? 80);
  const realtime = realtimeOf(deps);
  const emit: typeof realtime.emit = (target, event, payload) => realtime.emit(target, event, payload);

  async function markFailed(a: SendInput, reason: string, error: { code: number | null; message: string | null } & Record<string, unknown>): Promise<SendResult> {
    await withTenant(knex, a.tenantId, async (trx) => {
      await Message.query(trx).findById(a.messageId).patch({ status: 'failed', error: { ...error, reason }, statusAt: new Date() });
    });
    // The attendant hears why, in words, instead of a silent retry loop.
    await emit(
      { tenantId: a.tenantId, conversationId: a.conversationId, ...(a.assigneeId ? { userIds: [a.assigneeId] } : {}) },
      'message:failed',
      {
        tenantId: a.tenantId, conversationId: a.conversationId, messageId: a.messageId,
        error: { code: error.code, title: reason, message: error.message ?? undefined }, failedAt: new Date().toISOString(),
      },
    );
    return { status: 'failed', failure: reason, ...(typeof error.code === 'number' ? { code: error.code } : {}) };
  }

  async function adopt(a: SendInput, wamid: string): Promise<SendResult> {
    const applied = await withTenant(knex, a.tenantId, async (trx) => {
      await Message.query(trx).findById(a.messageId).patch({ wamid, status: 'accepted', statusAt: new Date() });
      // A status webhook can beat this commit; it was kept and applies now.
      return applyStatusEvents(trx, a.tenantId, [wamid]);
    });
    await emit({ tenantId: a.tenantId, conversationId: a.conversationId }, 'message:status', {
      tenantId: a.tenantId, conversationId: a.conversationId, messageId: a.messageId,
      status: applied[0]?.status ?? 'accepted', statusAt: new Date().toISOString(),
    });
    return { status: 'accepted', wamid };
  }

  async function clearAttempt(a: SendInput): Promise<void> {
    await withTenant(knex, a.tenantId, async (trx) => {
      await Message.query(trx).findById(a.messageId).patch({ sendAttemptedAt: null });
    });
  }

  async function adoptFromStatus(a: SendInput): Promise<SendResult | undefined> {
    const seen = await withTenant(knex, a.tenantId, async (trx) =>
      trx('message_status_events').where({ callbackData: a.messageId }).first('wamid'),
    );
    return seen ? adopt(a, seen.wamid as string) : undefined;
  }

  return {
    // Gave up after the retries: the row says so, and the attendant hears it.
    async markSendAbandoned(a: SendInput & { reason: string }): Promise<void> {
      const row = await withTenant(knex, a.tenantId, async (trx) => Message.query(trx).findById(a.messageId));
      if (!row || row.wamid || row.status === 'failed') return;
      if (row.sendAttemptedAt && (await adoptFromStatus(a))) return;
      await markFailed(a, a.reason, { code: null, message: null, kind: 'abandoned' });
    },

    async sendWhatsAppMessage(a: SendInput): Promise<SendResult> {
      const { row, channel, created } = await withTenant(knex, a.tenantId, async (trx) => {
        const inserted = await trx('messages')
          .insert({
            id: a.messageId,
            tenantId: a.tenantId,
            conversationId: a.conversationId,
            contactId: a.contactId,
            direction: 'outbound',
            senderType: a.sender.type,
            senderId: a.sender.id,
            type: a.content.type,
            body: outboundPreview(a.content),
            payload: JSON.stringify(a.content),
            status: 'pending',
            occurredAt: new Date(),
          })
          .onConflict('id')
          .ignore()
          .returning('seq');
        const row = await Message.query(trx).findById(a.messageId).throwIfNotFound();
        const channel = await WhatsAppChannel.query(trx).findById(a.channelId).throwIfNotFound();
        return { row, channel, created: inserted.length > 0 };
      });
      if (row.wamid) return { status: 'accepted', wamid: row.wamid };
      if (row.status === 'failed') {
        const error = row.error as { reason?: string; code?: unknown } | null;
        return { status: 'failed', failure: String(error?.reason ?? 'falha no envio'), ...(typeof error?.code === 'number' ? { code: error.code } : {}) };
      }
      if (row.sendAttemptedAt) {
        // An earlier attempt may have reached Meta and died before storing the answer. Meta's
        // status webhooks echo our id (biz_opaque_callback_data) with the wamid: adopt it rather
        // than send twice. No word within the wait means Meta never got it.
        const adopted = await adoptFromStatus(a);
        if (adopted) return adopted;
        if (Date.now() - row.sendAttemptedAt.getTime() < OUTCOME_WAIT_MS) {
          throw ApplicationFailure.create({ message: 'outcome of an earlier attempt unknown; waiting for Meta’s status webhook', type: 'WhatsApp_outcome_unknown', nextRetryDelay: '3 seconds' });
        }
      }
      if (created) {
        await emit({ tenantId: a.tenantId, conversationId: a.conversationId }, 'message:new', {
          tenantId: a.tenantId, conversationId: a.conversationId, messageId: a.messageId, seq: String(row.seq), direction: 'outbound',
          type: row.type, body: row.body, status: 'pending', senderType: a.sender.type, senderId: a.sender.id, mediaId: null,
          occurredAt: row.occurredAt.toISOString(),
        });
      }

      await throughput.take(channel.phoneNumberId);
      await withTenant(knex, a.tenantId, async (trx) => {
        await Message.query(trx).findById(a.messageId).patch({ sendAttemptedAt: new Date() });
      });
      let res: Response;
      try {
        res = await fetch(`${base}/${encodeURIComponent(channel.phoneNumberId)}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secrets.open(channel.accessTokenSealed)}`, 'content-type': 'application/json' },
          // Meta echoes this in every status webhook of the message.
          body: JSON.stringify(toGraphMessage(a.content, a.to, { callbackData: a.messageId })),
          signal: callSignal(whatsapp.timeoutMs ?? 15_000),
        });
      } catch (err) {
        // Cancelled mid-call, Meta may have the message: in doubt, as after a timeout.
        if (cancelledActivity()) throw err;
        // Refused connections never reached Meta; a timeout may have: that one stays in doubt.
        if (isConnectionRefused(err)) await clearAttempt(a);
        throw new Error(`Graph API unreachable: ${(err as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as GraphSendResponse;
      const wamid = body.messages?.[0]?.id;
      if (res.ok && wamid) return adopt(a, wamid);
      // Meta answered, and not with a wamid: nothing was sent, a retry need not wait for a status.
      await clearAttempt(a);

      const code = body.error?.code;
      const attempt = Context.current().info.attempt;
      const verdict = classifySendError(res.status, code, attempt);
      const detail = `Graph API HTTP ${res.status} (code ${code ?? '-'}): ${body.error?.message ?? 'no message'}`;
      if (isRetryable(verdict.kind)) {
        // Meta asks for 4^n seconds after a pair rate limit (same guest too often); the number's
        // throughput limit and outages take the workflow's shorter backoff.
        throw ApplicationFailure.create({
          message: detail,
          type: `WhatsApp_${verdict.kind}`,
          nextRetryDelay: code === PAIR_RATE_LIMIT && verdict.retryAfterSeconds ? `${verdict.retryAfterSeconds} seconds` : undefined,
        });
      }
      return markFailed(a, verdict.reason, { httpStatus: res.status, code: code ?? null, message: body.error?.message ?? null, details: body.error?.error_data?.details ?? null, kind: verdict.kind });
    },
  };
}

function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}
