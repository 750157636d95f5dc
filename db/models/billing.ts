import { Model } from 'objection';
import type {
  BillingCycle,
  BillingType,
  ChargeStatus,
  CollectionItemStatus,
  CollectionOutcome,
  ConsequenceTarget,
  DunningConsequence,
  DunningEventType,
  DunningStage,
  GatewayEnvironment,
  GatewayProvider,
  InvoiceOrigin,
  InvoiceStatus,
  PaymentKind,
  PaymentMethod,
  PaymentSource,
  PayoutStatus,
  SubscriptionStatus,
} from '../../domain/billing-statuses';
import { dateOnly } from '../../domain/contract-template';

// Billing's tables (004_billing). pg hands int8 and numeric over as strings and a `date` as a
// local-midnight Date: the models read centavos and percentages as numbers and dates as
// YYYY-MM-DD, the shape domain/late-charges.ts takes.
function fromDb(json: Record<string, unknown>, numbers: readonly string[], dates: readonly string[] = []): Record<string, unknown> {
  for (const c of numbers) if (typeof json[c] === 'string') json[c] = Number(json[c]);
  for (const c of dates) if (json[c] != null) json[c] = dateOnly(json[c]);
  return json;
}

export class GatewayAccount extends Model {
  static override tableName = 'billing_gateway_accounts';
  id!: string;
  tenantId!: string;
  provider!: GatewayProvider;
  environment!: GatewayEnvironment;
  apiKeySealed!: string;
  webhookTokenSealed!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export class GatewayCustomer extends Model {
  static override tableName = 'gateway_customers';
  static override idColumn = ['contactId', 'provider'];
  tenantId!: string;
  contactId!: string;
  provider!: GatewayProvider;
  externalId!: string;
  createdAt!: Date;
}

export class Subscription extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['amountCents', 'firstAmountCents', 'finePercent', 'monthlyInterestPercent', 'agencyFeePercent'], ['firstDueDate', 'nextDueDate']);
  }
  static override tableName = 'subscriptions';
  id!: string;
  tenantId!: string;
  contactId!: string;
  contractId!: string | null;
  description!: string;
  amountCents!: number;
  // The first invoice's amount when it differs (a split total's remainder); added by 004's helper C block.
  firstAmountCents!: number | null;
  idempotencyKey!: string | null;
  cycle!: BillingCycle;
  billingType!: BillingType;
  finePercent!: number;
  monthlyInterestPercent!: number;
  firstDueDate!: string;
  nextDueDate!: string;
  nextSequence!: number;
  maxInvoices!: number | null;
  issueDaysBeforeDue!: number;
  status!: SubscriptionStatus;
  scheduleId!: string;
  serviceSuspended!: boolean;
  ownerName!: string | null;
  ownerDocument!: string | null;
  ownerPixKey!: string | null;
  agencyFeePercent!: number | null;
  payoutDay!: number | null;
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
  pausedAt!: Date | null;
  endedAt!: Date | null;
  endReason!: string | null;
}

export class Invoice extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['amountCents', 'paidCents', 'finePercent', 'monthlyInterestPercent'], ['dueDate']);
  }
  static override tableName = 'invoices';
  id!: string;
  tenantId!: string;
  number!: number;
  contactId!: string;
  origin!: InvoiceOrigin;
  originId!: string | null;
  subscriptionId!: string | null;
  sequence!: number | null;
  renegotiatedFrom!: string | null;
  description!: string;
  amountCents!: number;
  dueDate!: string;
  finePercent!: number;
  monthlyInterestPercent!: number;
  billingType!: BillingType;
  status!: InvoiceStatus;
  paidCents!: number;
  paidAt!: Date | null;
  overdueAt!: Date | null;
  cancelledAt!: Date | null;
  cancelReason!: string | null;
  dunningStage!: DunningStage | null;
  workflowId!: string;
  // Added by 004's helper C block: the automation's Idempotency-Key of a manual invoice.
  idempotencyKey!: string | null;
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class GatewayCharge extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['valueCents'], ['dueDate']);
  }
  static override tableName = 'gateway_charges';
  id!: string;
  tenantId!: string;
  invoiceId!: string;
  provider!: GatewayProvider;
  externalId!: string;
  status!: ChargeStatus;
  current!: boolean;
  valueCents!: number;
  dueDate!: string;
  invoiceUrl!: string | null;
  bankSlipUrl!: string | null;
  boletoLine!: string | null;
  pixPayload!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export class Payment extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['amountCents'], ['paidOn']);
  }
  static override tableName = 'payments';
  id!: string;
  tenantId!: string;
  invoiceId!: string;
  kind!: PaymentKind;
  amountCents!: number;
  paidOn!: string;
  method!: PaymentMethod;
  source!: PaymentSource;
  gatewayChargeId!: string | null;
  externalKey!: string | null;
  dunningStage!: DunningStage | null;
  note!: string | null;
  recordedBy!: string | null;
  createdAt!: Date;
}

export class GatewayEvent extends Model {
  static override tableName = 'gateway_events';
  static override jsonAttributes = ['payload', 'deliveryPlan'];
  id!: string;
  tenantId!: string;
  accountId!: string;
  eventId!: string;
  event!: string;
  externalChargeId!: string | null;
  payload!: Record<string, unknown>;
  result!: string | null;
  // Added by the gateway helper: the deliveries still owed for this event (api/payments/deliveries.ts).
  deliveryPlan!: Record<string, unknown> | null;
  receivedAt!: Date;
  appliedAt!: Date | null;
}

export class DunningEvent extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['seq', 'amountDueCents']);
  }
  static override tableName = 'dunning_events';
  static override jsonAttributes = ['data'];
  id!: string;
  seq!: number;
  tenantId!: string;
  invoiceId!: string;
  type!: DunningEventType;
  stage!: DunningStage | null;
  stepKey!: string | null;
  amountDueCents!: number | null;
  data!: Record<string, unknown>;
  occurredAt!: Date;
}

export class CollectionItem extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['amountDueCents']);
  }
  static override tableName = 'collection_items';
  id!: string;
  tenantId!: string;
  invoiceId!: string;
  contactId!: string;
  status!: CollectionItemStatus;
  assigneeId!: string | null;
  amountDueCents!: number;
  daysLate!: number;
  note!: string | null;
  outcome!: CollectionOutcome | null;
  createdAt!: Date;
  updatedAt!: Date;
  resolvedAt!: Date | null;
}

export class DunningConsequenceRow extends Model {
  static override tableName = 'dunning_consequences';
  id!: string;
  tenantId!: string;
  invoiceId!: string;
  kind!: DunningConsequence;
  targetType!: ConsequenceTarget;
  targetId!: string;
  appliedAt!: Date;
  liftedAt!: Date | null;
}

export class OwnerPayout extends Model {
  override $parseDatabaseJson(json: Record<string, unknown>) {
    return fromDb(super.$parseDatabaseJson(json), ['grossCents', 'feePercent', 'feeCents', 'netCents'], ['dueDate']);
  }
  static override tableName = 'owner_payouts';
  id!: string;
  tenantId!: string;
  invoiceId!: string;
  subscriptionId!: string | null;
  ownerName!: string;
  ownerDocument!: string;
  ownerPixKey!: string | null;
  referenceMonth!: string;
  grossCents!: number;
  feePercent!: number;
  feeCents!: number;
  netCents!: number;
  dueDate!: string;
  status!: PayoutStatus;
  paidAt!: Date | null;
  paidBy!: string | null;
  cancelledAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}
