import { z } from 'zod';
import type { Conversation, Escalation, Message } from '../../db/models';
import {
  CONVERSATION_STATUSES,
  ESCALATION_STATUSES,
  MESSAGE_DIRECTIONS,
  MESSAGE_SENDER_TYPES,
  MESSAGE_STATUSES,
} from '../../domain/conversation-statuses';
import { outboundContentSchema } from '../../domain/outbound-content';

export const conversationView = z.object({
  id: z.uuid(),
  contact: z.object({ id: z.uuid(), waId: z.string().nullable(), userId: z.string().nullable(), name: z.string().nullable() }),
  status: z.enum(CONVERSATION_STATUSES),
  iaLocked: z.boolean(),
  assigneeId: z.uuid().nullable(),
  team: z.string().nullable(),
  intent: z.string().nullable(),
  lastMessageAt: z.iso.datetime().nullable(),
  lastInboundAt: z.iso.datetime().nullable(),
  lastMessagePreview: z.string().nullable(),
  unreadCount: z.number().int(),
  openedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
  closeReason: z.string().nullable(),
  updatedAt: z.iso.datetime(),
});
export type ConversationView = z.infer<typeof conversationView>;

export type ConversationWithContact = Conversation & { contactWaId: string | null; contactUserId: string | null; contactName: string | null };

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function toConversationView(c: ConversationWithContact): ConversationView {
  return {
    id: c.id,
    contact: { id: c.contactId, waId: c.contactWaId, userId: c.contactUserId, name: c.contactName },
    status: c.status,
    iaLocked: c.iaLocked,
    assigneeId: c.assigneeId,
    team: c.team,
    intent: c.intent,
    lastMessageAt: iso(c.lastMessageAt),
    lastInboundAt: iso(c.lastInboundAt),
    lastMessagePreview: c.lastMessagePreview,
    unreadCount: c.unreadCount,
    openedAt: c.openedAt.toISOString(),
    closedAt: iso(c.closedAt),
    closeReason: c.closeReason,
    updatedAt: c.updatedAt.toISOString(),
  };
}

export const messageView = z.object({
  id: z.uuid(),
  seq: z.string(),
  conversationId: z.uuid(),
  direction: z.enum(MESSAGE_DIRECTIONS),
  senderType: z.enum(MESSAGE_SENDER_TYPES),
  senderId: z.string().nullable(),
  type: z.string(),
  body: z.string(),
  status: z.enum(MESSAGE_STATUSES),
  wamid: z.string().nullable(),
  error: z.record(z.string(), z.unknown()).nullable(),
  mediaId: z.uuid().nullable(),
  occurredAt: z.iso.datetime(),
  statusAt: z.iso.datetime().nullable(),
});

export function toMessageView(m: Message): z.infer<typeof messageView> {
  return {
    id: m.id,
    seq: String(m.seq),
    conversationId: m.conversationId,
    direction: m.direction,
    senderType: m.senderType,
    senderId: m.senderId,
    type: m.type,
    body: m.body,
    status: m.status,
    wamid: m.wamid,
    error: m.error,
    mediaId: m.mediaId,
    occurredAt: m.occurredAt.toISOString(),
    statusAt: iso(m.statusAt),
  };
}

export const escalationView = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  status: z.enum(ESCALATION_STATUSES),
  reason: z.string(),
  intent: z.string().nullable(),
  team: z.string().nullable(),
  slaDueAt: z.iso.datetime().nullable(),
  slaBreaches: z.number().int(),
  outOfHours: z.boolean(),
  createdAt: z.iso.datetime(),
  acceptedAt: z.iso.datetime().nullable(),
  acceptedBy: z.uuid().nullable(),
});

export function toEscalationView(e: Escalation): z.infer<typeof escalationView> {
  return {
    id: e.id,
    conversationId: e.conversationId,
    status: e.status,
    reason: e.reason,
    intent: e.intent,
    team: e.team,
    slaDueAt: iso(e.slaDueAt),
    slaBreaches: e.slaBreaches,
    outOfHours: e.outOfHours,
    createdAt: e.createdAt.toISOString(),
    acceptedAt: iso(e.acceptedAt),
    acceptedBy: e.acceptedBy,
  };
}

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const inboxQuery = z
  .object({
    // `open` is every status but `closed`.
    status: z.enum([...CONVERSATION_STATUSES, 'open']).optional(),
    assigneeId: z.union([z.uuid(), z.literal('me'), z.literal('none')]).optional(),
    escalated: bool.optional(),
    q: z.string().trim().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(300).optional(),
  })
  .strict();

export const messagesQuery = z
  .object({
    // Resync: everything after the last seq the client saw, oldest first.
    afterSeq: z.string().regex(/^\d{1,19}$/).optional(),
    // History: the page before this seq, newest first.
    beforeSeq: z.string().regex(/^\d{1,19}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict()
  .refine((q) => !(q.afterSeq && q.beforeSeq), { message: 'use afterSeq or beforeSeq, not both' });

export const team = z.string().trim().min(1).max(60);

// A plain `text` is the common case; `content` carries templates, buttons, lists and media.
export const replyBody = z
  .union([z.object({ text: z.string().trim().min(1).max(4096) }).strict(), z.object({ content: outboundContentSchema }).strict()])
  .transform((b) => ('text' in b ? { type: 'text' as const, text: b.text } : b.content));

export const replyResultView = z.object({
  messageId: z.uuid(),
  status: z.enum(['accepted', 'failed']),
  wamid: z.string().optional(),
  failure: z.string().optional(),
});

export const liveStateView = z
  .object({
    status: z.enum(CONVERSATION_STATUSES),
    iaLocked: z.boolean(),
    windowOpen: z.boolean(),
    pendingInbound: z.number().int(),
    pendingAiReplies: z.number().int(),
  })
  .passthrough();
