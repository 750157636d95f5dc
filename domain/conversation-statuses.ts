// Where a conversation stands: with the AI, waiting for a person, with a person, or over. The
// zod enums, the model's field, the workflow's state and the migration's CHECK all read this list.
export const CONVERSATION_STATUSES = ['ai', 'escalated', 'assigned', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
