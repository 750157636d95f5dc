import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Actor } from '../domain/actor';
import type { ConversationStatus } from '../domain/conversation-statuses';
import { isWithinBusinessHours, nextBusinessOpening } from '../domain/calendar';
import { isWindowOpen } from '../domain/customer-window';
import { needsOpenWindow, type OutboundContent } from '../domain/outbound-content';
import { mergeReplies, nextSendAt, PER_CUSTOMER_INTERVAL_MS } from '../domain/pacing';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../domain/tenant-settings';
import { wantsHuman } from '../domain/triage-rules';
import type { InboundMessage } from '../domain/whatsapp-messages';
import { entitySearchAttributes } from '../domain/search-attributes';
import type { WorkflowStart } from './workflow-start';

// One WhatsApp conversation between a guest and a tenant. The AI answers while it has the
// conversation; it hands over to a person when it decides to, when the guest asks for one, when
// it fails, or when an attendant or automation asks. A person then accepts it (within the
// tenant's SLA, or managers hear about it), replies, transfers it and resolves it, which gives
// it back to the AI. Silence for the tenant's inactivity period closes it; the guest's next
// message opens a new one under the same workflow id.

export const conversationWorkflowId = (tenantId: string, contactId: string) => `conversation:${tenantId}:${contactId}`;

export type { ConversationStatus };

export interface ConversationInput {
  tenantId: string;
  contactId: string;
  channelId: string;
  options?: ConversationOptions;
  // Set only by continue-as-new.
  carried?: CarriedState;
}

export interface ConversationOptions {
  perCustomerIntervalMs?: number;
  // Continue-as-new earlier than the server suggests (tests; very chatty conversations).
  maxHistoryEvents?: number;
}

export interface EscalationState {
  id: string;
  reason: string;
  since: number;
  acceptedAt: number | null;
  slaDueAt: number | null;
  breaches: number;
  outOfHoursNoticeSent: boolean;
}

export interface TranscriptLine {
  role: 'guest' | 'assistant' | 'attendant';
  text: string;
}

interface CarriedState {
  conversationId: string;
  status: ConversationStatus;
  assigneeId: string | null;
  team: string | null;
  intent: string | null;
  escalation: EscalationState | null;
  lastInboundAt: number | null;
  lastReferralAt: number | null;
  lastOutboundAt: number | null;
  lastActivityAt: number;
  recentWamids: string[];
  transcript: TranscriptLine[];
  inbox: InboundMessage[];
  pendingAiReplies: string[];
  settings: TenantSettings;
  to: string;
}

export interface ConversationView {
  conversationId: string;
  tenantId: string;
  contactId: string;
  status: ConversationStatus;
  iaLocked: boolean;
  assigneeId: string | null;
  team: string | null;
  intent: string | null;
  escalation: EscalationState | null;
  lastInboundAt: string | null;
  windowOpen: boolean;
  pendingInbound: number;
  pendingAiReplies: number;
  historyLength: number;
}

// One running conversation per contact: a start for a contact that has one joins it (signal- or
// update-with-start), and after it closes the same id opens the next.
export function conversationStart(input: ConversationInput): WorkflowStart<typeof conversation> {
  return {
    workflowType: conversation,
    taskQueue: 'main',
    workflowId: conversationWorkflowId(input.tenantId, input.contactId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'contact', input.contactId),
  };
}

// --- Messages in ---------------------------------------------------------------------------
export interface InboundSignal {
  message: InboundMessage;
}
export const inboundMessageSignal = defineSignal<[InboundSignal]>('inboundMessage');


// --- What people and automations do ---------------------------------------------------------
export interface EscalateRequest {
  actor: Actor;
  reason: string;
  team?: string;
}
export interface AcceptRequest {
  actor: Actor;
  userId: string;
}
export interface ReplyRequest {
  actor: Actor;
  content: OutboundContent;
  // Resolving or handing back is separate; an automation's send keeps the AI in charge.
  source: 'user' | 'automation';
}
export interface NoteRequest {
  actor: Actor;
  text: string;
}
export interface TransferRequest {
  actor: Actor;
  toUserId?: string;
  team?: string;
}
export interface ResolveRequest {
  actor: Actor;
}
export interface ReplyResult {
  messageId: string;
  status: 'accepted' | 'failed';
  wamid?: string;
  failure?: string;
}

export const escalateUpdate = defineUpdate<ConversationView, [EscalateRequest]>('escalate');
export const acceptUpdate = defineUpdate<ConversationView, [AcceptRequest]>('accept');
export const replyUpdate = defineUpdate<ReplyResult, [ReplyRequest]>('reply');
export const noteUpdate = defineUpdate<{ messageId: string }, [NoteRequest]>('addNote');
export const transferUpdate = defineUpdate<ConversationView, [TransferRequest]>('transfer');
export const resolveUpdate = defineUpdate<ConversationView, [ResolveRequest]>('resolve');
export const conversationStateQuery = defineQuery<ConversationView>('conversationState');

// Typed failures the API turns into 409s with a message for the person who asked.
export const CONVERSATION_ERRORS = {
  notEscalated: 'ConversationNotEscalated',
  alreadyAccepted: 'EscalationAlreadyAccepted',
  windowClosed: 'CustomerServiceWindowClosed',
  closed: 'ConversationClosed',
  notAssigned: 'ConversationNotAssigned',
} as const;

// Database steps take milliseconds: run as local activities, inside the workflow task, so a
// message costs one round trip to the server instead of three (measured with bench:webhook).
const store = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Media URLs expire in 5 minutes and ids in 7 days: a few quick attempts, then give up and
// keep the message without its file.
const media = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6 },
});

// The AI gets one retry on a passing failure; after that the guest is better served by a person.
// Local too: its answer is needed before anything else happens in the conversation.
const ai = proxyLocalActivities<Activities>({
  startToCloseTimeout: '25 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2, nonRetryableErrorTypes: ['AiAnswerInvalid', 'AiUnavailable'] },
});

// Sends are retried for throttling and outages (the activity sets Meta's backoff itself); the
// activity never double-sends, so retrying is safe.
const whatsapp = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const TRANSCRIPT_LINES = 12;
const RECENT_WAMIDS = 200;

export async function conversation(input: ConversationInput): Promise<{ conversationId: string; closedReason: string }> {
  const { tenantId, contactId, channelId } = input;
  const options = input.options ?? {};
  const intervalMs = options.perCustomerIntervalMs ?? PER_CUSTOMER_INTERVAL_MS;

  // Handlers are registered before the first await: an update-with-start (an automation writing
  // first) must find them. Until the conversation row exists, handlers wait for it.
  const s: CarriedState = input.carried ?? {
    conversationId: uuid4(),
    status: 'ai',
    assigneeId: null,
    team: null,
    intent: null,
    escalation: null,
    lastInboundAt: null,
    lastReferralAt: null,
    lastOutboundAt: null,
    lastActivityAt: Date.now(),
    recentWamids: [],
    transcript: [],
    inbox: [],
    pendingAiReplies: [],
    settings: DEFAULT_TENANT_SETTINGS,
    to: '',
  };
  let opened = Boolean(input.carried);
  const whenOpened = () => condition(() => opened);
  upsertSearchAttributes(entitySearchAttributes(tenantId, 'conversation', s.conversationId));
  const ids = { tenantId, conversationId: s.conversationId, contactId, channelId };
  let wake = false;

  const view = (): ConversationView => ({
    conversationId: s.conversationId,
    tenantId,
    contactId,
    status: s.status,
    iaLocked: s.status === 'escalated' || s.status === 'assigned',
    assigneeId: s.assigneeId,
    team: s.team,
    intent: s.intent,
    escalation: s.escalation,
    lastInboundAt: s.lastInboundAt === null ? null : new Date(s.lastInboundAt).toISOString(),
    windowOpen: isWindowOpen(s.lastInboundAt, Date.now(), { lastReferralAtMs: s.lastReferralAt }),
    pendingInbound: s.inbox.length,
    pendingAiReplies: s.pendingAiReplies.length,
    historyLength: workflowInfo().historyLength,
  });

  const remember = (line: TranscriptLine) => {
    s.transcript.push(line);
    if (s.transcript.length > TRANSCRIPT_LINES) s.transcript.splice(0, s.transcript.length - TRANSCRIPT_LINES);
  };

  // --- Handlers ------------------------------------------------------------------------------
  setHandler(conversationStateQuery, view);

  setHandler(inboundMessageSignal, ({ message }) => {
    // Meta redelivers; the store dedupes too, this spares it the round trip.
    if (s.recentWamids.includes(message.wamid) || s.inbox.some((m) => m.wamid === message.wamid)) return;
    s.inbox.push(message);
    wake = true;
  });

  const open = (_request?: unknown) => {
    if (s.status === 'closed') throw ApplicationFailure.create({ type: CONVERSATION_ERRORS.closed, message: 'A conversa já foi encerrada.', nonRetryable: true });
  };

  setHandler(
    escalateUpdate,
    async ({ actor, reason, team }) => {
      await whenOpened();
      await escalate(reason, { type: actor.type, id: actor.id }, team);
      return view();
    },
    { validator: open },
  );

  setHandler(
    acceptUpdate,
    async ({ actor, userId }) => {
      await whenOpened();
      await assign(userId, actor);
      return view();
    },
    {
      validator: (_request: AcceptRequest) => {
        open();
        if (s.status === 'assigned') throw ApplicationFailure.create({ type: CONVERSATION_ERRORS.alreadyAccepted, message: 'A conversa já foi aceita por um atendente.', nonRetryable: true });
        if (s.status !== 'escalated' || !s.escalation) throw ApplicationFailure.create({ type: CONVERSATION_ERRORS.notEscalated, message: 'A conversa não está aguardando atendimento.', nonRetryable: true });
      },
    },
  );

  setHandler(
    replyUpdate,
    async ({ actor, content, source }) => {
      await whenOpened();
      // A person answering takes the conversation from the AI, so the bot never talks over them.
      if (source === 'user' && s.status === 'ai' && actor.type === 'user' && actor.id) {
        await escalate('attendant_replied', actor);
      }
      if (source === 'user' && s.status === 'escalated' && actor.type === 'user' && actor.id) await assign(actor.id, actor);
      const result = await send(content, { type: source === 'user' ? 'user' : 'automation', id: actor.id });
      if (content.type === 'text') remember({ role: source === 'user' ? 'attendant' : 'assistant', text: content.text });
      return result;
    },
    {
      validator: ({ content }) => {
        open();
        if (needsOpenWindow(content) && !isWindowOpen(s.lastInboundAt, Date.now(), { lastReferralAtMs: s.lastReferralAt })) {
          throw ApplicationFailure.create({
            type: CONVERSATION_ERRORS.windowClosed,
            message: 'Fora da janela de 24 horas desde a última mensagem do cliente: envie um modelo (template) aprovado.',
            nonRetryable: true,
          });
        }
      },
    },
  );

  setHandler(
    noteUpdate,
    async ({ actor, text }) => {
      await whenOpened();
      const messageId = uuid4();
      await store.recordConversationChange({ ...ids, actor, change: { kind: 'note', messageId, text } });
      return { messageId };
    },
    { validator: open },
  );

  setHandler(
    transferUpdate,
    async ({ actor, toUserId, team }) => {
      await whenOpened();
      if (toUserId) {
        // Handing it to a named person counts as their acceptance.
        if (s.escalation && !s.escalation.acceptedAt) {
          s.escalation.acceptedAt = Date.now();
          s.escalation.slaDueAt = null;
        }
        s.status = 'assigned';
        s.assigneeId = toUserId;
      } else {
        // A team transfer goes back to the queue and the acceptance clock starts again.
        s.status = 'escalated';
        s.assigneeId = null;
        if (s.escalation) {
          s.escalation.acceptedAt = null;
          s.escalation.slaDueAt = slaDueFrom(Date.now());
        }
      }
      s.team = team ?? s.team;
      s.lastActivityAt = Date.now();
      wake = true;
      await store.recordConversationChange({
        ...ids,
        actor,
        change: { kind: 'transferred', escalationId: s.escalation?.id ?? null, toUserId: toUserId ?? null, team: s.team },
      });
      return view();
    },
    {
      validator: ({ toUserId, team }) => {
        open();
        if (s.status === 'ai' || !s.escalation) throw ApplicationFailure.create({ type: CONVERSATION_ERRORS.notEscalated, message: 'Só é possível transferir uma conversa escalada para atendimento humano.', nonRetryable: true });
        if (!toUserId && !team) throw ApplicationFailure.create({ type: 'InvalidTransfer', message: 'Informe o atendente ou a equipe de destino.', nonRetryable: true });
      },
    },
  );

  setHandler(
    resolveUpdate,
    async ({ actor }) => {
      await whenOpened();
      const escalationId = s.escalation?.id ?? null;
      s.status = 'ai';
      s.assigneeId = null;
      s.team = null;
      s.escalation = null;
      s.lastActivityAt = Date.now();
      wake = true;
      await store.recordConversationChange({ ...ids, actor, change: { kind: 'resolved', escalationId } });
      return view();
    },
    {
      validator: (_request: ResolveRequest) => {
        open();
        if (s.status === 'ai') throw ApplicationFailure.create({ type: CONVERSATION_ERRORS.notEscalated, message: 'A conversa já está com o assistente virtual.', nonRetryable: true });
      },
    },
  );

  // --- Steps -------------------------------------------------------------------------------
  // An attendant takes the waiting conversation: the acceptance clock stops.
  async function assign(userId: string, actor: Actor): Promise<void> {
    const e = s.escalation as EscalationState;
    e.acceptedAt = Date.now();
    e.slaDueAt = null;
    s.status = 'assigned';
    s.assigneeId = userId;
    s.lastActivityAt = Date.now();
    wake = true;
    await store.recordConversationChange({ ...ids, actor, change: { kind: 'accepted', escalationId: e.id, userId } });
  }

  function slaDueFrom(from: number): number | null {
    const opening = nextBusinessOpening(s.settings, from);
    if (!opening) return null;
    return Math.max(opening.getTime(), from) + s.settings.escalation.acceptanceSlaMinutes * 60_000;
  }

  async function escalate(reason: string, by: Actor, team?: string): Promise<void> {
    if (s.status !== 'ai') return; // already with people
    const now = Date.now();
    const escalationId = uuid4();
    const outOfHours = !isWithinBusinessHours(s.settings, now);
    s.escalation = { id: escalationId, reason, since: now, acceptedAt: null, slaDueAt: slaDueFrom(now), breaches: 0, outOfHoursNoticeSent: false };
    s.status = 'escalated';
    s.team = team ?? null;
    s.pendingAiReplies = []; // the AI stays silent from here on
    s.lastActivityAt = now;
    wake = true;
    await store.recordConversationChange({
      ...ids,
      actor: by,
      change: { kind: 'escalated', escalationId, reason, intent: s.intent, team: s.team, outOfHours, slaDueAt: s.escalation.slaDueAt },
    });
    await noticeOutOfHours(now);
  }

  async function send(content: OutboundContent, sender: { type: 'ai' | 'user' | 'automation' | 'system'; id: string | null }): Promise<ReplyResult> {
    const messageId = uuid4();
    s.lastOutboundAt = Date.now();
    s.lastActivityAt = Date.now();
    const input = { ...ids, messageId, to: s.to, content, sender, assigneeId: s.assigneeId };
    try {
      return { messageId, ...(await whatsapp.sendWhatsAppMessage(input)) };
    } catch (err) {
      // WhatsApp kept failing for the whole retry period: the conversation goes on, the message is marked failed.
      const failure = 'Não foi possível enviar pelo WhatsApp após várias tentativas.';
      log.warn('send abandoned', { messageId, error: (err as Error).message });
      await store.markSendAbandoned({ ...input, reason: failure });
      return { messageId, status: 'failed', failure };
    }
  }

  async function receive(batch: InboundMessage[]): Promise<void> {
    const fresh: InboundMessage[] = [];
    for (const message of batch) {
      const r = await store.recordInbound({ ...ids, message, status: s.status });
      s.recentWamids.push(message.wamid);
      if (s.recentWamids.length > RECENT_WAMIDS) s.recentWamids.splice(0, s.recentWamids.length - RECENT_WAMIDS);
      if (r.duplicate) continue;
      s.settings = r.settings;
      const at = message.timestamp * 1000;
      s.lastInboundAt = Math.max(s.lastInboundAt ?? 0, at);
      if (message.referral) s.lastReferralAt = Math.max(s.lastReferralAt ?? 0, at);
      s.lastActivityAt = Date.now();
      if (message.media) {
        try {
          await media.downloadMedia({ tenantId, channelId, messageId: r.messageId, media: message.media });
        } catch (err) {
          // The message stays in the inbox without its file; an attendant can ask the guest again.
          log.warn('media download failed', { mediaId: message.media.mediaId, error: (err as Error).message });
        }
      }
      if (message.text) remember({ role: 'guest', text: message.text });
      fresh.push(message);
    }
    if (fresh.length === 0) return;

    if (s.status !== 'ai') {
      await noticeOutOfHours();
      return;
    }
    const latestText = fresh.map((m) => m.text).filter(Boolean).join('\n');
    if (wantsHuman(latestText)) {
      s.intent = 'human_request';
      await escalate('guest_asked_for_person', { type: 'system', id: null });
      return;
    }
    if (!isWindowOpen(s.lastInboundAt, Date.now(), { lastReferralAtMs: s.lastReferralAt })) {
      // Delivered too late to answer freely (Meta retries for days): a person decides, with a template.
      await escalate('window_closed', { type: 'system', id: null });
      return;
    }
    if (!latestText) return; // a sticker or reaction on its own needs no answer
    let decision;
    try {
      decision = await ai.decideReply({ tenantId, transcript: s.transcript.slice(0, -1), latestText });
    } catch (err) {
      log.warn('AI failed; escalating', { error: (err as Error).message });
      await escalate('ai_failed', { type: 'system', id: null });
      return;
    }
    if (s.status !== 'ai') return; // a person took over while the AI was thinking
    s.intent = decision.intent;
    if (decision.action === 'escalate' || !decision.reply) {
      await escalate(`ai:${decision.reason ?? decision.intent}`, { type: 'system', id: null });
      return;
    }
    s.pendingAiReplies.push(decision.reply);
    remember({ role: 'assistant', text: decision.reply });
  }

  // With people, out of hours: the guest hears so once per escalation (free text, so only inside the window).
  async function noticeOutOfHours(at = Date.now()): Promise<void> {
    const e = s.escalation;
    if (!e || e.outOfHoursNoticeSent || isWithinBusinessHours(s.settings, at)) return;
    e.outOfHoursNoticeSent = true;
    if (isWindowOpen(s.lastInboundAt, at, { lastReferralAtMs: s.lastReferralAt })) {
      await send({ type: 'text', text: s.settings.conversation.outOfHoursMessage }, { type: 'system', id: null });
    }
  }

  // Consecutive AI answers waiting for the per-customer pace go out merged, not dropped.
  async function flushAiReplies(): Promise<void> {
    const texts = s.pendingAiReplies.splice(0);
    for (const text of mergeReplies(texts)) {
      const r = await send({ type: 'text', text }, { type: 'ai', id: null });
      if (r.status === 'failed') break;
    }
  }

  async function breachSla(): Promise<void> {
    const e = s.escalation as EscalationState;
    e.breaches += 1;
    e.slaDueAt = slaDueFrom(Date.now());
    await store.recordConversationChange({ ...ids, actor: { type: 'system', id: null }, change: { kind: 'sla_breached', escalationId: e.id, breaches: e.breaches, team: s.team, nextDueAt: e.slaDueAt } });
  }

  const idleCloseAt = () => s.lastActivityAt + s.settings.conversation.inactivityCloseHours * 3_600_000;
  const aiSendAt = () => (s.pendingAiReplies.length && s.status === 'ai' ? nextSendAt(s.lastOutboundAt, Date.now(), intervalMs) : Infinity);
  const slaAt = () => (s.status === 'escalated' && s.escalation?.slaDueAt ? s.escalation.slaDueAt : Infinity);
  const historyTooLong = () =>
    workflowInfo().continueAsNewSuggested || (options.maxHistoryEvents !== undefined && workflowInfo().historyLength > options.maxHistoryEvents);

  // --- The conversation ----------------------------------------------------------------------
  if (!opened) {
    const o = await store.openConversation({ tenantId, conversationId: s.conversationId, contactId, channelId, workflowId: workflowInfo().workflowId });
    s.settings = o.settings;
    s.to = o.to;
    opened = true;
  }
  for (;;) {
    // Checked first: a busy conversation may never be idle. Pending messages and replies travel
    // in the carried state.
    if (historyTooLong()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversation>({ tenantId, contactId, channelId, options, carried: s });
    }
    if (s.inbox.length) {
      await receive(s.inbox.splice(0));
      continue;
    }
    const now = Date.now();
    if (aiSendAt() <= now) {
      await flushAiReplies();
      continue;
    }
    if (slaAt() <= now) {
      await breachSla();
      continue;
    }
    if (idleCloseAt() <= now) {
      await condition(allHandlersFinished);
      if (s.inbox.length) continue;
      s.status = 'closed';
      await store.recordConversationChange({ ...ids, actor: { type: 'system', id: null }, change: { kind: 'closed', reason: 'inactivity', escalationId: s.escalation?.id ?? null } });
      return { conversationId: s.conversationId, closedReason: 'inactivity' };
    }
    const nextDeadline = Math.min(aiSendAt(), slaAt(), idleCloseAt());
    wake = false;
    await condition(() => wake || s.inbox.length > 0, Math.max(1, nextDeadline - now));
  }
}
