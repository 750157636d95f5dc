// The conversation process's lists: where a conversation stands, its escalations, and its
// messages. The zod enums, the models' fields, the workflow's state and the migration's CHECKs
// all read these; test/db/status-checks.test.ts fails if the database accepts anything else.

// With the AI, waiting for a person, with a person, or over.
export const CONVERSATION_STATUSES = ['ai', 'escalated', 'assigned', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

// The seeds' iaLocked: a person owns the conversation and the AI stays silent.
export const IA_LOCKED_STATUSES = ['escalated', 'assigned'] as const satisfies readonly ConversationStatus[];
export const isIaLocked = (status: ConversationStatus): boolean => (IA_LOCKED_STATUSES as readonly ConversationStatus[]).includes(status);

export const ESCALATION_STATUSES = ['waiting', 'accepted', 'resolved', 'cancelled'] as const;
export type EscalationStatus = (typeof ESCALATION_STATUSES)[number];

// Who asked for a person: the AI, the guest, an attendant, an automation, or the system (SLA).
export const ESCALATION_REQUESTER_TYPES = ['ai', 'contact', 'user', 'api_key', 'system'] as const;
export type EscalationRequesterType = (typeof ESCALATION_REQUESTER_TYPES)[number];

export const MESSAGE_DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

export const MESSAGE_SENDER_TYPES = ['contact', 'ai', 'user', 'automation', 'system'] as const;
export type MessageSenderType = (typeof MESSAGE_SENDER_TYPES)[number];

// A stored message's status: `received` (inbound), `note` (internal), and the outbound path
// `pending` → `accepted` (Meta took the send, no status webhook yet) → Meta's delivery statuses.
// domain/message-status.ts ranks the outbound ones.
export const MESSAGE_STATUSES = ['received', 'pending', 'accepted', 'sent', 'delivered', 'read', 'played', 'failed', 'note'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
