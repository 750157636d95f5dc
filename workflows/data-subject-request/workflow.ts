import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { SYSTEM_ACTOR } from '../../domain/actor';
import { compressedDeadline } from '../../domain/data-subject-requests';
import {
  confirmIdentityUpdate,
  dataSubjectRequestStateQuery,
  refuseDataSubjectRequestUpdate,
  type DataSubjectRequestInput,
  type DataSubjectRequestState,
  type DataSubjectRequestView,
} from './definitions';
import * as rules from './transitions';

// One LGPD data-subject request (Lei 13.709 art. 18), answered within 15 days. Nothing is
// exported, corrected or erased before staff confirm the person's identity; a refusal ends it.
// Then, by kind: an export of everything held about the contact (access, portability), the
// correction of the contact's fields, or the erasure: the contact's workflows ended and deleted
// from Temporal, their live events removed from Redis, their media files deleted, and their rows
// anonymized. Staff are reminded as the deadline nears; every step is audited and announced.

const store = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Reading every history of a tenant, scanning a Redis stream, rewriting a contact's rows: minutes,
// not seconds, and safe to repeat (each step is idempotent).
const eraser = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const MAX_TIMER_MS = 2_147_483_647;

export interface DataSubjectRequestResult {
  requestId: string;
  status: DataSubjectRequestState['status'];
}

export async function dataSubjectRequest(input: DataSubjectRequestInput): Promise<DataSubjectRequestResult> {
  const { tenantId, requestId } = input;
  const ref = { tenantId, requestId };
  const options = input.options ?? {};
  let s: DataSubjectRequestState | null = input.carried ?? null;
  let wake = false;

  const state = (): DataSubjectRequestState => s!;
  const iso = (ms: number) => new Date(ms).toISOString();
  const view = (): DataSubjectRequestView => {
    if (!s) throw ApplicationFailure.create({ type: 'DataSubjectRequestLoading', message: 'A solicitação ainda está sendo carregada.', nonRetryable: true });
    const next = s.reminders.find((r) => !s!.remindersSent.includes(r.key));
    return {
      requestId,
      kind: s.kind,
      status: s.status,
      dueAt: iso(s.dueAtMs),
      nextReminder: next && rules.isOpen(s) ? { key: next.key, at: iso(next.atMs) } : null,
      remindersSent: [...s.remindersSent],
      overdue: s.overdueNoted,
      identityConfirmedAt: s.identity ? iso(s.identity.atMs) : null,
      refusalReason: s.refusal?.reason ?? null,
      completion: s.completion,
      historyLength: workflowInfo().historyLength,
    };
  };
  const refuse = (r: rules.Refusal | null) => {
    if (r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
  };

  // --- Handlers (registered before the first await) --------------------------------------------
  setHandler(dataSubjectRequestStateQuery, view);

  setHandler(
    confirmIdentityUpdate,
    async ({ actor }) => {
      await condition(() => s !== null);
      refuse(rules.decisionRefusal(state()));
      s = { ...state(), status: 'in_progress', identity: { actor, atMs: Date.now() } };
      wake = true;
      await store.recordDataSubjectRequestStep({ ...ref, step: 'identity_confirmed', actor, status: 'in_progress' });
      return view();
    },
    { validator: (_request: unknown) => { if (s) refuse(rules.decisionRefusal(s)); } },
  );

  setHandler(
    refuseDataSubjectRequestUpdate,
    async ({ actor, reason }) => {
      await condition(() => s !== null);
      refuse(rules.decisionRefusal(state()));
      s = { ...state(), status: 'refused', refusal: { actor, reason, atMs: Date.now() } };
      wake = true;
      await store.recordDataSubjectRequestStep({ ...ref, step: 'refused', actor, status: 'refused', reason });
      return view();
    },
    { validator: (_request: unknown) => { if (s) refuse(rules.decisionRefusal(s)); } },
  );

  // --- The answer ------------------------------------------------------------------------------
  async function answer(): Promise<void> {
    const kind = state().kind;
    const completion: Record<string, unknown> = { kind };
    const actor = state().identity?.actor ?? SYSTEM_ACTOR;
    for (const step of rules.answerSteps(kind)) {
      if (step === 'export') {
        const r = await eraser.exportDataSubjectData(ref);
        completion.export = r;
        await store.recordDataSubjectRequestStep({ ...ref, step: 'exported', actor, details: r });
      } else if (step === 'correct') {
        const r = await store.correctDataSubjectContact({ ...ref, actor });
        completion.correction = r;
        await store.recordDataSubjectRequestStep({ ...ref, step: 'corrected', actor, details: r });
      } else if (step === 'erase_workflows') {
        completion.temporal = await eraser.eraseDataSubjectWorkflows(ref);
      } else if (step === 'erase_realtime') {
        completion.redis = await eraser.eraseDataSubjectRealtime(ref);
      } else if (step === 'erase_media') {
        completion.media = await eraser.eraseDataSubjectMedia(ref);
      } else if (step === 'erase_records') {
        completion.postgres = await eraser.anonymizeDataSubjectRecords(ref);
      } else {
        const late = await eraser.eraseDataSubjectWorkflows(ref);
        const first = completion.temporal as typeof late;
        completion.temporal = { checked: first.checked + late.checked, terminated: first.terminated + late.terminated, deleted: first.deleted + late.deleted };
        await store.recordDataSubjectRequestStep({ ...ref, step: 'erased', actor, details: { temporal: completion.temporal, redis: completion.redis, media: completion.media, postgres: completion.postgres } });
      }
    }
    s = { ...state(), status: 'completed', completion };
    await store.recordDataSubjectRequestStep({ ...ref, step: 'completed', actor, status: 'completed', completion });
  }

  const historyTooLong = () =>
    workflowInfo().continueAsNewSuggested || (options.maxHistoryEvents !== undefined && workflowInfo().historyLength > options.maxHistoryEvents);

  if (!s) {
    const ctx = await store.loadDataSubjectRequest(ref);
    const compressed = options.dayMs ? compressedDeadline(Date.now(), options.dayMs) : null;
    s = {
      kind: ctx.kind,
      status: ctx.status,
      dueAtMs: compressed ? compressed.dueAtMs : Date.parse(ctx.dueAt),
      reminders: compressed ? compressed.reminders : ctx.reminders.map((r) => ({ key: r.key, atMs: Date.parse(r.at) })),
      remindersSent: [],
      overdueNoted: false,
      identity: null,
      refusal: null,
      completion: null,
    };
    await store.recordDataSubjectRequestStep({ ...ref, step: 'registered', actor: SYSTEM_ACTOR });
  }

  while (rules.isOpen(state())) {
    if (historyTooLong()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof dataSubjectRequest>({ ...input, carried: state() });
    }
    if (state().status === 'in_progress') {
      await answer();
      continue;
    }
    const now = Date.now();
    const reminder = rules.dueReminder(state(), now);
    if (reminder) {
      s = { ...state(), remindersSent: [...state().remindersSent, reminder] };
      await store.recordDataSubjectRequestStep({ ...ref, step: 'reminder', actor: SYSTEM_ACTOR, reminder });
      continue;
    }
    if (rules.isOverdue(state(), now)) {
      s = { ...state(), overdueNoted: true };
      await store.recordDataSubjectRequestStep({ ...ref, step: 'overdue', actor: SYSTEM_ACTOR });
      continue;
    }
    wake = false;
    const next = rules.nextWake(state());
    await condition(() => wake || state().status !== 'awaiting_identity', next === null ? undefined : Math.max(1, Math.min(next - now, MAX_TIMER_MS)));
  }
  await condition(allHandlersFinished);
  return { requestId, status: state().status };
}
