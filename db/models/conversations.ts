import { Model } from 'objection';
import type {
  ConversationStatus,
  EscalationRequesterType,
  EscalationStatus,
  MessageDirection,
  MessageSenderType,
  MessageStatus,
} from '../../domain/conversation-statuses';

// The conversation process's tables: contacts, conversations, their messages and escalations, and
// downloaded media.

export class Contact extends Model {
  static override tableName = 'contacts';
  id!: string;
  tenantId!: string;
  waId!: string | null;
  userId!: string | null;
  profileName!: string | null;
  // Added by 003_sales: what staff or a form knows of the person.
  name!: string | null;
  email!: string | null;
  // Added by 004_billing: the CPF/CNPJ, SP's "Não me Ligue" flag, the delinquency mark.
  document!: string | null;
  doNotContact!: boolean;
  doNotContactReason!: string | null;
  doNotContactAt!: Date | null;
  delinquentSince!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class Conversation extends Model {
  static override tableName = 'conversations';
  id!: string;
  tenantId!: string;
  contactId!: string;
  channelId!: string;
  workflowId!: string;
  status!: ConversationStatus;
  iaLocked!: boolean;
  assigneeId!: string | null;
  team!: string | null;
  intent!: string | null;
  lastMessageAt!: Date | null;
  lastInboundAt!: Date | null;
  lastMessagePreview!: string | null;
  unreadCount!: number;
  openedAt!: Date;
  closedAt!: Date | null;
  closeReason!: string | null;
  updatedAt!: Date;
}

export class Message extends Model {
  static override tableName = 'messages';
  static override jsonAttributes = ['payload', 'error'];
  id!: string;
  seq!: string; // bigint
  tenantId!: string;
  conversationId!: string;
  contactId!: string;
  direction!: MessageDirection;
  senderType!: MessageSenderType;
  senderId!: string | null;
  type!: string;
  body!: string;
  payload!: Record<string, unknown>;
  wamid!: string | null;
  status!: MessageStatus;
  error!: Record<string, unknown> | null;
  mediaId!: string | null;
  contextWamid!: string | null;
  occurredAt!: Date;
  createdAt!: Date;
  statusAt!: Date | null;
  sendAttemptedAt!: Date | null;
}

export class Escalation extends Model {
  static override tableName = 'escalations';
  id!: string;
  tenantId!: string;
  conversationId!: string;
  status!: EscalationStatus;
  reason!: string;
  intent!: string | null;
  requestedByType!: EscalationRequesterType;
  requestedById!: string | null;
  team!: string | null;
  slaDueAt!: Date | null;
  slaBreaches!: number;
  outOfHours!: boolean;
  createdAt!: Date;
  acceptedAt!: Date | null;
  acceptedBy!: string | null;
  resolvedAt!: Date | null;
}

export class MediaFile extends Model {
  static override tableName = 'media';
  id!: string;
  tenantId!: string;
  metaMediaId!: string;
  mimeType!: string;
  sha256!: string;
  sizeBytes!: number;
  filename!: string | null;
  storageKey!: string;
  createdAt!: Date;
}
