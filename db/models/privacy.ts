import { Model } from 'objection';
import type { ContactCorrection, DataSubjectRequestChannel, DataSubjectRequestKind, DataSubjectRequestStatus } from '../../domain/data-subject-requests';

// LGPD data-subject requests (migration 010).
export class DataSubjectRequest extends Model {
  static override tableName = 'data_subject_requests';
  static override jsonAttributes = ['correction', 'completion', 'exportData'];
  id!: string;
  tenantId!: string;
  number!: number;
  contactId!: string;
  kind!: DataSubjectRequestKind;
  status!: DataSubjectRequestStatus;
  channel!: DataSubjectRequestChannel;
  sourceMessageId!: string | null;
  requestedByType!: string;
  requestedById!: string | null;
  requestedAt!: Date;
  dueAt!: Date;
  correction!: ContactCorrection | null;
  identityConfirmedBy!: string | null;
  identityConfirmedAt!: Date | null;
  identityNote!: string | null;
  refusedBy!: string | null;
  refusedAt!: Date | null;
  refusalReason!: string | null;
  completedAt!: Date | null;
  completion!: Record<string, unknown> | null;
  exportData!: Record<string, unknown> | null;
  exportedAt!: Date | null;
  workflowId!: string;
  createdAt!: Date;
  updatedAt!: Date;
}
