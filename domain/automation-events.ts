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
] as const;
export type AutomationEventName = (typeof AUTOMATION_EVENTS)[number];
