import type { Knex } from 'knex';
import type { MessageStatus } from '../domain/conversation-statuses';
import { STATUS_RANK } from '../domain/message-status';

// The monotonic rule of domain/message-status.ts, as SQL, so a batch of status webhooks and the
// send activity apply it in one statement each and never race a lower status over a higher one.
// `accepted` (Meta took the send, no webhook yet) ranks with `pending`; inbound rows and notes
// never change.
const rank = (expr: string) =>
  `(CASE ${expr} ${Object.entries({ ...STATUS_RANK, accepted: STATUS_RANK.pending })
    .map(([s, r]) => `WHEN '${s}' THEN ${r}`)
    .join(' ')} ELSE 99 END)`;

export interface AppliedStatus {
  id: string;
  conversationId: string;
  wamid: string;
  status: MessageStatus;
  error: unknown;
}

export async function applyStatusEvents(trx: Knex.Transaction, tenantId: string, wamids: string[]): Promise<AppliedStatus[]> {
  if (wamids.length === 0) return [];
  const { rows } = await trx.raw(
    `WITH best AS (
       SELECT DISTINCT ON (wamid) wamid, status, occurred_at, errors FROM message_status_events
       WHERE tenant_id = ? AND wamid = ANY(?)
       ORDER BY wamid, ${rank('status')} DESC, occurred_at DESC)
     UPDATE messages m SET status = best.status, status_at = best.occurred_at,
       error = CASE WHEN best.status = 'failed' THEN jsonb_build_object('errors', best.errors) ELSE m.error END
     FROM best
     WHERE m.tenant_id = ? AND m.wamid = best.wamid AND m.direction = 'outbound'
       AND ${rank('best.status')} > ${rank('m.status')}
     RETURNING m.id, m.conversation_id AS "conversationId", m.wamid, m.status, m.error`,
    [tenantId, wamids, tenantId],
  );
  return rows as AppliedStatus[];
}
