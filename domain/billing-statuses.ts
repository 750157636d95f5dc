// Billing and dunning's lists (ConectCRM's Fatura/Pagamento/Assinatura, the consortium seed's
// mensalidades and inadimplência, the real-estate seed's rent and repasse). The zod enums, the
// models' field types, the workflows' states and the migration's CHECKs all read these.

// Where an invoice comes from: a signed contract, a subscription without a contract, a consortium
// quota's installment (issue 10), or staff by hand. A renegotiation's invoices keep their origin.
export const INVOICE_ORIGINS = ['contract', 'subscription', 'consortium_quota', 'manual'] as const;
export type InvoiceOrigin = (typeof INVOICE_ORIGINS)[number];

// open → paid | overdue → paid; any unpaid one → cancelled | renegotiated. A refund reopens a paid one.
export const INVOICE_STATUSES = ['open', 'overdue', 'paid', 'cancelled', 'renegotiated'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export const SETTLED_INVOICE_STATUSES = ['paid', 'cancelled', 'renegotiated'] as const satisfies readonly InvoiceStatus[];
export const UNPAID_INVOICE_STATUSES = ['open', 'overdue'] as const satisfies readonly InvoiceStatus[];

// Asaas's billingType: UNDEFINED lets the customer choose boleto or PIX on the invoice page.
export const BILLING_TYPES = ['BOLETO', 'PIX', 'UNDEFINED'] as const;
export type BillingType = (typeof BILLING_TYPES)[number];

// Asaas's subscription cycles.
export const BILLING_CYCLES = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'SEMIANNUALLY', 'YEARLY'] as const;
export type BillingCycle = (typeof BILLING_CYCLES)[number];

export const SUBSCRIPTION_STATUSES = ['active', 'paused', 'ended'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const PAYMENT_KINDS = ['payment', 'refund'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];
export const PAYMENT_METHODS = ['boleto', 'pix', 'credit_card', 'transfer', 'cash', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export const PAYMENT_SOURCES = ['gateway', 'manual'] as const;
export type PaymentSource = (typeof PAYMENT_SOURCES)[number];

export const GATEWAY_PROVIDERS = ['asaas'] as const;
export type GatewayProvider = (typeof GATEWAY_PROVIDERS)[number];
export const GATEWAY_ENVIRONMENTS = ['sandbox', 'production'] as const;
export type GatewayEnvironment = (typeof GATEWAY_ENVIRONMENTS)[number];

// A charge at the gateway, as its webhooks move it (Asaas payment statuses, simplified).
export const CHARGE_STATUSES = ['pending', 'confirmed', 'received', 'overdue', 'refunded', 'partially_refunded', 'deleted'] as const;
export type ChargeStatus = (typeof CHARGE_STATUSES)[number];

// The gateway events this platform applies; any other is stored and acknowledged, then ignored.
export const APPLIED_GATEWAY_EVENTS = [
  'PAYMENT_CONFIRMED',
  'PAYMENT_RECEIVED',
  'PAYMENT_OVERDUE',
  'PAYMENT_REFUNDED',
  'PAYMENT_PARTIALLY_REFUNDED',
  'PAYMENT_DELETED',
] as const;
export type AppliedGatewayEvent = (typeof APPLIED_GATEWAY_EVENTS)[number];

// Kobana's stages (initial / reminder / warning / final / suspended), in the order a run walks them.
export const DUNNING_STAGES = [
  'upcoming', // before the due date: reminders
  'due', // the due date (and its grace, to the next business day)
  'overdue', // notices with the updated amount
  'escalated', // a person in the collectors' queue
  'final_notice',
  'exhausted', // the tenant's consequence applied; waits for payment
  'promised', // paused until a promised date
  'paid',
  'cancelled',
  'renegotiated',
] as const;
export type DunningStage = (typeof DUNNING_STAGES)[number];
export const ENDED_DUNNING_STAGES = ['paid', 'cancelled', 'renegotiated'] as const satisfies readonly DunningStage[];

// What the tenant has happen when the notices are exhausted (Kill Bill's overdue effects).
export const DUNNING_CONSEQUENCES = ['none', 'suspend_service', 'mark_delinquent', 'count_toward_exclusion'] as const;
export type DunningConsequence = (typeof DUNNING_CONSEQUENCES)[number];
// What a consequence lands on: the subscription suspended, the contact marked, the quota counted.
export const CONSEQUENCE_TARGETS = ['subscription', 'contact', 'consortium_quota', 'invoice'] as const;
export type ConsequenceTarget = (typeof CONSEQUENCE_TARGETS)[number];

// The invoice's collection timeline.
export const DUNNING_EVENT_TYPES = [
  'started',
  'reminder_sent',
  'notice_sent',
  'final_notice_sent',
  'message_skipped', // do-not-contact, no channel, creditor missing, refused by Meta
  'window_wait', // outside the collection window: waits for the next opening
  'overdue',
  'escalated',
  'consequence_applied',
  'consequence_lifted',
  'payment',
  'refund',
  'promise_made',
  'promise_kept',
  'promise_broken',
  'renegotiated',
  'cancelled',
  'paid',
  'reopened',
  'exhausted',
] as const;
export type DunningEventType = (typeof DUNNING_EVENT_TYPES)[number];

export const COLLECTION_ITEM_STATUSES = ['open', 'claimed', 'resolved'] as const;
export type CollectionItemStatus = (typeof COLLECTION_ITEM_STATUSES)[number];
export const COLLECTION_OUTCOMES = ['paid', 'promised', 'renegotiated', 'unreachable', 'disputed', 'other'] as const;
export type CollectionOutcome = (typeof COLLECTION_OUTCOMES)[number];

export const PAYOUT_STATUSES = ['due', 'paid', 'cancelled'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

// Receivables aging (days past the original due date of what is still open).
export const AGING_BUCKETS = ['current', '1-30', '31-60', '61-90', '90+'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

// Collection contact windows: the common safe rule and the state laws in the notes (SP Lei
// 15.426/2014, RJ, ES, AM, AL), or the tenant's own hours.
export const COLLECTION_WINDOW_PRESETS = ['padrao', 'SP', 'RJ', 'ES', 'AM', 'AL', 'custom'] as const;
export type CollectionWindowPreset = (typeof COLLECTION_WINDOW_PRESETS)[number];
