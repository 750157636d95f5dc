import { Model } from 'objection';
import type { AssemblyResult } from '../../domain/assembly-result';
import type { AssemblyRecord, LotteryCorrection, LotteryEntry } from '../../domain/assembly-record';
import type { GroupRules } from '../../domain/consortium-rules';
import type { AssemblyStatus, BidStatus, BidType, ContemplationKind, ContemplationStatus, GroupStatus, QuotaStatus } from '../../domain/consortium-statuses';
import type { Actor } from '../../domain/actor';
import { dateOnly } from '../../domain/contract-template';

// Consortium's tables (005_consortium). Centavos and percentages read as numbers, dates as
// YYYY-MM-DD (pg hands int8/numeric as strings and a date as a local-midnight Date).
function fromDb(json: Record<string, unknown>, numbers: readonly string[], dates: readonly string[] = []): Record<string, unknown> {
  for (const c of numbers) if (typeof json[c] === 'string') json[c] = Number(json[c]);
  for (const c of dates) if (json[c] != null) json[c] = dateOnly(json[c]);
  return json;
}

export class ConsortiumGroup extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['creditCents', 'adminFeePercent', 'reserveFundPercent']);
  }
  static override tableName = 'consortium_groups';
  id!: string;
  tenantId!: string;
  code!: string;
  name!: string;
  status!: GroupStatus;
  creditCents!: number;
  termMonths!: number;
  adminFeePercent!: number;
  reserveFundPercent!: number;
  quotaCount!: number;
  assemblyDay!: number;
  installmentDueDay!: number;
  firstAssemblyMonth!: string;
  scheduleId!: string;
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class ConsortiumRuleVersion extends Model {
  static override tableName = 'consortium_rule_versions';
  static override get jsonAttributes() {
    return ['rules'];
  }
  id!: string;
  tenantId!: string;
  groupId!: string;
  version!: number;
  rules!: GroupRules;
  note!: string | null;
  publishedBy!: string | null;
  publishedAt!: Date;
}

export class ConsortiumQuota extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['installmentCents', 'lastInstallmentCents', 'creditReleasedCents', 'restitutionCents'], ['joinedOn']);
  }
  static override tableName = 'consortium_quotas';
  id!: string;
  tenantId!: string;
  groupId!: string;
  number!: number;
  contactId!: string;
  status!: QuotaStatus;
  installmentCents!: number;
  installmentCount!: number;
  lastInstallmentCents!: number | null;
  installmentsIssued!: number;
  joinedOn!: string;
  contemplatedAt!: Date | null;
  contemplatedAssemblyId!: string | null;
  creditReleasedCents!: number | null;
  excludedAt!: Date | null;
  exclusionReason!: string | null;
  restitutedAt!: Date | null;
  restitutionCents!: number | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class ConsortiumInstallment extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['commonFundCents', 'adminFeeCents', 'reserveFundCents']);
  }
  static override tableName = 'consortium_installments';
  static override idColumn = 'invoiceId';
  tenantId!: string;
  invoiceId!: string;
  groupId!: string;
  quotaId!: string;
  sequence!: number;
  month!: string;
  commonFundCents!: number;
  adminFeeCents!: number;
  reserveFundCents!: number;
  createdAt!: Date;
}

export class ConsortiumAssembly extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), [], ['assemblyDate', 'extractionDate']);
  }
  static override tableName = 'consortium_assemblies';
  static override get jsonAttributes() {
    return ['lottery', 'lotteryCorrections', 'result', 'record'];
  }
  id!: string;
  tenantId!: string;
  groupId!: string;
  month!: string;
  status!: AssemblyStatus;
  workflowId!: string;
  ruleVersion!: number;
  assemblyDate!: string;
  extractionDate!: string;
  biddingClosesAt!: Date;
  lottery!: LotteryEntry | null;
  lotteryCorrections!: LotteryCorrection[];
  publishedAt!: Date | null;
  result!: AssemblyResult | null;
  record!: AssemblyRecord | null;
  recordSha256!: string | null;
  closedAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class ConsortiumBid extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['percent', 'amountCents']);
  }
  static override tableName = 'consortium_bids';
  static override get jsonAttributes() {
    return ['placedBy'];
  }
  id!: string;
  tenantId!: string;
  assemblyId!: string;
  quotaId!: string;
  quotaNumber!: number;
  type!: BidType;
  percent!: number;
  amountCents!: number;
  status!: BidStatus;
  reason!: string | null;
  placedBy!: Actor;
  placedAt!: Date;
  updatedAt!: Date;
}

export class ConsortiumContemplation extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['creditCents', 'restitutionCents', 'fromReserveCents', 'bidPaidCents']);
  }
  static override tableName = 'consortium_contemplations';
  id!: string;
  tenantId!: string;
  assemblyId!: string;
  groupId!: string;
  quotaId!: string;
  quotaNumber!: number;
  kind!: ContemplationKind;
  status!: ContemplationStatus;
  bidId!: string | null;
  creditCents!: number;
  restitutionCents!: number;
  fromReserveCents!: number;
  bidPaidCents!: number;
  paymentDueAt!: Date | null;
  paidAt!: Date | null;
  disqualifiedAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}
