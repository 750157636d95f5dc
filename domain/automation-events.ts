// Events a tenant's automations can subscribe to. The n8n flows of the hotel-bot seed react to
// a guest's message, a hand-off to people and its resolution.
export const AUTOMATION_EVENTS = ['message.received', 'conversation.escalated', 'conversation.resolved', 'conversation.closed', 'message.failed'] as const;
export type AutomationEventName = (typeof AUTOMATION_EVENTS)[number];
