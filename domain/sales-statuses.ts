// The sales funnel's lists (ConectCRM's Cliente → Oportunidade → Proposta → Contrato → Fatura, with
// a property or a vehicle as the object of interest). The zod enums, the models' field types, the
// workflows' states and the migration's CHECKs all read these.

// What a tenant sells: a property (Imobiliária 360), a vehicle (the dealership ERP), a plan
// (consórcio, subscriptions) or a service.
export const OFFERING_KINDS = ['property', 'vehicle', 'plan', 'service'] as const;
export type OfferingKind = (typeof OFFERING_KINDS)[number];

export const LEAD_SOURCES = ['website_form', 'portal', 'whatsapp', 'walk_in', 'automation', 'staff'] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];

export const LEAD_STAGES = ['new', 'contacted', 'qualified', 'visit', 'proposal', 'won', 'lost'] as const;
export type LeadStage = (typeof LEAD_STAGES)[number];
export const CLOSED_LEAD_STAGES = ['won', 'lost'] as const satisfies readonly LeadStage[];
export const OPEN_LEAD_STAGES = LEAD_STAGES.filter((s) => !(CLOSED_LEAD_STAGES as readonly string[]).includes(s));

export const LEAD_TEMPERATURES = ['hot', 'warm', 'cold'] as const;
export type LeadTemperature = (typeof LEAD_TEMPERATURES)[number];

// What the lead's timeline records besides messages, appointments and consent.
export const LEAD_EVENT_TYPES = [
  'created',
  'joined', // a duplicate arrival joined this open lead
  'scored',
  'assigned',
  'stage_changed',
  'cadence_enrolled',
  'cadence_step',
  'cadence_paused',
  'cadence_resumed',
  'cadence_skipped',
  'cadence_stopped',
  'cadence_completed',
  'marketing_blocked',
  'note',
] as const;
export type LeadEventType = (typeof LEAD_EVENT_TYPES)[number];

// LGPD art. 8: who consented, when, through which channel, to which text, for which purpose.
export const CONSENT_PURPOSES = ['marketing', 'service_messages', 'data_sharing'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export const CONSENT_ACTIONS = ['granted', 'withdrawn'] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];
export const CONSENT_CHANNELS = ['whatsapp', 'web_form', 'api', 'in_person', 'automation', 'meta_opt_out'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

// Nurturing: one enrolment per lead, frozen on its cadence version.
export const NURTURING_STATUSES = ['running', 'paused', 'waiting_task', 'waiting_template', 'stopped', 'cold'] as const;
export type NurturingStatus = (typeof NURTURING_STATUSES)[number];
export const NURTURING_STOP_REASONS = ['replied', 'won', 'lost', 'opted_out', 'no_consent', 'marketing_blocked', 'cancelled'] as const;
export type NurturingStopReason = (typeof NURTURING_STOP_REASONS)[number];

export const TASK_KINDS = ['call', 'follow_up'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const TASK_STATUSES = ['open', 'done', 'expired', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const APPOINTMENT_KINDS = ['visit', 'test_drive', 'meeting'] as const;
export type AppointmentKind = (typeof APPOINTMENT_KINDS)[number];
export const APPOINTMENT_STATUSES = ['scheduled', 'confirmed', 'cancelled', 'attended', 'no_show'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];
export const OPEN_APPOINTMENT_STATUSES = ['scheduled', 'confirmed'] as const satisfies readonly AppointmentStatus[];

export const PROPOSAL_STATUSES = ['draft', 'sent', 'accepted', 'rejected', 'expired', 'cancelled'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const CONTRACT_STATUSES = ['draft', 'signing', 'signed', 'active', 'declined', 'expired', 'cancelled'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];
export const SIGNING_ORDERS = ['sequential', 'parallel'] as const;
export type SigningOrder = (typeof SIGNING_ORDERS)[number];
export const SIGNER_STATUSES = ['waiting', 'notified', 'viewed', 'signed', 'declined'] as const;
export type SignerStatus = (typeof SIGNER_STATUSES)[number];

// The evidence a signature rests on (Documenso's and DocuSeal's audit events, with hashes).
export const CONTRACT_EVENT_TYPES = [
  'created',
  'document_rendered',
  'sent',
  'link_sent',
  'viewed',
  'code_sent',
  'code_failed',
  'code_verified',
  'signed',
  'declined',
  'reminder_sent',
  'expired',
  'cancelled',
  'completed',
  'sealed',
  'activated',
  'billing_started',
  'billing_cancelled',
] as const;
export type ContractEventType = (typeof CONTRACT_EVENT_TYPES)[number];

// Until the billing process lands, contract activation leaves a request here that it picks up.
export const BILLING_HANDOFF_STATUSES = ['requested', 'started', 'cancelled'] as const;
export type BillingHandoffStatus = (typeof BILLING_HANDOFF_STATUSES)[number];
