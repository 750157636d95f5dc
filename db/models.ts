import { Model } from 'objection';
import type { Role } from '../domain/roles';
import type { TenantSettings } from '../domain/tenant-settings';

export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'failed';

export class Tenant extends Model {
  static override tableName = 'tenants';
  id!: string;
  slug!: string;
  name!: string;
  plan!: string;
  status!: TenantStatus;
  failureReason!: string | null;
  provisioningWorkflowId!: string;
  createdAt!: Date;
  updatedAt!: Date;
  provisionedAt!: Date | null;
}

export class TenantSettingsRow extends Model {
  static override tableName = 'tenant_settings';
  static override idColumn = 'tenantId';
  static override jsonAttributes = ['settings'];
  tenantId!: string;
  settings!: TenantSettings;
  updatedAt!: Date;
}

export class User extends Model {
  static override tableName = 'users';
  id!: string;
  tenantId!: string | null;
  email!: string;
  name!: string;
  role!: Role;
  passwordHash!: string;
  active!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
  lastLoginAt!: Date | null;
}

export class RefreshToken extends Model {
  static override tableName = 'refresh_tokens';
  id!: string;
  tenantId!: string | null;
  userId!: string;
  familyId!: string;
  tokenHash!: string;
  createdAt!: Date;
  expiresAt!: Date;
  usedAt!: Date | null;
  replacedBy!: string | null;
  revokedAt!: Date | null;
}

export class ApiKey extends Model {
  static override tableName = 'api_keys';
  id!: string;
  tenantId!: string;
  name!: string;
  keyHash!: string;
  scopes!: string[];
  createdBy!: string | null;
  createdAt!: Date;
  expiresAt!: Date | null;
  revokedAt!: Date | null;
  lastUsedAt!: Date | null;
}

export class WhatsAppChannel extends Model {
  static override tableName = 'whatsapp_channels';
  id!: string;
  tenantId!: string;
  phoneNumberId!: string;
  wabaId!: string;
  displayPhoneNumber!: string | null;
  verifiedName!: string | null;
  accessTokenSealed!: string;
  metaAppId!: string | null;
  verifiedAt!: Date | null;
  createdAt!: Date;
}

export class AuditEvent extends Model {
  static override tableName = 'audit_events';
  static override jsonAttributes = ['details'];
  id!: string;
  tenantId!: string | null;
  occurredAt!: Date;
  actorType!: 'user' | 'api_key' | 'system';
  actorId!: string | null;
  action!: string;
  entityType!: string;
  entityId!: string | null;
  requestId!: string | null;
  workflowId!: string | null;
  details!: Record<string, unknown>;
}

export type ConversationStatus = 'ai' | 'escalated' | 'assigned' | 'closed';

export class Contact extends Model {
  static override tableName = 'contacts';
  id!: string;
  tenantId!: string;
  waId!: string | null;
  userId!: string | null;
  profileName!: string | null;
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
  direction!: 'inbound' | 'outbound' | 'internal';
  senderType!: 'contact' | 'ai' | 'user' | 'automation' | 'system';
  senderId!: string | null;
  type!: string;
  body!: string;
  payload!: Record<string, unknown>;
  wamid!: string | null;
  status!: string;
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
  status!: 'waiting' | 'accepted' | 'resolved' | 'cancelled';
  reason!: string;
  intent!: string | null;
  requestedByType!: string;
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

export class FaqEntry extends Model {
  static override tableName = 'faq_entries';
  id!: string;
  tenantId!: string;
  question!: string;
  answer!: string;
  keywords!: string[];
  position!: number;
  createdAt!: Date;
}

export class AiSettingsRow extends Model {
  static override tableName = 'ai_settings';
  static override idColumn = 'tenantId';
  tenantId!: string;
  apiKeySealed!: string | null;
  baseUrl!: string | null;
  model!: string | null;
  systemPrompt!: string | null;
  enabled!: boolean;
  updatedAt!: Date;
}

export class AutomationEndpoint extends Model {
  static override tableName = 'automation_endpoints';
  static override idColumn = 'tenantId';
  tenantId!: string;
  url!: string;
  secretSealed!: string;
  events!: string[];
  active!: boolean;
  updatedAt!: Date;
}

export class MetaApp extends Model {
  static override tableName = 'meta_apps';
  id!: string;
  tenantId!: string;
  appId!: string;
  appSecretSealed!: string;
  verifyTokenSealed!: string;
  createdAt!: Date;
  updatedAt!: Date;
}
