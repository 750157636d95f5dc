import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import type { Actor } from '../../domain/actor';
import { isIaLocked } from '../../domain/conversation-statuses';
import { isWindowOpen } from '../../domain/customer-window';
import type { OutboundContent } from '../../domain/outbound-content';
import { mergeReplies, nextSendAt, PER_CUSTOMER_INTERVAL_MS } from '../../domain/pacing';
import { isPermanentFailureType, PERMANENT_FAILURE_TYPES } from '../../domain/permanent-failures';
import { entitySearchAttributes } from '../../domain/search-attributes';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { wantsHuman } from '../../domain/triage-rules';
import { dataSubjectRequestKindOf, type DataSubjectRequestKind } from '../../domain/data-subject-requests';
import type { InboundMessage } from '../../domain/whatsapp-messages';
import {
  acceptUpdate,
  CONVERSATION_ERRORS,
  conversationStateQuery,
  escalateUpdate,
  inboundMessageSignal,
  noteUpdate,
  replyUpdate,
  resolveUpdate,
  transferUpdate,
  type ConversationFailure,
  type ConversationInput,
  type ConversationResult,
  type ConversationState,
  type ConversationView,
  type ReplyResult,
  type TranscriptLine,
} from './definitions';
import * as rules from './transitions';
import { TENANT_ENDPOINTS_PATCH, tenantEndpointsQueue } from '../workflow-start';

// One WhatsApp conversation between a guest and a tenant. The AI answers while it has the
// conversation; it hands over to a person when it decides to, when the guest asks for one, when
// it fails, or when an attendant or automation asks. A person then accepts it (within the
// tenant's SLA, or managers hear about it), replies, transfers it and resolves it, which gives
// it back to the AI. Silence for the tenant's inactivity period closes it; the guest's next
// message opens a new one under the same workflow id. A step that fails in a way no retry can
// fix (its tenant deleted) ends it as a failed workflow instead of retrying forever.

// Database steps take milliseconds: run as local activities, inside the workflow task, so a
// message costs one round trip to the server instead of three (measured with bench:webhook).
// Failures no retry can fix arrive non-retryable from the activities themselves.
const localStore = proxyLocalActivities<Activities>({
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
const localAi = proxyLocalActivities<Activities>({
  startToCloseTimeout: '25 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2, nonRetryableErrorTypes: ['AiAnswerInvalid', 'AiUnavailable'] },
});

// A tenant's own AI endpoint is called on the tenant-endpoint queue instead (a local activity
// would hang in this worker's own slots with it). The same budget as the local call, plus tries
// for the tenant being at its limit of concurrent calls (TenantEndpointBusy), all within a minute:
// past that the guest is better served by a person.
const tenantAiOptions: ActivityOptions = {
  startToCloseTimeout: '25 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 6, nonRetryableErrorTypes: ['AiAnswerInvalid', 'AiUnavailable'] },
};

// Sends are retried for throttling and outages (the activity sets Meta's backoff itself); the
// activity never double-sends, so retrying is safe.
const whatsapp = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

// The sales funnel hears of each guest message (opt-outs, replies that stop a cadence, answers
// to appointments, a first message that opens a lead). Its failure never holds the conversation:
// a few quick tries, then the conversation goes on without it.
// The same options run it inside the workflow task (localSales, below): a guest's message then
// costs no round trip to the server for it (a third of a message's server calls at 100 msg/s,
// measured with bench:webhook).
const salesOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 4 },
} as const;
const sales = proxyActivities<Activities>(salesOptions);
// Runs recorded while it was a separate activity replay with it.
const LOCAL_SALES_ROUTING_PATCH = 'sales-inbound-local';
// Since: recordInbound routes the message to sales itself; the separate step runs only when that
// part failed. Runs recorded before replay with the separate step for every message.
const SALES_IN_RECORD_PATCH = 'sales-inbound-in-record';

// A contact's LGPD request ("apagar meus dados") is registered and answered with its protocol
// instead of going to the AI. A failure leaves it to a person.
const privacy = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds' },
});
// Runs recorded before the contact could ask on WhatsApp replay without it.
const DATA_SUBJECT_REQUEST_PATCH = 'data-subject-request-by-whatsapp';

const TRANSCRIPT_LINES = 12;
const RECENT_WAMIDS = 200;
const SYSTEM: Actor = { type: 'system', id: null };

export async function conversation(input: ConversationInput): Promise<ConversationResult> {
  const { tenantId, contactId, channelId } = input;
  const options = input.options ?? {};
  const intervalMs = options.perCustomerIntervalMs ?? PER_CUSTOMER_INTERVAL_MS;

  // Handlers are registered before the first await: an update-with-start (an automation writing
  // first) must find them. Until the conversation row exists, handlers wait for it.
  let s: ConversationState = input.carried ?? {
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
  let failure: ConversationFailure | undefined;

  // One local activity at a time. An update handler's database step running beside the main
  // loop's made the order of the update's completion and the loop's next command depend on
  // whether the two results reached the workflow in one activation or two, which differs
  // between a live run and its replay (a nondeterminism error, seen with an attendant accepting
  // while the guest's messages were being stored). In turn, each result arrives on its own.
  // Runs recorded before this ran them side by side, and replay as they ran.
  const oneLocalActivityAtATime = patched('serial-local-activities');
  let localTurn: Promise<unknown> = Promise.resolve();
  const inTurn = <T extends object>(activities: T): T =>
    new Proxy(activities, {
      get(target, name) {
        const activity = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          if (!oneLocalActivityAtATime) return activity(...args);
          const run = localTurn.then(() => activity(...args));
          localTurn = run.catch(() => undefined);
          return run;
        };
      },
    });
  const store = inTurn(localStore);
  const ai = inTurn(localAi);
  const localSales = inTurn(proxyLocalActivities<Activities>(salesOptions));
  const tenantAi = proxyActivities<Activities>({ ...tenantAiOptions, taskQueue: tenantEndpointsQueue(workflowInfo().taskQueue) });

  const windowOpen = (at: number) => isWindowOpen(s.lastInboundAt, at, { lastReferralAtMs: s.lastReferralAt });

  const view = (): ConversationView => ({
    conversationId: s.conversationId,
    tenantId,
    contactId,
    status: s.status,
    iaLocked: isIaLocked(s.status),
    assigneeId: s.assigneeId,
    team: s.team,
    intent: s.intent,
    escalation: s.escalation,
    lastInboundAt: s.lastInboundAt === null ? null : new Date(s.lastInboundAt).toISOString(),
    windowOpen: windowOpen(Date.now()),
    pendingInbound: s.inbox.length,
    pendingAiReplies: s.pendingAiReplies.length,
    historyLength: workflowInfo().historyLength,
    ...(failure ? { failure } : {}),
  });

  const remember = (line: TranscriptLine) => {
    s.transcript.push(line);
    if (s.transcript.length > TRANSCRIPT_LINES) s.transcript.splice(0, s.transcript.length - TRANSCRIPT_LINES);
  };

  const refuse = (r: rules.Refusal | null) => {
    if (r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
  };

  // Every update: its validator refuses what does not fit the state; a failure no retry can fix
  // is kept (the first one) for the view and the main loop, which ends the run on it, and the
  // person whose update hit it hears why.
  function onUpdate<Ret, Args extends [unknown, ...unknown[]]>(
    update: UpdateDefinition<Ret, Args>,
    handler: (...args: NoInfer<Args>) => Promise<Ret>,
    validator: (...args: NoInfer<Args>) => void,
  ): void {
    const handle = async (...args: Args): Promise<Ret> => {
      try {
        return await handler(...args);
      } catch (err) {
        if (!notePermanentFailure(update.name, err)) throw err;
        throw ApplicationFailure.create({ type: CONVERSATION_ERRORS.failed, message: 'A conversa foi encerrada por uma falha que não se resolve tentando de novo.', nonRetryable: true });
      }
    };
    setHandler(update, handle, { validator });
  }

  // `step` names the activity that failed, else the handler or phase it failed in.
  function notePermanentFailure(where: string, err: unknown): boolean {
    let step = where;
    for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
      if (e instanceof ActivityFailure && e.activityType) step = e.activityType;
      if (e instanceof ApplicationFailure && isPermanentFailureType(e.type)) {
        // The activities' classification names the activity (a local one's failure may not).
        const named = (e.details?.[0] as { activity?: unknown } | undefined)?.activity;
        if (typeof named === 'string') step = named;
        failure ??= { type: e.type, message: e.message, step };
        wake = true;
        return true;
      }
    }
    return false;
  }

  // --- Handlers ------------------------------------------------------------------------------
  setHandler(conversationStateQuery, view);

  setHandler(inboundMessageSignal, ({ message }) => {
    // Meta redelivers; the store dedupes too, this spares it the round trip.
    if (s.recentWamids.includes(message.wamid) || s.inbox.some((m) => m.wamid === message.wamid)) return;
    s.inbox.push(message);
    wake = true;
  });

  const open = (_request?: unknown) => {
    if (failure) refuse({ type: CONVERSATION_ERRORS.failed, message: 'A conversa foi encerrada por uma falha.' });
    refuse(rules.closedRefusal(s));
  };

  onUpdate(
    escalateUpdate,
    async ({ actor, reason, team }) => {
      await whenOpened();
      await escalate(reason, { type: actor.type, id: actor.id }, team);
      return view();
    },
    open,
  );

  onUpdate(
    acceptUpdate,
    async ({ actor, userId }) => {
      await whenOpened();
      await assign(userId, actor);
      return view();
    },
    () => {
      open();
      refuse(rules.acceptRefusal(s));
    },
  );

  onUpdate(
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
    ({ content }) => {
      open();
      refuse(rules.replyRefusal(s, content, Date.now()));
    },
  );

  onUpdate(
    noteUpdate,
    async ({ actor, text }) => {
      await whenOpened();
      const messageId = uuid4();
      await store.recordConversationChange({ ...ids, actor, change: { kind: 'note', messageId, text } });
      return { messageId };
    },
    open,
  );

  onUpdate(
    transferUpdate,
    async ({ actor, toUserId, team }) => {
      await whenOpened();
      await apply(actor, rules.transfer(s, { toUserId, team, now: Date.now() }));
      return view();
    },
    (request) => {
      open();
      refuse(rules.transferRefusal(s, request));
    },
  );

  onUpdate(
    resolveUpdate,
    async ({ actor }) => {
      await whenOpened();
      await apply(actor, rules.resolve(s, { now: Date.now() }));
      return view();
    },
    () => {
      open();
      refuse(rules.resolveRefusal(s));
    },
  );

  // --- Steps -------------------------------------------------------------------------------
  // The new state first (so the handlers that run while the change is recorded see it), then the
  // record. Plain functions handing back the activity's own promise: the steps resume exactly
  // when the record is done, as before the rules moved out (replays of older runs see the same order).
  function apply(actor: Actor, t: rules.Transition<ConversationState> | null): Promise<void> | undefined {
    if (!t) return undefined;
    s = t.state;
    wake = true;
    return store.recordConversationChange({ ...ids, actor, change: t.change });
  }

  function assign(userId: string, actor: Actor): Promise<void> | undefined {
    return apply(actor, rules.accept(s, { userId, now: Date.now() }));
  }

  async function escalate(reason: string, by: Actor, team?: string): Promise<void> {
    if (s.status !== 'ai') return; // already with people (checked before drawing an id)
    const now = Date.now();
    await apply(by, rules.escalate(s, { escalationId: uuid4(), reason, team, now }));
    await tellGuest(now, by.type === 'system' && rules.isAssistantHandoff(reason));
  }

  // What the guest hears while people have the conversation (see rules.guestNotice).
  async function tellGuest(at: number, handedOverByAssistant: boolean): Promise<void> {
    const n = rules.guestNotice(s, at, handedOverByAssistant);
    s = n.state;
    if (n.notice === 'out_of_hours') {
      await send({ type: 'text', text: s.settings.conversation.outOfHoursMessage }, { type: 'system', id: null });
    } else if (n.notice === 'handoff' && s.settings.conversation.handoffMessage && patched('handoff-notice')) {
      await send({ type: 'text', text: s.settings.conversation.handoffMessage }, { type: 'system', id: null });
    }
  }

  async function send(content: OutboundContent, sender: { type: 'ai' | 'user' | 'automation' | 'system'; id: string | null }): Promise<ReplyResult> {
    const messageId = uuid4();
    s.lastOutboundAt = Date.now();
    s.lastActivityAt = Date.now();
    const input = { ...ids, messageId, to: s.to, content, sender, assigneeId: s.assigneeId };
    try {
      return { messageId, ...(await whatsapp.sendWhatsAppMessage(input)) };
    } catch (err) {
      // No message row can be written for a tenant that is gone: nothing left to mark failed.
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === PERMANENT_FAILURE_TYPES.tenantGone) throw err;
      // WhatsApp kept failing for the whole retry period: the conversation goes on, the message is marked failed.
      const failure = 'Não foi possível enviar pelo WhatsApp após várias tentativas.';
      log.warn('send abandoned', { messageId, error: (err as Error).message });
      await store.markSendAbandoned({ ...input, reason: failure });
      return { messageId, status: 'failed', failure };
    }
  }

  async function receive(batch: InboundMessage[]): Promise<void> {
    const fresh: InboundMessage[] = [];
    const asked: { messageId: string; kind: DataSubjectRequestKind }[] = [];
    for (const message of batch) {
      const inRecord = patched(SALES_IN_RECORD_PATCH);
      const r = await store.recordInbound({ ...ids, message, status: s.status, ...(inRecord ? { routeToSales: true } : {}) });
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
      const kind = dataSubjectRequestKindOf(message.text);
      if (kind) asked.push({ messageId: r.messageId, kind });
      // Runs recorded before the sales funnel existed replay without it.
      if (inRecord ? r.salesRouted === false : patched('sales-inbound')) {
        try {
          const route = { tenantId, contactId, message };
          await (patched(LOCAL_SALES_ROUTING_PATCH) ? localSales.routeInboundToSales(route) : sales.routeInboundToSales(route));
        } catch (err) {
          log.warn('sales routing of an inbound message failed; the conversation goes on', { wamid: message.wamid, error: (err as Error).message });
        }
      }
    }
    if (fresh.length === 0) return;

    if (asked.length && patched(DATA_SUBJECT_REQUEST_PATCH)) {
      for (const a of asked) await registerDataSubjectRequest(a);
      return;
    }

    if (s.status !== 'ai') {
      await tellGuest(Date.now(), false);
      return;
    }
    const latestText = fresh.map((m) => m.text).filter(Boolean).join('\n');
    if (wantsHuman(latestText)) {
      s.intent = 'human_request';
      await escalate('guest_asked_for_person', SYSTEM);
      return;
    }
    if (!windowOpen(Date.now())) {
      // Delivered too late to answer freely (Meta retries for days): a person decides, with a template.
      await escalate('window_closed', SYSTEM);
      return;
    }
    if (!latestText) return; // a sticker or reaction on its own needs no answer
    let decision;
    try {
      const question = { tenantId, transcript: s.transcript.slice(0, -1), latestText };
      // Runs recorded before it called every AI endpoint locally.
      const apart = patched(TENANT_ENDPOINTS_PATCH);
      const local = apart ? await ai.decideReplyUnlessTenantEndpoint(question) : await ai.decideReply(question);
      decision = 'atTenantEndpoint' in local ? await tenantAi.decideReplyAtTenantEndpoint(question) : local;
    } catch (err) {
      log.warn('AI failed; escalating', { error: (err as Error).message });
      await escalate('ai_failed', SYSTEM);
      return;
    }
    if (s.status !== 'ai') return; // a person took over while the AI was thinking
    s.intent = decision.intent;
    if (decision.action === 'escalate' || !decision.reply) {
      await escalate(`ai:${decision.reason ?? decision.intent}`, SYSTEM);
      return;
    }
    s.pendingAiReplies.push(decision.reply);
    remember({ role: 'assistant', text: decision.reply });
  }

  async function registerDataSubjectRequest(a: { messageId: string; kind: DataSubjectRequestKind }): Promise<void> {
    try {
      const r = await privacy.registerDataSubjectRequestByWhatsApp({ tenantId, contactId, messageId: a.messageId, kind: a.kind });
      await send({ type: 'text', text: r.reply }, { type: 'system', id: null });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('data subject request not registered; a person takes it', { messageId: a.messageId, error: err.message });
      s.intent = 'data_subject_request';
      await escalate('data_subject_request', SYSTEM);
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

  const idleCloseAt = () => s.lastActivityAt + s.settings.conversation.inactivityCloseHours * 3_600_000;
  const aiSendAt = () => (s.pendingAiReplies.length && s.status === 'ai' ? nextSendAt(s.lastOutboundAt, Date.now(), intervalMs) : Infinity);
  const slaAt = () => (s.status === 'escalated' && s.escalation?.slaDueAt ? s.escalation.slaDueAt : Infinity);
  const historyTooLong = () =>
    workflowInfo().continueAsNewSuggested || (options.maxHistoryEvents !== undefined && workflowInfo().historyLength > options.maxHistoryEvents);

  // The record is out of reach (the tenant deleted or erased): retrying would change nothing,
  // so the run ends as failed, with the reason in its result, the log and the view.
  function endOnFailure(f: ConversationFailure): never {
    s = { ...s, status: 'closed' };
    log.error('conversation ended on a permanent failure', { ...f, conversationId: s.conversationId });
    throw ApplicationFailure.create({
      type: CONVERSATION_ERRORS.failed,
      message: `conversation ${s.conversationId} ended: ${f.step} failed permanently (${f.type}: ${f.message})`,
      nonRetryable: true,
      details: [{ closedReason: f.type === PERMANENT_FAILURE_TYPES.tenantGone ? 'tenant_gone' : 'permanent_failure', ...f }],
    });
  }

  // --- The conversation ----------------------------------------------------------------------
  async function run(): Promise<ConversationResult> {
    if (!opened) {
      const o = await store.openConversation({ tenantId, conversationId: s.conversationId, contactId, channelId, workflowId: workflowInfo().workflowId });
      s.settings = o.settings;
      s.to = o.to;
      opened = true;
    }
    for (;;) {
      if (failure) endOnFailure(failure);
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
        await apply(SYSTEM, rules.breachSla(s, { now }));
        continue;
      }
      if (idleCloseAt() <= now) {
        await condition(allHandlersFinished);
        if (s.inbox.length) continue;
        await apply(SYSTEM, rules.close(s, { reason: 'inactivity' }));
        return { conversationId: s.conversationId, closedReason: 'inactivity' };
      }
      const nextDeadline = Math.min(aiSendAt(), slaAt(), idleCloseAt());
      wake = false;
      await condition(() => wake || s.inbox.length > 0, Math.max(1, nextDeadline - now));
    }
  }

  try {
    return await run();
  } catch (err) {
    if (!notePermanentFailure('conversation', err) || !failure) throw err;
    return endOnFailure(failure);
  }
}
