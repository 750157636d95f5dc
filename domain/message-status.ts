import type { MessageStatus } from './conversation-statuses';
import type { DeliveryStatus } from './whatsapp-messages';

// The stored delivery status of an outbound WhatsApp message. Meta's status webhooks arrive out
// of order, duplicated and sometimes skip steps (`delivered` is omitted when a message is read at
// once), so the stored value only ever moves up this ranking: the final status is the highest
// one seen, whatever the arrival order.
//
// `failed` ranks above `sent` and below `delivered`: Meta only fails a message before delivering
// it, so a `failed` next to a `delivered`/`read` is a contradiction, and the receipt from the
// customer's phone is the stronger evidence. Ranking it this way makes the outcome the same
// whether `failed` arrives first or last.
//
// `played` (voice messages) shares `read`'s rank: both mean the customer saw the message, so a
// late one never overwrites the other.
export const STORED_STATUSES = ['pending', 'sent', 'failed', 'delivered', 'read', 'played'] as const satisfies readonly MessageStatus[];
export type StoredStatus = (typeof STORED_STATUSES)[number];

// Kept as plain numbers so SQL can apply the same rule in one statement, e.g.
// UPDATE ... SET status = :new WHERE <rank of :new> > <rank of status>, with the ranks from here.
export const STATUS_RANK: Readonly<Record<StoredStatus, number>> = {
  pending: 0,
  sent: 1,
  failed: 2,
  delivered: 3,
  read: 4,
  played: 4,
};

export function statusRank(status: StoredStatus): number {
  return STATUS_RANK[status];
}

export function nextStatus(current: StoredStatus, incoming: DeliveryStatus): StoredStatus {
  return statusRank(incoming) > statusRank(current) ? incoming : current;
}
