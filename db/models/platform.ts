import { Model } from 'objection';
import type { ActorType } from '../../domain/actor';
import type { Role } from '../../domain/roles';
import type { TenantStatus } from '../../domain/tenant-statuses';
import type { TenantSettings } from '../../domain/tenant-settings';

// The platform's tables: tenants and their settings, people and their sessions, automation API keys
// and the audit log.

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

export class AuditEvent extends Model {
  static override tableName = 'audit_events';
  static override jsonAttributes = ['details'];
  id!: string;
  tenantId!: string | null;
  occurredAt!: Date;
  actorType!: ActorType;
  actorId!: string | null;
  action!: string;
  entityType!: string;
  entityId!: string | null;
  requestId!: string | null;
  workflowId!: string | null;
  details!: Record<string, unknown>;
}
