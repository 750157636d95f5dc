import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { withTenant } from '../../../db/tenant-scope';
import { conversationStateQuery, conversationWorkflowId } from '../../../workflows/conversation';
import type { Message } from './load';
import type { ReplyBook } from './replies';
import { sleep } from './stats';

// Evidence, gathered while the stack still runs: for a few guests whose messages got no reply,
// what their conversation workflow holds (state query, pending activities) and what the
// database stored; for each outbound message the Graph API accepted twice, when, and what the
// workflow history says about that send's activity attempts.

export async function diagnose(a: { knex: Knex; client: Client; tenantId: string; messages: Message[]; replies: ReplyBook; sendStart: number }): Promise<string[]> {
  const out: string[] = [];
  const rel = (t: number | undefined) => (t === undefined ? '-' : `${((t - a.sendStart) / 1000).toFixed(1)}s`);
  const withDeadline = <T>(p: Promise<T>, msWait: number) =>
    Promise.race([p, sleep(msWait).then(() => Promise.reject(new Error(`no answer in ${msWait} ms`)))]);
  const contactOf = (waId: string) =>
    withTenant(a.knex, a.tenantId, async (trx) => (await trx('contacts').where({ tenantId: a.tenantId, waId }).first('id')) as { id: string } | undefined);

  const unreplied = a.messages.filter((m) => m.delivery.ackAt !== undefined && m.repliedAt === undefined);
  if (unreplied.length) {
    const guests = [...new Set(unreplied.map((m) => m.guest))];
    out.push(`${unreplied.length} acknowledged messages without a reply, from ${guests.length} guests; e.g. ${unreplied.slice(0, 8).map((m) => `msg-${m.seq} (acked ${rel(m.delivery.ackAt)})`).join(', ')}`);
    for (const guest of guests.slice(0, 5)) {
      const contact = await contactOf(guest);
      if (!contact) {
        out.push(`guest ${guest}: no contact row`);
        continue;
      }
      const workflowId = conversationWorkflowId(a.tenantId, contact.id);
      const handle = a.client.workflow.getHandle(workflowId);
      let line = `guest ${guest} (${workflowId}): missing ${unreplied.filter((m) => m.guest === guest).map((m) => `msg-${m.seq}`).join(' ')}`;
      try {
        const d = await withDeadline(handle.describe(), 5_000);
        const pending = (d.raw.pendingActivities ?? []).map(
          (p) => `${p.activityType?.name} attempt ${p.attempt} ${String(p.state)}${p.lastFailure?.message ? ` last failure "${p.lastFailure.message.slice(0, 120)}"` : ''}`,
        );
        line += `; workflow ${d.status.name}, history ${d.historyLength} events, pending activities: ${pending.join('; ') || 'none'}`;
      } catch (err) {
        line += `; describe failed: ${(err as Error).message}`;
      }
      try {
        const v = await withDeadline(handle.query(conversationStateQuery), 5_000);
        line += `; state ${v.status}, inbox ${v.pendingInbound}, held AI replies ${v.pendingAiReplies}`;
      } catch (err) {
        line += `; query failed: ${(err as Error).message.slice(0, 120)}`;
      }
      const rows = await withTenant(a.knex, a.tenantId, (trx) =>
        trx('messages').where({ tenantId: a.tenantId, contactId: contact.id }).orderBy('seq').select('direction', 'status', 'body', 'createdAt'),
      ) as { direction: string; status: string; body: string; createdAt: Date }[];
      line += `; db: ${rows.map((r) => `${r.direction === 'inbound' ? 'in' : 'out'}:${r.status}:${(r.body.match(/msg-\d+/g) ?? []).join('+') || '-'}@${rel(r.createdAt.getTime())}`).join(' ')}`;
      out.push(line);
    }
  }

  const dups = [...a.replies.callbackSends].filter(([, sends]) => sends.length > 1);
  for (const [messageId, sends] of dups.slice(0, 10)) {
    let line = `outbound message ${messageId} accepted ${sends.length}× for ${sends[0]?.to} at ${sends.map((x) => rel(x.at)).join(', ')}`;
    try {
      const contact = await contactOf(sends[0]?.to ?? '');
      if (contact) {
        const history = await withDeadline(a.client.workflow.getHandle(conversationWorkflowId(a.tenantId, contact.id)).fetchHistory(), 10_000);
        const events = history.events ?? [];
        const scheduled = events.find(
          (e) =>
            e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendWhatsAppMessage' &&
            (e.activityTaskScheduledEventAttributes.input?.payloads ?? []).some((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8').includes(messageId)),
        );
        if (scheduled) {
          const id = String(scheduled.eventId);
          const related = events.filter((e) => {
            const attrs = e.activityTaskStartedEventAttributes ?? e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
            return attrs && String(attrs.scheduledEventId) === id;
          });
          const at = (e: (typeof events)[number]) => {
            const sec = e.eventTime?.seconds;
            const seconds = typeof sec === 'number' ? sec : sec ? sec.toNumber() : 0;
            return rel(seconds * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6));
          };
          const parts = [`scheduled ${at(scheduled)}`];
          for (const e of related) {
            if (e.activityTaskStartedEventAttributes) {
              const st = e.activityTaskStartedEventAttributes;
              parts.push(`started attempt ${st.attempt}${st.lastFailure?.message ? ` after "${st.lastFailure.message.slice(0, 100)}"` : ''} ${at(e)}`);
            } else if (e.activityTaskCompletedEventAttributes) parts.push(`completed ${at(e)}`);
            else if (e.activityTaskTimedOutEventAttributes) parts.push(`timed out ${at(e)}`);
            else parts.push(`failed ${at(e)}`);
          }
          line += `; its activity in the workflow history: ${parts.join(', ')}`;
        }
      }
    } catch (err) {
      line += `; history unavailable: ${(err as Error).message.slice(0, 120)}`;
    }
    out.push(line);
  }
  return out;
}

export async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

export async function messageCounts(knex: Knex, tenantId: string) {
  return withTenant(knex, tenantId, async (trx) => {
    const rows = (await trx('messages')
      .select('direction', 'status')
      .count<{ direction: string; status: string; count: string }[]>('* as count')
      .groupBy('direction', 'status')) as { direction: string; status: string; count: string }[];
    const dupInbound = (await trx.raw(
      `SELECT count(*)::int AS n FROM (SELECT substring(body from 'msg-[0-9]+') AS t FROM messages WHERE direction = 'inbound' AND body ~ 'msg-[0-9]+' GROUP BY 1 HAVING count(*) > 1) x`,
    )) as { rows: { n: number }[] };
    const inboundTokens = (await trx.raw(`SELECT count(*)::int AS n FROM messages WHERE direction = 'inbound' AND body ~ 'msg-[0-9]+'`)) as { rows: { n: number }[] };
    const conversations = (await trx('conversations').select('status').count<{ status: string; count: string }[]>('* as count').groupBy('status')) as {
      status: string;
      count: string;
    }[];
    return {
      byDirectionStatus: rows.map((r) => `${r.direction}/${r.status}=${r.count}`).join(' '),
      inboundBenchMessages: inboundTokens.rows[0]?.n ?? 0,
      inboundDuplicates: dupInbound.rows[0]?.n ?? 0,
      conversations: conversations.map((c) => `${c.status}=${c.count}`).join(' '),
    };
  });
}
