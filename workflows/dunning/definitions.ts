import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { DunningStage, InvoiceStatus } from '../../domain/billing-statuses';
import type { AmountDue } from '../../domain/late-charges';

// One dunning run per invoice: reminders before and on the due date, notices after it, a person
// in the collectors' queue, a final notice, then the tenant's consequence. The database is the
// record of money (the webhook and the API write payments first); a signal is a wake-up.

export const dunningWorkflowId = (tenantId: string, invoiceId: string) => `dunning:${tenantId}:${invoiceId}`;

export interface DunningOptions {
  // Tests: how long a "day" of the schedule lasts (86 400 000 in production).
  dayMs?: number;
  // Tests: continue as new past this many history events (the server's suggestion otherwise).
  maxHistoryEvents?: number;
}

export interface DunningInput {
  tenantId: string;
  invoiceId: string;
  // What a run hands the next when it continues as new (steps already done, a promise pending).
  resume?: DunningResume;
  options?: DunningOptions;
}

export interface DunningResume {
  done: string[]; // step keys already carried out
  promise: PromiseToPay | null;
  // The run's clock, kept across continue-as-new so a test's short day keeps counting from the
  // first run (absent in a resume written by hand: the new run starts its own clock).
  clock?: DunningClock;
  stage?: DunningStage;
  promisesMade?: number;
  // A refund reopened a settled invoice: the new run records it and catches up (see dunning-plan.ts).
  reopened?: { paymentId: string };
}

export interface DunningClock {
  startMs: number; // workflow time at the first run's start
  startDate: string; // the tenant's calendar date then
}

export interface PromiseToPay {
  promisedDate: string; // YYYY-MM-DD
  amountCents: number | null;
  actor: Actor;
  note: string | null;
}

// A payment or refund was recorded for the invoice (by the gateway webhook or by staff).
export interface PaymentRecordedSignal {
  paymentId: string;
  kind: 'payment' | 'refund';
}
export const paymentRecordedSignal = defineSignal<[PaymentRecordedSignal]>('paymentRecorded');

export interface PromiseToPayRequest {
  promisedDate: string;
  amountCents?: number | null;
  actor: Actor;
  note?: string | null;
}
export const promiseToPayUpdate = defineUpdate<DunningView, [PromiseToPayRequest]>('promiseToPay');

// The new invoices replace this one: installments with their due dates and amounts.
export interface RenegotiationRequest {
  actor: Actor;
  installments: { dueDate: string; amountCents: number }[];
  note?: string | null;
}
export interface RenegotiationResult {
  invoiceIds: string[];
}
export const renegotiateUpdate = defineUpdate<RenegotiationResult, [RenegotiationRequest]>('renegotiate');

export interface CancelInvoiceRequest {
  actor: Actor;
  reason?: string | null;
}
export const cancelInvoiceUpdate = defineUpdate<DunningView, [CancelInvoiceRequest]>('cancelInvoice');

export type DunningNextActionKind = 'reminder' | 'due_reminder' | 'mark_overdue' | 'notice' | 'escalate' | 'final_notice' | 'consequence' | 'promise_check' | 'await_payment';

export interface DunningView {
  invoiceId: string;
  stage: DunningStage;
  invoiceStatus: InvoiceStatus;
  nextAction: { kind: DunningNextActionKind; stepKey: string; dueAt: string } | null;
  // Why the next action waits past its time: outside the collection window, a promise.
  waitingFor: 'collection_window' | 'promise' | null;
  amountDueToday: AmountDue;
  today: string; // the tenant calendar date amountDueToday is computed on
  promise: PromiseToPay | null;
  done: string[];
  // What the run knows of the invoice (the database is the record).
  number: number;
  dueDate: string;
  historyLength: number;
}
export const dunningViewQuery = defineQuery<DunningView>('dunningView');

// Typed refusals (ApplicationFailure types) the API maps to 409 with their pt-BR message.
export const DUNNING_REFUSALS = {
  settled: 'InvoiceSettled',
  invalidPromise: 'InvalidPromise',
  invalidRenegotiation: 'InvalidRenegotiation',
} as const;
