import type { AssemblyStatus, QuotaStatus } from './consortium-statuses';
import type { CollectionItemStatus, DunningStage, InvoiceStatus } from './billing-statuses';
import type { ConversationStatus, MessageDirection, MessageSenderType, MessageStatus } from './conversation-statuses';
import type { DataSubjectRequestKind, DataSubjectRequestStatus, DataSubjectRequestStep } from './data-subject-requests';
import { BILLING_ROLES, CONSORTIUM_ROLES, PRIVACY_ROLES, SALES_ROLES, type Role, type TenantRole } from './roles';
import type {
  AppointmentKind,
  AppointmentStatus,
  ContractStatus,
  LeadStage,
  LeadTemperature,
  NurturingStatus,
  ProposalStatus,
  SignerStatus,
} from './sales-statuses';

// What staff dashboards receive live over Socket.io. Payloads are plain JSON (timestamps as ISO
// strings) because they travel through a Redis stream and are replayed to reconnecting clients.
// An event is a hint, not the record: a client that missed one resyncs over REST, so payloads
// carry what the inbox needs to update a row in place, never more than the REST API would show.

// The lists are the conversation process's; re-exported for the clients that read them from here.
export {
  CONVERSATION_STATUSES,
  MESSAGE_DIRECTIONS,
  MESSAGE_SENDER_TYPES,
  MESSAGE_STATUSES,
  type ConversationStatus,
  type MessageDirection,
  type MessageSenderType,
  type MessageStatus,
} from './conversation-statuses';

interface ConversationScoped {
  tenantId: string;
  conversationId: string;
}

export interface MessageNewEvent extends ConversationScoped {
  messageId: string;
  // `messages.seq` as a string: a bigint past 2^53 would lose precision as a JSON number. Clients
  // resync with "messages after seq N", so they keep the highest one they have seen.
  seq: string;
  direction: MessageDirection;
  senderType: MessageSenderType;
  senderId: string | null;
  type: string;
  body: string;
  status: MessageStatus;
  mediaId: string | null;
  occurredAt: string;
}

export interface MessageStatusEvent extends ConversationScoped {
  messageId: string;
  status: MessageStatus;
  statusAt: string;
}

export interface MessageFailedEvent extends ConversationScoped {
  messageId: string;
  error: { code: number | null; title?: string; message?: string };
  failedAt: string;
}

// A snapshot of the inbox row rather than a diff, so applying it twice or out of order with a
// REST resync converges (newest `updatedAt` wins).
export interface ConversationUpdatedEvent extends ConversationScoped {
  status: ConversationStatus;
  assigneeId: string | null;
  team: string | null;
  lastMessageAt: string | null;
  lastMessagePreview: string | null;
  unreadCount: number;
  updatedAt: string;
}

export interface EscalationNewEvent extends ConversationScoped {
  escalationId: string;
  reason: string;
  intent: string | null;
  team: string | null;
  slaDueAt: string | null;
  outOfHours: boolean;
  createdAt: string;
}

export interface EscalationAcceptedEvent extends ConversationScoped {
  escalationId: string;
  acceptedBy: string;
  acceptedAt: string;
}

export interface EscalationSlaBreachedEvent extends ConversationScoped {
  escalationId: string;
  team: string | null;
  slaDueAt: string;
  breaches: number;
}

// --- The sales funnel -------------------------------------------------------------------------
interface TenantScoped {
  tenantId: string;
}

// A snapshot of the board card (newest updatedAt wins), sent to the tenant and the owner.
export interface LeadUpdatedEvent extends TenantScoped {
  leadId: string;
  contactId: string;
  stage: LeadStage;
  ownerId: string | null;
  score: number | null;
  temperature: LeadTemperature | null;
  nurturingStatus: NurturingStatus | null;
  nurturingNextAt: string | null;
  updatedAt: string;
}

// A hot lead, to its owner at once.
export interface LeadHotEvent extends TenantScoped {
  leadId: string;
  ownerId: string | null;
  score: number;
  reasons: string[];
}

export interface TaskEvent extends TenantScoped {
  taskId: string;
  leadId: string | null;
  ownerId: string | null;
  kind: string;
  title: string;
  status: string;
  dueAt: string | null;
}

// The task card as every process that creates or closes a task sends it.
export function taskEvent(t: { tenantId: string; id: string; leadId: string | null; ownerId: string | null; kind: string; title: string; status: string; dueAt: Date | null }): TaskEvent {
  return { tenantId: t.tenantId, taskId: t.id, leadId: t.leadId, ownerId: t.ownerId, kind: t.kind, title: t.title, status: t.status, dueAt: t.dueAt?.toISOString() ?? null };
}

export interface AppointmentUpdatedEvent extends TenantScoped {
  appointmentId: string;
  leadId: string;
  ownerId: string | null;
  kind: AppointmentKind;
  status: AppointmentStatus;
  startsAt: string;
  updatedAt: string;
}

export interface ProposalUpdatedEvent extends TenantScoped {
  proposalId: string;
  leadId: string;
  status: ProposalStatus;
  totalCents: number;
  updatedAt: string;
}

export interface ContractUpdatedEvent extends TenantScoped {
  contractId: string;
  leadId: string | null;
  status: ContractStatus;
  signers: { signerId: string; position: number; status: SignerStatus }[];
  updatedAt: string;
}

// An invoice's card (newest updatedAt wins): status, what is owed today, the collection stage.
export interface InvoiceUpdatedEvent extends TenantScoped {
  invoiceId: string;
  number: number;
  contactId: string;
  status: InvoiceStatus;
  amountCents: number;
  paidCents: number;
  amountDueTodayCents: number;
  dueDate: string;
  dunningStage: DunningStage | null;
  updatedAt: string;
}

// The invoice card as every path that changes an invoice sends it (a payment, a dunning step, issuing).
export function invoiceUpdatedEvent(
  inv: { tenantId: string; id: string; number: number; contactId: string; status: InvoiceStatus; amountCents: number; paidCents: number; dueDate: string; dunningStage: DunningStage | null; updatedAt: Date | string },
  amountDueTodayCents: number,
): InvoiceUpdatedEvent {
  return {
    tenantId: inv.tenantId,
    invoiceId: inv.id,
    number: inv.number,
    contactId: inv.contactId,
    status: inv.status,
    amountCents: inv.amountCents,
    paidCents: inv.paidCents,
    amountDueTodayCents,
    dueDate: inv.dueDate,
    dunningStage: inv.dunningStage,
    updatedAt: new Date(inv.updatedAt).toISOString(),
  };
}

// The collectors' queue item as it is created, claimed and resolved.
export interface CollectionUpdatedEvent extends TenantScoped {
  collectionId: string;
  invoiceId: string;
  contactId: string;
  status: CollectionItemStatus;
  assigneeId: string | null;
  amountDueCents: number;
  daysLate: number;
  updatedAt: string;
}

// A consortium assembly as it moves: bids taken, closed, the result published, contemplations,
// winning bids paid or disqualified, the record sealed.
export interface AssemblyUpdatedEvent extends TenantScoped {
  assemblyId: string;
  groupId: string;
  month: string;
  status: AssemblyStatus;
  liveBids: number;
  published: boolean;
  contemplatedQuotas: number[];
  updatedAt: string;
}

// A quota's card: contemplated, excluded, its plan changed by a winning bid.
export interface QuotaUpdatedEvent extends TenantScoped {
  quotaId: string;
  groupId: string;
  number: number;
  contactId: string;
  status: QuotaStatus;
  installmentCents: number;
  installmentCount: number;
  updatedAt: string;
}

// An LGPD request moved (registered, identity confirmed, a reminder as its deadline nears, done):
// ids and dates only, to the people who answer it.
export interface DataSubjectRequestUpdatedEvent extends TenantScoped {
  requestId: string;
  contactId: string;
  protocol: string;
  kind: DataSubjectRequestKind;
  status: DataSubjectRequestStatus;
  step: DataSubjectRequestStep;
  dueAt: string;
  updatedAt: string;
}

export interface RealtimeEvents {
  'message:new': MessageNewEvent;
  'message:status': MessageStatusEvent;
  'message:failed': MessageFailedEvent;
  'conversation:updated': ConversationUpdatedEvent;
  'escalation:new': EscalationNewEvent;
  'escalation:accepted': EscalationAcceptedEvent;
  'escalation:sla_breached': EscalationSlaBreachedEvent;
  'lead:updated': LeadUpdatedEvent;
  'lead:hot': LeadHotEvent;
  'task:new': TaskEvent;
  'task:updated': TaskEvent;
  'appointment:updated': AppointmentUpdatedEvent;
  'proposal:updated': ProposalUpdatedEvent;
  'contract:updated': ContractUpdatedEvent;
  'invoice:updated': InvoiceUpdatedEvent;
  'collection:updated': CollectionUpdatedEvent;
  'assembly:updated': AssemblyUpdatedEvent;
  'quota:updated': QuotaUpdatedEvent;
  'data_subject_request:updated': DataSubjectRequestUpdatedEvent;
}
export type RealtimeEventName = keyof RealtimeEvents;

export const REALTIME_EVENT_NAMES = [
  'message:new',
  'message:status',
  'message:failed',
  'conversation:updated',
  'escalation:new',
  'escalation:accepted',
  'escalation:sla_breached',
  'lead:updated',
  'lead:hot',
  'task:new',
  'task:updated',
  'appointment:updated',
  'proposal:updated',
  'contract:updated',
  'invoice:updated',
  'collection:updated',
  'assembly:updated',
  'quota:updated',
  'data_subject_request:updated',
] as const satisfies readonly RealtimeEventName[];

// --- Who receives what ------------------------------------------------------------------------
// An event reaches a socket only if its user could read the same record through REST: each kind
// goes to the roles of the routes that show it (test/realtime/audience.test.ts holds the two
// together). Guests' message texts stay with the inbox; invoices with billing; and so on.

// The inbox's staff: api/conversations/routes.ts reads and answers conversations with these.
export const CONVERSATION_ROLES = ['TENANT_ADMIN', 'MANAGER', 'ATTENDANT'] as const satisfies readonly TenantRole[];

const AUDIENCES = {
  conversations: CONVERSATION_ROLES,
  sales: SALES_ROLES,
  billing: BILLING_ROLES,
  consortium: CONSORTIUM_ROLES,
  privacy: PRIVACY_ROLES,
} as const satisfies Record<string, readonly TenantRole[]>;

const EVENT_AUDIENCE: Record<RealtimeEventName, keyof typeof AUDIENCES> = {
  'message:new': 'conversations',
  'message:status': 'conversations',
  'message:failed': 'conversations',
  'conversation:updated': 'conversations',
  'escalation:new': 'conversations',
  'escalation:accepted': 'conversations',
  'escalation:sla_breached': 'conversations',
  'lead:updated': 'sales',
  'lead:hot': 'sales',
  'task:new': 'sales',
  'task:updated': 'sales',
  'appointment:updated': 'sales',
  'proposal:updated': 'sales',
  'contract:updated': 'sales',
  'invoice:updated': 'billing',
  'collection:updated': 'billing',
  'assembly:updated': 'consortium',
  'quota:updated': 'consortium',
  'data_subject_request:updated': 'privacy',
};

// The tenant roles an event may reach; never SUPER_ADMIN, who has no tenant.
export function eventAudience(event: RealtimeEventName): readonly TenantRole[] {
  return AUDIENCES[EVENT_AUDIENCE[event]];
}

export function mayReceive(role: Role, event: RealtimeEventName): boolean {
  return (eventAudience(event) as readonly Role[]).includes(role);
}

// Conversation rooms carry message texts: only the inbox's staff may ask to follow one.
export function mayJoinConversation(role: Role): boolean {
  return (CONVERSATION_ROLES as readonly Role[]).includes(role);
}

// With connection-state recovery the server appends the stream offset as a last argument; the
// client library reads it, listeners may ignore it.
export type RealtimeServerToClientEvents = {
  [E in RealtimeEventName]: (payload: RealtimeEvents[E], offset?: string) => void;
} & {
  // Sent to one socket just before the server disconnects it: `expired` asks for a refreshed
  // token and a reconnection, `revoked` for a new login.
  'session:ended': (payload: { reason: 'expired' | 'revoked' }) => void;
};

export type RoomAck = { ok: true } | { ok: false; error: 'invalid' | 'forbidden' | 'limit' | 'unavailable' };

export interface RealtimeClientToServerEvents {
  'conversation:join': (conversationId: string, ack: (result: RoomAck) => void) => void;
  'conversation:leave': (conversationId: string, ack?: (result: RoomAck) => void) => void;
  // A refreshed access token of the same session keeps the socket open past the old one's expiry.
  'session:refresh': (accessToken: string, ack: (result: RoomAck) => void) => void;
}

// Rooms, all within one tenant. Role and user rooms are joined by the server from the verified
// token; only conversation rooms are asked for by the client, and each join is authorized. The
// emitter never sends to a whole tenant: an event goes to the role rooms of its audience (or to
// named users and conversations), and every other role's room is excluded, so a user room or a
// conversation room cannot carry an event to a role that may not read it.
export const userRoom = (tenantId: string, userId: string) => `user:${tenantId}:${userId}`;
export const roleRoom = (tenantId: string, role: Role) => `role:${tenantId}:${role}`;
export const conversationRoom = (tenantId: string, conversationId: string) => `conversation:${tenantId}:${conversationId}`;
export const isConversationRoom = (room: string) => room.startsWith('conversation:');
