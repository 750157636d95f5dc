import type { DataSubjectRequestKind } from '../../domain/data-subject-requests';
import { DATA_SUBJECT_REQUEST_REFUSALS, type DataSubjectRequestState } from './definitions';

// The request's pure moves: what a staff decision may do in a state, which reminder is due, and
// when the workflow next needs to wake. Table-tested without a server.

export interface Refusal {
  type: string;
  message: string;
}

const DECIDED: Record<string, string> = {
  in_progress: 'A identidade do titular já foi confirmada: a solicitação está sendo atendida.',
  completed: 'A solicitação já foi atendida.',
  refused: 'A solicitação já foi recusada.',
};

// Identity is decided once: confirmed (the answer runs) or refused (it ends).
export function decisionRefusal(s: Pick<DataSubjectRequestState, 'status'>): Refusal | null {
  if (s.status === 'awaiting_identity') return null;
  return { type: DATA_SUBJECT_REQUEST_REFUSALS.notAwaitingIdentity, message: DECIDED[s.status] ?? 'A solicitação não aceita esta ação agora.' };
}

export const isOpen = (s: Pick<DataSubjectRequestState, 'status'>) => s.status === 'awaiting_identity' || s.status === 'in_progress';

// The reminder whose time has come and that was not sent yet (the earliest first).
export function dueReminder(s: Pick<DataSubjectRequestState, 'reminders' | 'remindersSent' | 'status'>, now: number): string | null {
  if (!isOpen(s)) return null;
  return s.reminders.find((r) => r.atMs <= now && !s.remindersSent.includes(r.key))?.key ?? null;
}

export function isOverdue(s: Pick<DataSubjectRequestState, 'dueAtMs' | 'status' | 'overdueNoted'>, now: number): boolean {
  return isOpen(s) && !s.overdueNoted && now > s.dueAtMs;
}

// The next moment something is due: a reminder, or the deadline itself; null when nothing is.
export function nextWake(s: DataSubjectRequestState): number | null {
  if (!isOpen(s)) return null;
  const times = s.reminders.filter((r) => !s.remindersSent.includes(r.key)).map((r) => r.atMs);
  if (!s.overdueNoted) times.push(s.dueAtMs + 1);
  return times.length ? Math.min(...times) : null;
}

// What answering a request of this kind means, step by step.
export type AnswerStep = 'export' | 'correct' | 'erase_workflows' | 'erase_realtime' | 'erase_media' | 'erase_records' | 'erase_late_workflows';
export function answerSteps(kind: DataSubjectRequestKind): AnswerStep[] {
  if (kind === 'access' || kind === 'portability') return ['export'];
  if (kind === 'correction') return ['correct'];
  // The stores outside Postgres first: finding the person there needs what Postgres still knows
  // of them (phone, names), which the records step replaces by the pseudonym. Then Temporal once
  // more, by the contact's ids: a message that arrived meanwhile may have started a conversation.
  return ['erase_workflows', 'erase_realtime', 'erase_media', 'erase_records', 'erase_late_workflows'];
}
