import { z } from 'zod';
import { Conversation, Escalation, Message, User } from '../../db/models';
import { ESCALATION_STATUSES } from '../../domain/conversation-statuses';
import type { TenantRole } from '../../domain/roles';
import {
  acceptUpdate,
  conversationStateQuery,
  escalateUpdate,
  noteUpdate,
  replyUpdate,
  resolveUpdate,
  transferUpdate,
} from '../../workflows/conversation';
import { decodeCursor, encodeCursor } from '../pagination';
import { badRequest, forbidden, notFound } from '../problem';
import { route } from '../route';
import { queryBestEffort } from '../workflow-calls';
import { uuidParam } from '../schemas';
import { openConversationRow, updateConversation } from './conversation-calls';
import {
  conversationView,
  escalationView,
  inboxQuery,
  liveStateView,
  messagesQuery,
  messageView,
  replyBody,
  replyResultView,
  team,
  toConversationView,
  toEscalationView,
  toMessageView,
  type ConversationWithContact,
} from './schema';

// The attendants' inbox: read models straight from Postgres, actions as updates to the
// conversation's workflow.

const STAFF: TenantRole[] = ['TENANT_ADMIN', 'MANAGER', 'ATTENDANT'];
const read = { roles: STAFF, scopes: ['conversations:read' as const] };
const write = { roles: STAFF, scopes: ['conversations:write' as const] };
const people = { roles: STAFF };
const idParam = uuidParam('conversationId');
const actionResponses = (schema: z.ZodType) => ({
  200: { description: 'Done', schema },
  404: { description: 'No such conversation in this tenant' },
  409: { description: 'The conversation does not accept this now (closed, not escalated, window closed…)' },
  503: { description: 'Temporal unavailable; retry' },
});
const liveView = liveStateView;

function withContact(qb: ReturnType<typeof Conversation.query>) {
  return qb
    .join('contacts', 'contacts.id', 'conversations.contactId')
    .select('conversations.*', 'contacts.waId as contactWaId', 'contacts.userId as contactUserId', 'contacts.profileName as contactName');
}

const cursorSchema = z.object({ at: z.iso.datetime(), id: z.uuid() });

export const listConversations = route({
  method: 'get',
  path: '/conversations',
  summary: 'The inbox: conversations by status, assignee, escalation and text, most recent first (keyset pages)',
  tags: ['conversations'],
  access: read,
  query: inboxQuery,
  responses: { 200: { description: 'A page of conversations', schema: z.object({ items: z.array(conversationView), nextCursor: z.string().nullable() }) } },
  async handler({ query, db, principal }) {
    const qb = withContact(Conversation.query(db));
    if (query.status === 'open') qb.whereNot('conversations.status', 'closed');
    else if (query.status) qb.where('conversations.status', query.status);
    if (query.escalated !== undefined) qb.where('conversations.iaLocked', query.escalated);
    if (query.assigneeId === 'none') qb.whereNull('conversations.assigneeId');
    else if (query.assigneeId === 'me') {
      if (principal.kind !== 'user') throw badRequest('assigneeId=me só vale para usuários.', [{ path: 'query.assigneeId', message: 'me requires a user' }]);
      qb.where('conversations.assigneeId', principal.userId);
    } else if (query.assigneeId) qb.where('conversations.assigneeId', query.assigneeId);
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.where((w) =>
        w
          .whereILike('contacts.profileName', like)
          .orWhereILike('contacts.waId', like)
          .orWhereILike('conversations.lastMessagePreview', like)
          .orWhereExists((sub) =>
            sub
              .from('messages')
              .whereRaw('messages.conversation_id = conversations.id')
              .whereRaw(`to_tsvector('portuguese', messages.body) @@ plainto_tsquery('portuguese', ?)`, [query.q]),
          ),
      );
    }
    const sortKey = 'coalesce(conversations.last_message_at, conversations.opened_at)';
    if (query.cursor) {
      const c = decodeCursor(cursorSchema, query.cursor);
      qb.whereRaw(`(${sortKey}, conversations.id) < (?::timestamptz, ?::uuid)`, [c.at, c.id]);
    }
    const rows = (await qb.orderByRaw(`${sortKey} DESC, conversations.id DESC`).limit(query.limit + 1)) as unknown as ConversationWithContact[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > query.limit && last
        ? encodeCursor({ at: (last.lastMessageAt ?? last.openedAt).toISOString(), id: last.id })
        : null;
    return { body: { items: page.map(toConversationView), nextCursor } };
  },
});

export const getConversation = route({
  method: 'get',
  path: '/conversations/:conversationId',
  summary: 'One conversation, with the live state of its workflow while it is open',
  tags: ['conversations'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The conversation', schema: conversationView.extend({ live: liveView.nullable() }) }, 404: { description: 'Not found' } },
  async handler({ params, db, deps }) {
    const row = (await withContact(Conversation.query(db)).findById(params.conversationId)) as unknown as ConversationWithContact | undefined;
    if (!row) throw notFound('Conversa não encontrada.');
    let live = null;
    if (row.status !== 'closed') {
      // The workflow knows what the table cannot (pending replies, the 24-hour window); a slow answer is skipped.
      live = await queryBestEffort(deps, deps.temporal.client.workflow.getHandle(row.workflowId), conversationStateQuery, 2_000);
    }
    return { body: { ...toConversationView(row), live } };
  },
});

export const listMessages = route({
  method: 'get',
  path: '/conversations/:conversationId/messages',
  summary: 'Messages of a conversation: history pages (beforeSeq, newest first) or a resync (afterSeq, oldest first)',
  tags: ['conversations'],
  access: read,
  params: idParam,
  query: messagesQuery,
  responses: { 200: { description: 'Messages', schema: z.object({ items: z.array(messageView) }) }, 404: { description: 'Not found' } },
  async handler({ params, query, db }) {
    await openConversationRow(db, params.conversationId);
    const qb = Message.query(db).where({ conversationId: params.conversationId });
    if (query.afterSeq) qb.where('seq', '>', query.afterSeq).orderBy('seq', 'asc');
    else {
      if (query.beforeSeq) qb.where('seq', '<', query.beforeSeq);
      qb.orderBy('seq', 'desc');
    }
    const rows = await qb.limit(query.limit);
    return { body: { items: rows.map(toMessageView) } };
  },
});

export const resyncMessages = route({
  method: 'get',
  path: '/messages',
  summary: 'Every message of the tenant after a seq: how a dashboard catches up after a reconnection',
  tags: ['conversations'],
  access: read,
  query: z.object({ afterSeq: z.string().regex(/^\d{1,19}$/), limit: z.coerce.number().int().min(1).max(500).default(200) }).strict(),
  responses: { 200: { description: 'Messages, oldest first', schema: z.object({ items: z.array(messageView) }) } },
  async handler({ query, db }) {
    const rows = await Message.query(db).where('seq', '>', query.afterSeq).orderBy('seq', 'asc').limit(query.limit);
    return { body: { items: rows.map(toMessageView) } };
  },
});

export const escalationQueue = route({
  method: 'get',
  path: '/escalations',
  summary: 'The escalation queue: conversations waiting for a person, oldest first',
  tags: ['conversations'],
  access: read,
  query: z.object({ status: z.enum(ESCALATION_STATUSES).default('waiting'), team: team.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
  responses: { 200: { description: 'Escalations', schema: z.object({ items: z.array(escalationView) }) } },
  async handler({ query, db }) {
    const qb = Escalation.query(db).where({ status: query.status });
    if (query.team) qb.where({ team: query.team });
    const rows = await qb.orderBy([{ column: 'createdAt', order: query.status === 'waiting' ? 'asc' : 'desc' }, 'id']).limit(query.limit);
    return { body: { items: rows.map(toEscalationView) } };
  },
});

export const acceptConversation = route({
  method: 'post',
  path: '/conversations/:conversationId/accept',
  summary: 'Accept an escalated conversation: it is yours, the AI stays silent',
  tags: ['conversations'],
  access: people,
  idempotencyKey: true,
  params: idParam,
  responses: actionResponses(liveView),
  async handler({ params, db, deps, principal, actor, idempotencyKey }) {
    const row = await openConversationRow(db, params.conversationId);
    if (principal.kind !== 'user') throw forbidden();
    const body = await updateConversation(deps, row, acceptUpdate, [{ actor, userId: principal.userId }], idempotencyKey);
    return { body };
  },
});

export const replyToConversation = route({
  method: 'post',
  path: '/conversations/:conversationId/reply',
  summary: 'Send a message to the guest (text, template, buttons, list or media); a person replying takes the conversation from the AI',
  tags: ['conversations'],
  access: { roles: STAFF, scopes: ['messages:send'] },
  idempotencyKey: true,
  params: idParam,
  body: replyBody,
  responses: actionResponses(replyResultView),
  async handler({ params, body, db, deps, principal, actor, idempotencyKey }) {
    const row = await openConversationRow(db, params.conversationId);
    const source = principal.kind === 'user' ? ('user' as const) : ('automation' as const);
    const result = await updateConversation(deps, row, replyUpdate, [{ actor, content: body, source }], idempotencyKey);
    return { body: result };
  },
});

export const addNote = route({
  method: 'post',
  path: '/conversations/:conversationId/notes',
  summary: 'Add an internal note (never sent to the guest)',
  tags: ['conversations'],
  access: write,
  idempotencyKey: true,
  params: idParam,
  body: z.object({ text: z.string().trim().min(1).max(4000) }).strict(),
  responses: actionResponses(z.object({ messageId: z.uuid() })),
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const row = await openConversationRow(db, params.conversationId);
    return { status: 201, body: await updateConversation(deps, row, noteUpdate, [{ actor, text: body.text }], idempotencyKey) };
  },
});

export const transferConversation = route({
  method: 'post',
  path: '/conversations/:conversationId/transfer',
  summary: 'Transfer to another attendant (who then owns it) or to a team (back to the queue)',
  tags: ['conversations'],
  access: people,
  idempotencyKey: true,
  params: idParam,
  body: z
    .object({ toUserId: z.uuid().optional(), team: team.optional() })
    .strict()
    .refine((b) => b.toUserId || b.team, { message: 'informe toUserId ou team' }),
  responses: actionResponses(liveView),
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const row = await openConversationRow(db, params.conversationId);
    if (body.toUserId) {
      const target = await User.query(db).findById(body.toUserId);
      if (!target || !target.active || !(STAFF as readonly string[]).includes(target.role)) {
        throw badRequest('Atendente de destino inválido.', [{ path: 'body.toUserId', message: 'no active attendant with this id in the tenant' }]);
      }
    }
    return { body: await updateConversation(deps, row, transferUpdate, [{ actor, toUserId: body.toUserId, team: body.team }], idempotencyKey) };
  },
});

export const resolveConversation = route({
  method: 'post',
  path: '/conversations/:conversationId/resolve',
  summary: 'Resolve the escalation: the conversation goes back to the AI',
  tags: ['conversations'],
  access: write,
  idempotencyKey: true,
  params: idParam,
  responses: actionResponses(liveView),
  async handler({ params, db, deps, actor, idempotencyKey }) {
    const row = await openConversationRow(db, params.conversationId);
    return { body: await updateConversation(deps, row, resolveUpdate, [{ actor }], idempotencyKey) };
  },
});

export const escalateConversation = route({
  method: 'post',
  path: '/conversations/:conversationId/escalate',
  summary: 'Hand the conversation to people (the AI goes silent)',
  tags: ['conversations'],
  access: write,
  idempotencyKey: true,
  params: idParam,
  body: z.object({ reason: z.string().trim().min(1).max(200), team: team.optional() }).strict(),
  responses: actionResponses(liveView),
  async handler({ params, body, db, deps, actor, idempotencyKey }) {
    const row = await openConversationRow(db, params.conversationId);
    const reason = `${actor.type === 'api_key' ? 'automation' : 'staff'}:${body.reason}`;
    return { body: await updateConversation(deps, row, escalateUpdate, [{ actor, reason, team: body.team }], idempotencyKey) };
  },
});

export const conversationRoutes = [
  listConversations,
  getConversation,
  listMessages,
  resyncMessages,
  escalationQueue,
  acceptConversation,
  replyToConversation,
  addNote,
  transferConversation,
  resolveConversation,
  escalateConversation,
];
