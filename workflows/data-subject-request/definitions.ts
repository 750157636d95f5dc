import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { DataSubjectRequestKind, DataSubjectRequestStatus } from '../../domain/data-subject-requests';

// One LGPD data-subject request (art. 18), from its registration to its answer. The workflow
// carries ids, times and counts only: the person's data stays in Postgres, read and changed by the
// activities, so an erasure leaves nothing of them in this history.

export const dataSubjectRequestWorkflowId = (tenantId: string, requestId: string) => `data-subject-request:${tenantId}:${requestId}`;

export interface DataSubjectRequestOptions {
  // Tests and demos: how long a "day" of the 15-day deadline lasts (calendar days otherwise).
  dayMs?: number;
  // Tests: continue as new past this many history events (the server's suggestion otherwise).
  maxHistoryEvents?: number;
}

export interface DataSubjectRequestInput {
  tenantId: string;
  requestId: string;
  options?: DataSubjectRequestOptions;
  // Set only by continue-as-new.
  carried?: DataSubjectRequestState;
}

export interface DataSubjectRequestState {
  kind: DataSubjectRequestKind;
  status: DataSubjectRequestStatus;
  dueAtMs: number;
  reminders: { key: string; atMs: number }[];
  remindersSent: string[];
  overdueNoted: boolean;
  identity: { actor: Actor; atMs: number } | null;
  refusal: { actor: Actor; reason: string; atMs: number } | null;
  // What the answer did, store by store (counts, never data).
  completion: Record<string, unknown> | null;
}

export interface ConfirmIdentityRequest {
  actor: Actor;
}

export interface RefuseRequest {
  actor: Actor;
  // Why (identity not confirmed, a request the law does not cover…); shown to staff.
  reason: string;
}

export interface DataSubjectRequestView {
  requestId: string;
  kind: DataSubjectRequestKind;
  status: DataSubjectRequestStatus;
  dueAt: string;
  nextReminder: { key: string; at: string } | null;
  remindersSent: string[];
  overdue: boolean;
  identityConfirmedAt: string | null;
  refusalReason: string | null;
  completion: Record<string, unknown> | null;
  historyLength: number;
}

export const confirmIdentityUpdate = defineUpdate<DataSubjectRequestView, [ConfirmIdentityRequest]>('confirmIdentity');
export const refuseDataSubjectRequestUpdate = defineUpdate<DataSubjectRequestView, [RefuseRequest]>('refuseRequest');
export const dataSubjectRequestStateQuery = defineQuery<DataSubjectRequestView>('dataSubjectRequestState');

// Typed refusals (ApplicationFailure types) the API maps to 409 with their pt-BR message.
export const DATA_SUBJECT_REQUEST_REFUSALS = {
  notAwaitingIdentity: 'DataSubjectRequestNotAwaitingIdentity',
} as const;
