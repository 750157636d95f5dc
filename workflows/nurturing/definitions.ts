import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { CadenceStep } from '../../domain/cadence';
import type { NurturingStatus, NurturingStopReason } from '../../domain/sales-statuses';
import type { TenantSettings } from '../../domain/tenant-settings';

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
  // Set only by continue-as-new.
  carried?: NurturingState;
}

export interface NurturingOptions {
  // Tests and demos: a business day lasts this long instead of being counted on the calendar.
  businessDayMs?: number;
  maxHistoryEvents?: number;
  // Tests: override settings.sales.marketingLimitRetryHours / pausedTemplateRecheckHours /
  // taskExpiryHours with milliseconds.
  marketingLimitRetryMs?: number;
  pausedTemplateRecheckMs?: number;
  taskExpiryMs?: number;
}

// --- The enrolment -------------------------------------------------------------------------

export interface FrozenCadence {
  id: string;
  version: number;
  steps: CadenceStep[];
}

// Where the current step is: counting down to its action, sending, waiting on its task, or
// waiting for a paused template to be re-checked.
export type StepPhase = 'waiting' | 'task' | 'template_paused';

// Everything the workflow knows; travels whole through continue-as-new.
export interface NurturingState {
  status: NurturingStatus;
  enrolled: boolean;
  cadence: FrozenCadence | null;
  settings: TenantSettings | null;
  ownerId: string | null;
  marketingConsent: boolean;
  stepIndex: number;
  phase: StepPhase;
  // When the current step started counting (ms), and when its action is due.
  stepStartedAt: number | null;
  dueAt: number | null;
  // While paused: what was left of the delay, and the status to go back to.
  remainingMs: number | null;
  pausedFrom: NurturingStatus | null;
  // Send tries of the current step (the update id's try:{n}), 131049 back-offs, paused-template re-checks.
  sendTry: number;
  limitRetries: number;
  templateRechecks: number;
  taskId: string | null;
  stopReason: NurturingStopReason | null;
  why: string;
}

export interface NurturingView {
  status: NurturingStatus;
  cadenceId: string | null;
  cadenceVersion: number | null;
  stepIndex: number;
  stepCount: number;
  step: CadenceStep | null;
  nextActionAt: string | null;
  why: string;
  stopReason: NurturingStopReason | null;
  ownerId: string | null;
  taskId: string | null;
}

export interface NurturingResult {
  status: NurturingStatus;
  stopReason: NurturingStopReason | null;
}

export interface NurturingControlRequest {
  actor: Actor;
}

export const pauseNurturingUpdate = defineUpdate<NurturingView, [NurturingControlRequest]>('pauseNurturing');
export const resumeNurturingUpdate = defineUpdate<NurturingView, [NurturingControlRequest]>('resumeNurturing');
export const skipNurturingStepUpdate = defineUpdate<NurturingView, [NurturingControlRequest]>('skipNurturingStep');
export const nurturingStateQuery = defineQuery<NurturingView>('nurturingState');

// Typed refusals the API turns into 409s with the (pt-BR) message.
export const NURTURING_ERRORS = {
  notRunning: 'NurturingNotRunning',
  notPaused: 'NurturingNotPaused',
  alreadyPaused: 'NurturingAlreadyPaused',
} as const;
