import { ActivityFailure, allHandlersFinished, ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { TimelineEntry } from '../../activities/lead-nurturing';
import { isMarketingStep, type CadenceStep } from '../../domain/cadence';
import { isWithinBusinessHours, nextBusinessOpening } from '../../domain/calendar';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import {
  contactRepliedSignal,
  leadStageChangedSignal,
  NURTURING_ERRORS,
  nurturingStateQuery,
  optedOutSignal,
  pauseNurturingUpdate,
  resumeNurturingUpdate,
  skipNurturingStepUpdate,
  taskCompletedSignal,
  type NurturingControlRequest,
  type NurturingInput,
  type NurturingResult,
  type NurturingState,
} from './definitions';
import * as rules from './transitions';

// One lead's nurturing, for the lead's whole open life: score it, give it an owner, freeze the
// tenant's cadence at its current version, then run the steps — waits in business days, template
// sends only inside business hours and (marketing) only with the contact's consent, call tasks
// the cadence waits on. A reply, a won/lost lead or an opt-out stops it at once; after the last
// step it ends cold. The owner can pause (the delay left is kept), resume and skip a step.
//
// Decision (consent): a cadence with any marketing send is not started for a contact without
// marketing consent (stopped, no_consent) — scoring and the owner still happen, so a person works
// the lead. Consent is checked again before every marketing send: withdrawn meanwhile, it stops
// the same way. Cadences with only utility sends and call tasks run without marketing consent.

const db = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// The send waits for the conversation workflow's own send (its retries included, up to 30 min);
// a retry reuses the update id, so Temporal hands back the first attempt's answer.
const sending = proxyActivities<Activities>({
  startToCloseTimeout: '35 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

const HOUR_MS = 60 * 60 * 1000;
const DEFAULT_MAX_HISTORY_EVENTS = 2_000;
const SYSTEM = { actorType: 'system', actorId: null } as const;

export async function leadNurturing(input: NurturingInput): Promise<NurturingResult> {
  const { tenantId, leadId, contactId } = input;
  const options = input.options ?? {};
  const bdm = options.businessDayMs;
  const { workflowId } = workflowInfo();

  let s: NurturingState = input.carried ?? rules.initialState();
  let version = 0;
  const pending: TimelineEntry[] = [];
  const tasksToClose: { taskId: string; status: 'expired' | 'cancelled' }[] = [];
  let persisted: { status: string; dueAt: number | null } | null = input.carried ? { status: s.status, dueAt: s.dueAt } : null;

  const change = (next: NurturingState, entry?: TimelineEntry) => {
    s = next;
    if (entry) pending.push(entry);
    version++;
  };
  const refuse = (message: string | null, type: string) => {
    if (message) throw ApplicationFailure.create({ type, message, nonRetryable: true });
  };
  const settings = () => s.settings ?? DEFAULT_TENANT_SETTINGS;
  const stepData = (index: number, step: CadenceStep | undefined) => ({ step: index, stepType: step?.type ?? null });

  // --- What the outside world says ------------------------------------------------------------
  setHandler(contactRepliedSignal, () => change(rules.stop(s, 'replied')));
  setHandler(optedOutSignal, () => change(rules.stop(s, 'opted_out')));
  setHandler(leadStageChangedSignal, ({ stage }) => {
    const reason = rules.stopReasonForStage(stage);
    if (reason) change(rules.stop(s, reason));
  });
  setHandler(taskCompletedSignal, ({ taskId, status }) => {
    if (rules.isOver(s) || s.phase !== 'task' || s.taskId !== taskId) return;
    const index = s.stepIndex;
    change(rules.skip(s, Date.now(), bdm), { type: 'cadence_step', data: { ...stepData(index, s.cadence?.steps[index]), outcome: `task_${status}`, taskId }, ...SYSTEM });
  });

  setHandler(nurturingStateQuery, () => rules.view(s));

  setHandler(
    pauseNurturingUpdate,
    ({ actor }) => {
      change(rules.pause(s, Date.now()), { type: 'cadence_paused', data: { step: s.stepIndex }, actorType: actor.type, actorId: actor.id });
      return rules.view(s);
    },
    { validator: (_request: NurturingControlRequest) => refuse(rules.pauseRefusal(s), NURTURING_ERRORS.notRunning) },
  );
  setHandler(
    resumeNurturingUpdate,
    ({ actor }) => {
      change(rules.resume(s, Date.now()), { type: 'cadence_resumed', data: { step: s.stepIndex }, actorType: actor.type, actorId: actor.id });
      return rules.view(s);
    },
    { validator: (_request: NurturingControlRequest) => refuse(rules.resumeRefusal(s), NURTURING_ERRORS.notPaused) },
  );
  setHandler(
    skipNurturingStepUpdate,
    ({ actor }) => {
      const index = s.stepIndex;
      if (s.phase === 'task' && s.taskId) tasksToClose.push({ taskId: s.taskId, status: 'cancelled' });
      change(rules.skip(s, Date.now(), bdm), { type: 'cadence_skipped', data: { ...stepData(index, s.cadence?.steps[index]), reason: 'owner' }, actorType: actor.type, actorId: actor.id });
      return rules.view(s);
    },
    { validator: (_request: NurturingControlRequest) => refuse(rules.skipRefusal(s), NURTURING_ERRORS.notRunning) },
  );

  // --- Steps ------------------------------------------------------------------------------------
  // The lead's columns and timeline follow the state; written between steps, never from a handler,
  // so the rows are in the order the workflow lived them.
  async function flush(): Promise<void> {
    while (tasksToClose.length > 0) {
      const t = tasksToClose.shift() as { taskId: string; status: 'expired' | 'cancelled' };
      await db.closeCadenceTask({ tenantId, ...t });
    }
    if (pending.length === 0 && persisted?.status === s.status && persisted.dueAt === s.dueAt) return;
    const events = pending.splice(0, pending.length);
    const snapshot = { status: s.status, dueAt: s.dueAt };
    await db.recordNurturing({ tenantId, leadId, status: snapshot.status, nextAt: snapshot.dueAt === null ? null : new Date(snapshot.dueAt).toISOString(), events });
    persisted = snapshot;
  }

  async function enrolLead(): Promise<void> {
    const scored = await db.scoreLead({ tenantId, leadId });
    const owner = await db.assignLeadOwner({ tenantId, leadId });
    s = { ...s, ownerId: owner.ownerId };
    if (scored.temperature === 'hot') await db.alertHotLead({ tenantId, leadId });
    if (rules.isOver(s)) return;
    const e = await db.enrolLeadInCadence({ tenantId, leadId, contactId });
    s = { ...s, settings: e.settings };
    if (rules.isOver(s)) return;
    if (!e.cadence) return change(rules.stop(s, 'cancelled', 'Nenhuma cadência ativa para este lead (defina uma cadência padrão).'));
    const needsConsent = e.cadence.steps.some(isMarketingStep);
    if (needsConsent && !e.marketingConsent) return change(rules.stop({ ...s, enrolled: true, cadence: e.cadence }, 'no_consent'));
    change(rules.enrol(s, { cadence: e.cadence, marketingConsent: e.marketingConsent, now: Date.now(), businessDayMs: bdm }));
  }

  async function act(): Promise<void> {
    const index = s.stepIndex;
    const step = s.cadence?.steps[index];
    const now = Date.now();
    if (!step) return change(rules.complete(s));
    if (step.type === 'wait') return change(rules.advance(s, now, bdm), { type: 'cadence_step', data: { ...stepData(index, step), outcome: 'waited' }, ...SYSTEM });
    if (step.type === 'call_task') {
      if (s.phase === 'task' && s.taskId) {
        tasksToClose.push({ taskId: s.taskId, status: 'expired' });
        return change(rules.advance(s, now, bdm), { type: 'cadence_step', data: { ...stepData(index, step), outcome: 'task_expired', taskId: s.taskId }, ...SYSTEM });
      }
      const taskId = uuid4();
      const expiryMs = options.taskExpiryMs ?? (step.expiresInHours ?? settings().sales.taskExpiryHours) * HOUR_MS;
      const expiresAt = now + expiryMs;
      change(rules.awaitTask(s, taskId, expiresAt), { type: 'cadence_step', data: { ...stepData(index, step), outcome: 'task_created', taskId }, ...SYSTEM });
      await db.createCadenceTask({ tenantId, leadId, taskId, title: step.title, ownerId: s.ownerId, dueAt: new Date(expiresAt).toISOString(), workflowId });
      return;
    }
    // A send: only inside business hours (a resumed or retried step may be due outside them).
    if (!isWithinBusinessHours(settings(), now)) {
      const opening = nextBusinessOpening(settings(), now);
      return change(opening ? { ...s, dueAt: opening.getTime() } : rules.stop(s, 'cancelled', 'O calendário de atendimento não tem nenhum dia útil.'));
    }
    if (step.category === 'marketing') {
      const granted = await db.nurturingMarketingConsent({ tenantId, contactId });
      if (s.stepIndex !== index || !rules.isActive(s)) return; // stopped, paused or skipped meanwhile
      if (!granted) return change(rules.stop(s, 'no_consent'));
    }
    const updateId = `${workflowId}:step:${index}:try:${s.sendTry}`;
    const content = { type: 'template' as const, name: step.template.name, language: step.template.language, ...(step.template.components ? { components: step.template.components } : {}) };
    let r: { status: 'accepted' | 'failed'; messageId: string; code?: number; failure?: string };
    try {
      r = await sending.sendCadenceTemplate({ tenantId, contactId, content, updateId });
    } catch (err) {
      // The send path gave up (no WhatsApp number, Temporal refusing it): a failed step, recorded;
      // the cadence goes on rather than the lead's whole process failing.
      if (!(err instanceof ActivityFailure)) throw err;
      r = { status: 'failed', messageId: '', failure: err.cause?.message ?? err.message };
    }
    const data = { ...stepData(index, step), template: step.template.name, category: step.category, messageId: r.messageId, code: r.code ?? null, failure: r.failure ?? null };
    if (s.stepIndex !== index) {
      // Skipped while in flight: the send is recorded, the next step already counts.
      pending.push({ type: 'cadence_step', data: { ...data, outcome: r.status === 'accepted' ? 'sent' : 'failed' }, ...SYSTEM });
      return;
    }
    const limits = {
      marketingLimitRetryMs: options.marketingLimitRetryMs ?? settings().sales.marketingLimitRetryHours * HOUR_MS,
      marketingLimitMaxRetries: settings().sales.marketingLimitMaxRetries,
      pausedTemplateRecheckMs: options.pausedTemplateRecheckMs ?? settings().sales.pausedTemplateRecheckHours * HOUR_MS,
    };
    const { state, outcome } = rules.afterSend(s, r, limits, Date.now(), bdm);
    const type = outcome === 'limit_gave_up' || outcome === 'template_gave_up' ? 'cadence_skipped' : outcome === 'marketing_blocked' ? 'marketing_blocked' : 'cadence_step';
    change(state, { type, data: { ...data, outcome, try: s.sendTry }, ...SYSTEM });
    if (outcome === 'marketing_blocked') await db.recordMarketingBlocked({ tenantId, contactId, leadId, messageId: r.messageId });
  }

  const historyFull = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > (options.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS);
  };

  if (!input.carried) await enrolLead();

  while (!rules.isOver(s)) {
    await flush();
    if (rules.isOver(s)) break;
    if (historyFull()) {
      await condition(allHandlersFinished);
      await flush();
      if (!rules.isOver(s)) return continueAsNew<typeof leadNurturing>({ ...input, carried: s });
      break;
    }
    const seen = version;
    if (s.status === 'paused') {
      await condition(() => version !== seen);
      continue;
    }
    const now = Date.now();
    if (s.dueAt !== null && s.dueAt > now) {
      await condition(() => version !== seen, s.dueAt - now);
      continue;
    }
    await act();
  }

  // The end: an open task nobody waits on any more is cancelled; the timeline says why it ended.
  if (s.phase === 'task' && s.taskId && s.status === 'stopped') tasksToClose.push({ taskId: s.taskId, status: 'cancelled' });
  pending.push({
    type: s.status === 'cold' ? 'cadence_completed' : 'cadence_stopped',
    data: { reason: s.stopReason, step: s.stepIndex, cadenceId: s.cadence?.id ?? null, cadenceVersion: s.cadence?.version ?? null },
    ...SYSTEM,
  });
  await flush();
  await condition(allHandlersFinished);
  return { status: s.status, stopReason: s.stopReason };
}
