import { Model } from 'objection';
import type {
  AppointmentKind,
  AppointmentStatus,
  BillingHandoffStatus,
  ConsentAction,
  ConsentChannel,
  ConsentPurpose,
  ContractEventType,
  ContractStatus,
  LeadEventType,
  LeadSource,
  LeadStage,
  LeadTemperature,
  NurturingStatus,
  OfferingKind,
  ProposalStatus,
  SignerStatus,
  SigningOrder,
  TaskKind,
  TaskStatus,
} from '../../domain/sales-statuses';

// The sales funnel's tables (003_sales): offerings, consent, leads and their timeline, cadences,
// tasks, appointments, proposals, contracts with signers, documents and evidence, billing hand-off.
// Centavos are bigint (a property can cost more than 2^31 centavos); pg hands int8 over as a
// string, so the models read them as numbers (exact up to 2^53, R$ 90 trillion).
function centsFromDb<T extends Record<string, unknown>>(json: T, columns: readonly string[]): T {
  for (const c of columns) if (typeof json[c] === 'string') (json as Record<string, unknown>)[c] = Number(json[c]);
  return json;
}

export class Offering extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return centsFromDb(super.$parseDatabaseJson(json), ['priceCents']);
  }
  static override tableName = 'offerings';
  static override jsonAttributes = ['attributes'];
  id!: string;
  tenantId!: string;
  kind!: OfferingKind;
  code!: string | null;
  title!: string;
  description!: string;
  priceCents!: number | null;
  attributes!: Record<string, unknown>;
  active!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
}

export class ConsentEvent extends Model {
  static override tableName = 'consent_events';
  static override jsonAttributes = ['evidence'];
  id!: string;
  seq!: string;
  tenantId!: string;
  contactId!: string;
  purpose!: ConsentPurpose;
  action!: ConsentAction;
  channel!: ConsentChannel;
  textVersion!: string | null;
  evidence!: Record<string, unknown>;
  recordedByType!: string;
  recordedById!: string | null;
  occurredAt!: Date;
}


export class Cadence extends Model {
  static override tableName = 'cadences';
  id!: string;
  tenantId!: string;
  name!: string;
  currentVersion!: number;
  isDefault!: boolean;
  active!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
}

export class CadenceVersion extends Model {
  static override tableName = 'cadence_versions';
  static override idColumn = ['cadenceId', 'version'];
  static override jsonAttributes = ['steps'];
  tenantId!: string;
  cadenceId!: string;
  version!: number;
  steps!: unknown;
  createdAt!: Date;
  createdBy!: string | null;
}

export class Lead extends Model {
  static override tableName = 'leads';
  static override jsonAttributes = ['scoreReasons'];
  id!: string;
  tenantId!: string;
  contactId!: string;
  offeringId!: string | null;
  interest!: string;
  interestKey!: string;
  source!: LeadSource;
  sourceDetail!: string | null;
  stage!: LeadStage;
  ownerId!: string | null;
  score!: number | null;
  temperature!: LeadTemperature | null;
  scoreReasons!: string[];
  nurturingStatus!: NurturingStatus | null;
  nurturingNextAt!: Date | null;
  cadenceId!: string | null;
  cadenceVersion!: number | null;
  workflowId!: string;
  lostReason!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
  stageChangedAt!: Date;
  closedAt!: Date | null;
}

export class LeadEvent extends Model {
  static override tableName = 'lead_events';
  static override jsonAttributes = ['data'];
  id!: string;
  seq!: string;
  tenantId!: string;
  leadId!: string;
  type!: LeadEventType;
  data!: Record<string, unknown>;
  actorType!: string;
  actorId!: string | null;
  occurredAt!: Date;
}

export class LeadForm extends Model {
  static override tableName = 'lead_forms';
  id!: string;
  tenantId!: string;
  name!: string;
  keyPrefix!: string;
  keyHash!: string;
  consentTextVersion!: string | null;
  active!: boolean;
  createdAt!: Date;
}

export class SalesCapacity extends Model {
  static override tableName = 'sales_capacities';
  static override idColumn = ['tenantId', 'userId'];
  tenantId!: string;
  userId!: string;
  maxOpenLeads!: number;
}

export class Task extends Model {
  static override tableName = 'tasks';
  id!: string;
  tenantId!: string;
  leadId!: string | null;
  ownerId!: string | null;
  kind!: TaskKind;
  title!: string;
  status!: TaskStatus;
  dueAt!: Date | null;
  workflowId!: string | null;
  createdAt!: Date;
  completedAt!: Date | null;
  completedBy!: string | null;
  outcome!: string | null;
}

export class Appointment extends Model {
  static override tableName = 'appointments';
  id!: string;
  tenantId!: string;
  leadId!: string;
  contactId!: string;
  ownerId!: string | null;
  offeringId!: string | null;
  kind!: AppointmentKind;
  status!: AppointmentStatus;
  startsAt!: Date;
  endsAt!: Date;
  location!: string | null;
  notes!: string | null;
  rescheduleCount!: number;
  outcomeNote!: string | null;
  workflowId!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export interface ProposalItem {
  offeringId: string | null;
  description: string;
  quantity: number;
  unitPriceCents: number;
  discountCents: number;
  totalCents: number;
}

export class Proposal extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return centsFromDb(super.$parseDatabaseJson(json), ['subtotalCents', 'discountCents', 'totalCents']);
  }
  static override tableName = 'proposals';
  static override jsonAttributes = ['items', 'decisionEvidence'];
  id!: string;
  tenantId!: string;
  leadId!: string;
  contactId!: string;
  number!: number;
  status!: ProposalStatus;
  items!: ProposalItem[];
  subtotalCents!: number;
  discountCents!: number;
  totalCents!: number;
  validUntil!: string;
  notes!: string | null;
  linkTokenHash!: string | null;
  decidedAt!: Date | null;
  decidedByType!: string | null;
  decidedById!: string | null;
  decisionReason!: string | null;
  decisionEvidence!: Record<string, unknown> | null;
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class ContractTemplate extends Model {
  static override tableName = 'contract_templates';
  id!: string;
  tenantId!: string;
  name!: string;
  version!: number;
  title!: string;
  body!: string;
  isDefault!: boolean;
  createdAt!: Date;
}

export class Contract extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return centsFromDb(super.$parseDatabaseJson(json), ['totalCents']);
  }
  static override tableName = 'contracts';
  static override jsonAttributes = ['billingTerms'];
  id!: string;
  tenantId!: string;
  proposalId!: string | null;
  leadId!: string | null;
  contactId!: string;
  templateId!: string | null;
  number!: number;
  title!: string;
  status!: ContractStatus;
  signingOrder!: SigningOrder;
  totalCents!: number;
  billingTerms!: Record<string, unknown>;
  originalSha256!: string | null;
  finalSha256!: string | null;
  workflowId!: string;
  expiresAt!: Date | null;
  sentAt!: Date | null;
  signedAt!: Date | null;
  activatedAt!: Date | null;
  endedAt!: Date | null;
  endReason!: string | null;
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class ContractDocument extends Model {
  static override tableName = 'contract_documents';
  id!: string;
  tenantId!: string;
  contractId!: string;
  kind!: 'original' | 'final';
  sha256!: string;
  sizeBytes!: number;
  content!: Buffer;
  createdAt!: Date;
}

export class ContractSigner extends Model {
  static override tableName = 'contract_signers';
  id!: string;
  tenantId!: string;
  contractId!: string;
  position!: number;
  name!: string;
  waId!: string;
  email!: string | null;
  document!: string | null;
  role!: string;
  status!: SignerStatus;
  linkTokenHash!: string | null;
  linkExpiresAt!: Date | null;
  codeHash!: string | null;
  codeExpiresAt!: Date | null;
  codeAttempts!: number;
  codeSentAt!: Date | null;
  notifiedAt!: Date | null;
  viewedAt!: Date | null;
  signedAt!: Date | null;
  signedIp!: string | null;
  signedUserAgent!: string | null;
  signedDocumentSha256!: string | null;
  declinedAt!: Date | null;
  declineReason!: string | null;
}

export class ContractEvent extends Model {
  static override tableName = 'contract_events';
  static override jsonAttributes = ['data'];
  id!: string;
  seq!: string;
  tenantId!: string;
  contractId!: string;
  signerId!: string | null;
  type!: ContractEventType;
  ip!: string | null;
  userAgent!: string | null;
  documentSha256!: string | null;
  data!: Record<string, unknown>;
  occurredAt!: Date;
  prevHash!: string | null;
  hash!: string;
}

export class BillingHandoff extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return centsFromDb(super.$parseDatabaseJson(json), ['totalCents']);
  }
  static override tableName = 'billing_handoffs';
  static override idColumn = 'contractId';
  static override jsonAttributes = ['terms', 'billingReference'];
  tenantId!: string;
  contractId!: string;
  status!: BillingHandoffStatus;
  totalCents!: number;
  terms!: Record<string, unknown>;
  billingReference!: Record<string, unknown> | null;
  requestedAt!: Date;
  startedAt!: Date | null;
  cancelledAt!: Date | null;
}
