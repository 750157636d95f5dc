import { defineSignal } from '@temporalio/workflow';

// What the outside world says to a lead's nurturing workflow. (The workflow's own input, state,
// view, queries and updates are added beside these by the nurturing process.)

export const nurturingWorkflowId = (tenantId: string, leadId: string) => `lead:${tenantId}:${leadId}`;

// The contact wrote on WhatsApp: the cadence stops at once (HubSpot's auto-unenrol on reply).
export interface ContactRepliedSignal {
  messageId: string;
  at: string; // ISO
}
export const contactRepliedSignal = defineSignal<[ContactRepliedSignal]>('contactReplied');

// The lead reached a stage; won and lost stop the cadence.
export interface LeadStageChangedSignal {
  stage: string;
  at: string;
}
export const leadStageChangedSignal = defineSignal<[LeadStageChangedSignal]>('leadStageChanged');

// The contact withdrew marketing consent (SAIR/PARAR/STOP, Meta's "stop promotions", the API).
export interface OptedOutSignal {
  channel: string;
  at: string;
}
export const optedOutSignal = defineSignal<[OptedOutSignal]>('optedOut');

// A task the cadence waits on was done (or cancelled) by its owner.
export interface TaskCompletedSignal {
  taskId: string;
  status: 'done' | 'cancelled';
  at: string;
}
export const taskCompletedSignal = defineSignal<[TaskCompletedSignal]>('taskCompleted');

// How a lead is enrolled. The cadence (and its version) is read by the workflow's first step, so
// it is frozen in the history: an edit reaches new enrolments only.
export interface NurturingInput {
  tenantId: string;
  leadId: string;
  contactId: string;
  options?: NurturingOptions;
}

export interface NurturingOptions {
  // Tests and demos: a business day lasts this long instead of being counted on the calendar.
  businessDayMs?: number;
  maxHistoryEvents?: number;
}
