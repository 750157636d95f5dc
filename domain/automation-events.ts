// Events a tenant's automations can subscribe to. The n8n flows of the hotel-bot seed react to
// a guest's message, a hand-off to people and its resolution.
// The sales funnel's follow the real-estate seed's LeadCreated / ContractSigned.
export const AUTOMATION_EVENTS = [
  'message.received',
  'conversation.escalated',
  'conversation.resolved',
  'conversation.closed',
  'message.failed',
  'lead.created',
  'lead.stage_changed',
  'lead.won',
  'lead.lost',
  'appointment.scheduled',
  'proposal.accepted',
  'contract.sent',
  'contract.signed',
  'contract.declined',
  'contract.expired',
  // Billing and dunning.
  'invoice.created',
  'invoice.overdue',
  'invoice.paid',
  'payment.received',
  'payment.refunded',
  'dunning.escalated',
  'dunning.exhausted',
  // Consortium assemblies.
  'assembly.opened',
  'bid.placed',
  'assembly.closed',
  'quota.contemplated',
  'quota.excluded',
  'bid.disqualified',
  // LGPD data-subject requests (ids only: the request, its contact, its kind and status).
  'data_subject_request.registered',
  'data_subject_request.identity_confirmed',
  'data_subject_request.refused',
  'data_subject_request.exported',
  'data_subject_request.corrected',
  'data_subject_request.erased',
  'data_subject_request.completed',
  'data_subject_request.reminder',
  'data_subject_request.overdue',
] as const;
export type AutomationEventName = (typeof AUTOMATION_EVENTS)[number];
