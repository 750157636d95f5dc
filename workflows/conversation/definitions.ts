import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { ConversationStatus } from '../../domain/conversation-statuses';
import type { OutboundContent } from '../../domain/outbound-content';
import type { TenantSettings } from '../../domain/tenant-settings';
import type { InboundMessage } from '../../domain/whatsapp-messages';

// What the outside world (the API, webhooks, automations, tests) may say to a conversation
// workflow and read from it: its id, input, state and view, and its signals, queries, updates
// and typed failures. No behaviour lives here.

export const conversationWorkflowId = (tenantId: string, contactId: string) => `conversation:${tenantId}:${contactId}`;

export type { ConversationStatus };

export interface ConversationInput {
  tenantId: string;
  contactId: string;
  channelId: string;
  options?: ConversationOptions;
  // Set only by continue-as-new.
  carried?: ConversationState;
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
  // Absent in escalations carried over from runs older than the handoff notice.
  handoffNoticeSent?: boolean;
}

export interface TranscriptLine {
  role: 'guest' | 'assistant' | 'attendant';
  text: string;
}

// Everything the workflow knows; travels whole through continue-as-new.
export interface ConversationState {
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
  // Set when a step failed in a way no retry can fix and the workflow ended on it.
  failure?: ConversationFailure;
}

export interface ConversationFailure {
  type: string;
  message: string;
  step: string;
}

export interface ConversationResult {
  conversationId: string;
  closedReason: string;
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
  // Meta's error code when Meta refused the send (131049, 131050, 132015…); a sales cadence reacts to it.
  code?: number;
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
  invalidTransfer: 'InvalidTransfer',
  // The workflow itself ended on a failure no retry can fix (e.g. its tenant was deleted).
  failed: 'ConversationFailed',
} as const;
