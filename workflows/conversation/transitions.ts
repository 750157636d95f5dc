import type { ConversationChange } from '../../activities/conversations';
import { isWithinBusinessHours, nextBusinessOpening } from '../../domain/calendar';
import { isWindowOpen } from '../../domain/customer-window';
import { needsOpenWindow, type OutboundContent } from '../../domain/outbound-content';
import type { TenantSettings } from '../../domain/tenant-settings';
import { CONVERSATION_ERRORS, type ConversationState, type EscalationState, type TransferRequest } from './definitions';

// How a conversation moves between the AI and people, as plain functions: each takes the state
// and the facts of the moment (the instant, the ids the workflow drew) and returns the new state
// and the change to record, or why the move is refused. No Temporal, no I/O: the workflow
// applies them, records the change and does the talking.

// The part of the state these rules read and write; the workflow passes its whole state.
export type CaseState = Pick<
  ConversationState,
  'status' | 'assigneeId' | 'team' | 'intent' | 'escalation' | 'pendingAiReplies' | 'lastActivityAt' | 'lastInboundAt' | 'lastReferralAt' | 'settings'
>;

export interface Transition<S extends CaseState, C extends ConversationChange = ConversationChange> {
  state: S;
  change: C;
}

type Change<K extends ConversationChange['kind']> = Extract<ConversationChange, { kind: K }>;

export interface Refusal {
  type: string;
  message: string; // pt-BR: the API shows it to the person who asked
}

// When an escalation waiting from `from` must be accepted: the clock starts at the next business
// opening (now, within hours), so a guest who writes at night gives the team until the opening
// plus the SLA. Null when the calendar has no opening ahead (every day closed).
export function slaDueAt(settings: TenantSettings, from: number): number | null {
  const opening = nextBusinessOpening(settings, from);
  if (!opening) return null;
  return Math.max(opening.getTime(), from) + settings.escalation.acceptanceSlaMinutes * 60_000;
}

// The AI hands the conversation to people (or a person or automation takes it). Null when it is
// already with people: a second request changes nothing.
export function escalate<S extends CaseState>(
  s: S,
  e: { escalationId: string; reason: string; team?: string; now: number },
): Transition<S, Change<'escalated'>> | null {
  if (s.status !== 'ai') return null;
  const escalation: EscalationState = {
    id: e.escalationId,
    reason: e.reason,
    since: e.now,
    acceptedAt: null,
    slaDueAt: slaDueAt(s.settings, e.now),
    breaches: 0,
    outOfHoursNoticeSent: false,
    handoffNoticeSent: false,
  };
  const team = e.team ?? null;
  return {
    // The AI stays silent from here on: its queued answers are dropped.
    state: { ...s, status: 'escalated', team, escalation, pendingAiReplies: [], lastActivityAt: e.now },
    change: {
      kind: 'escalated',
      escalationId: e.escalationId,
      reason: e.reason,
      intent: s.intent,
      team,
      outOfHours: !isWithinBusinessHours(s.settings, e.now),
      slaDueAt: escalation.slaDueAt,
    },
  };
}

// An attendant takes the waiting conversation: the acceptance clock stops.
export function accept<S extends CaseState>(s: S, a: { userId: string; now: number }): Transition<S, Change<'accepted'>> | null {
  if (!s.escalation || s.status === 'ai' || s.status === 'closed') return null;
  return {
    state: { ...s, status: 'assigned', assigneeId: a.userId, escalation: { ...s.escalation, acceptedAt: a.now, slaDueAt: null }, lastActivityAt: a.now },
    change: { kind: 'accepted', escalationId: s.escalation.id, userId: a.userId },
  };
}

// To a named person (their acceptance, if nobody had accepted yet) or back to a team's queue
// (the acceptance clock starts again).
export function transfer<S extends CaseState>(s: S, t: { toUserId?: string; team?: string; now: number }): Transition<S, Change<'transferred'>> {
  let escalation = s.escalation;
  if (t.toUserId) {
    if (escalation && !escalation.acceptedAt) escalation = { ...escalation, acceptedAt: t.now, slaDueAt: null };
  } else if (escalation) {
    escalation = { ...escalation, acceptedAt: null, slaDueAt: slaDueAt(s.settings, t.now) };
  }
  const team = t.team ?? s.team;
  const toUserId = t.toUserId || null;
  return {
    state: { ...s, status: toUserId ? 'assigned' : 'escalated', assigneeId: toUserId, team, escalation, lastActivityAt: t.now },
    change: { kind: 'transferred', escalationId: escalation?.id ?? null, toUserId, team },
  };
}

// People are done: the conversation goes back to the AI.
export function resolve<S extends CaseState>(s: S, r: { now: number }): Transition<S, Change<'resolved'>> {
  return {
    state: { ...s, status: 'ai', assigneeId: null, team: null, escalation: null, lastActivityAt: r.now },
    change: { kind: 'resolved', escalationId: s.escalation?.id ?? null },
  };
}

// Nobody accepted within the SLA: managers hear about it, and the next period starts.
export function breachSla<S extends CaseState>(s: S, b: { now: number }): Transition<S, Change<'sla_breached'>> | null {
  if (!s.escalation) return null;
  const escalation = { ...s.escalation, breaches: s.escalation.breaches + 1, slaDueAt: slaDueAt(s.settings, b.now) };
  return {
    state: { ...s, escalation },
    change: { kind: 'sla_breached', escalationId: escalation.id, breaches: escalation.breaches, team: s.team, nextDueAt: escalation.slaDueAt },
  };
}

export function close<S extends CaseState>(s: S, c: { reason: string }): Transition<S, Change<'closed'>> {
  return { state: { ...s, status: 'closed' }, change: { kind: 'closed', reason: c.reason, escalationId: s.escalation?.id ?? null } };
}

// --- What the guest hears while people have the conversation -----------------------------------
export type GuestNotice = 'out_of_hours' | 'handoff';

// Asked right after an escalation (`handedOverByAssistant`: the AI decided, failed, or the guest
// asked for a person, as opposed to staff or an automation taking it) and whenever the guest
// writes while waiting. Out of hours the guest hears so once per escalation; within hours, a
// hand-over by the assistant is announced once, if the tenant wants it. Free text needs the
// 24-hour window: closed, the notice counts as given and nothing is sent.
export function guestNotice<S extends CaseState>(s: S, at: number, handedOverByAssistant: boolean): { state: S; notice: GuestNotice | null } {
  const e = s.escalation;
  if (!e) return { state: s, notice: null };
  const windowOpen = isWindowOpen(s.lastInboundAt, at, { lastReferralAtMs: s.lastReferralAt });
  if (!isWithinBusinessHours(s.settings, at)) {
    if (e.outOfHoursNoticeSent) return { state: s, notice: null };
    return { state: { ...s, escalation: { ...e, outOfHoursNoticeSent: true } }, notice: windowOpen ? 'out_of_hours' : null };
  }
  // Settings carried from before the notice existed have no flag: off, like the old behaviour.
  if (!handedOverByAssistant || e.handoffNoticeSent || s.settings.conversation.handoffNoticeEnabled !== true) return { state: s, notice: null };
  return { state: { ...s, escalation: { ...e, handoffNoticeSent: true } }, notice: windowOpen ? 'handoff' : null };
}

// The escalation reasons that mean the assistant handed the guest over (see `guestNotice`).
export const ASSISTANT_HANDOFF_REASONS = ['guest_asked_for_person', 'ai_failed'] as const;
export const isAssistantHandoff = (reason: string) => reason.startsWith('ai:') || (ASSISTANT_HANDOFF_REASONS as readonly string[]).includes(reason);

// --- Why an update is refused -----------------------------------------------------------------
const refusal = (type: string, message: string): Refusal => ({ type, message });

export function closedRefusal(s: Pick<CaseState, 'status'>): Refusal | null {
  return s.status === 'closed' ? refusal(CONVERSATION_ERRORS.closed, 'A conversa já foi encerrada.') : null;
}

export function acceptRefusal(s: Pick<CaseState, 'status' | 'escalation'>): Refusal | null {
  const closed = closedRefusal(s);
  if (closed) return closed;
  if (s.status === 'assigned') return refusal(CONVERSATION_ERRORS.alreadyAccepted, 'A conversa já foi aceita por um atendente.');
  if (s.status !== 'escalated' || !s.escalation) return refusal(CONVERSATION_ERRORS.notEscalated, 'A conversa não está aguardando atendimento.');
  return null;
}

export function replyRefusal(s: Pick<CaseState, 'status' | 'lastInboundAt' | 'lastReferralAt'>, content: OutboundContent, now: number): Refusal | null {
  const closed = closedRefusal(s);
  if (closed) return closed;
  if (needsOpenWindow(content) && !isWindowOpen(s.lastInboundAt, now, { lastReferralAtMs: s.lastReferralAt })) {
    return refusal(
      CONVERSATION_ERRORS.windowClosed,
      'Fora da janela de 24 horas desde a última mensagem do cliente: envie um modelo (template) aprovado.',
    );
  }
  return null;
}

export function transferRefusal(s: Pick<CaseState, 'status' | 'escalation'>, t: Pick<TransferRequest, 'toUserId' | 'team'>): Refusal | null {
  const closed = closedRefusal(s);
  if (closed) return closed;
  if (s.status === 'ai' || !s.escalation) return refusal(CONVERSATION_ERRORS.notEscalated, 'Só é possível transferir uma conversa escalada para atendimento humano.');
  if (!t.toUserId && !t.team) return refusal(CONVERSATION_ERRORS.invalidTransfer, 'Informe o atendente ou a equipe de destino.');
  return null;
}

export function resolveRefusal(s: Pick<CaseState, 'status'>): Refusal | null {
  return closedRefusal(s) ?? (s.status === 'ai' ? refusal(CONVERSATION_ERRORS.notEscalated, 'A conversa já está com o assistente virtual.') : null);
}
