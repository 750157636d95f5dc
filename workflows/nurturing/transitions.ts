import { addBusinessDays, nextBusinessOpening } from '../../domain/calendar';
import { stepWaitDays, type CadenceStep } from '../../domain/cadence';
import type { NurturingStatus, NurturingStopReason } from '../../domain/sales-statuses';
import type { TenantSettings } from '../../domain/tenant-settings';
import type { FrozenCadence, NurturingState, NurturingView } from './definitions';

// The pure moves of a lead's nurturing: when the next action is due, what a send's answer from
// Meta does to the enrolment, pause/resume/skip and the stops. No I/O, no clock: `now` is the
// workflow's time, passed in. Table-tested without a server.

type Calendar = Pick<TenantSettings, 'timeZone' | 'businessHours' | 'observeNationalHolidays'>;

const ACTIVE: readonly NurturingStatus[] = ['running', 'waiting_task', 'waiting_template'];
export const isActive = (s: NurturingState) => s.enrolled && ACTIVE.includes(s.status);
export const isOver = (s: NurturingState) => s.status === 'stopped' || s.status === 'cold';

export function initialState(): NurturingState {
  return {
    status: 'running',
    enrolled: false,
    cadence: null,
    settings: null,
    ownerId: null,
    marketingConsent: false,
    stepIndex: 0,
    phase: 'waiting',
    stepStartedAt: null,
    dueAt: null,
    remainingMs: null,
    pausedFrom: null,
    sendTry: 0,
    limitRetries: 0,
    templateRechecks: 0,
    taskId: null,
    stopReason: null,
    why: 'Calculando a pontuação e o responsável.',
  };
}

// When a step acts, counted from `from` (the moment the previous step ended). Waits count
// business days at the same local time (addBusinessDays); a send or a task also lands inside
// business hours, never on a national holiday. `businessDayMs` (tests, demos) makes a business
// day that many ms, the business-hours rule still applying. Null: the calendar has no open day.
export function nextActionAt(settings: Calendar, from: number, step: CadenceStep, businessDayMs?: number): number | null {
  const days = stepWaitDays(step);
  let due: number;
  if (businessDayMs !== undefined) due = from + days * businessDayMs;
  else if (days === 0) due = from;
  else {
    try {
      due = addBusinessDays(settings, new Date(from), days).getTime();
    } catch {
      return null;
    }
  }
  if (step.type === 'wait') return due;
  return nextBusinessOpening(settings, due)?.getTime() ?? null;
}

const WHY_STEP: Record<CadenceStep['type'], string> = {
  send_template: 'Próximo envio de modelo (template) pelo WhatsApp',
  call_task: 'Próxima tarefa de ligação para o responsável',
  wait: 'Aguardando o intervalo da cadência',
};

// The cadence version frozen at enrolment; the first step starts counting from `now`.
export function enrol(s: NurturingState, e: { cadence: FrozenCadence; marketingConsent: boolean; now: number; businessDayMs?: number }): NurturingState {
  const enrolled = { ...s, enrolled: true, cadence: e.cadence, marketingConsent: e.marketingConsent };
  return startStep(enrolled, 0, e.now, e.businessDayMs);
}

export function startStep(s: NurturingState, index: number, now: number, businessDayMs?: number): NurturingState {
  const steps = s.cadence?.steps ?? [];
  const base = { ...s, stepIndex: index, phase: 'waiting' as const, stepStartedAt: now, sendTry: 0, limitRetries: 0, templateRechecks: 0, taskId: null };
  const step = steps[index];
  if (!step) return complete(base);
  const settings = s.settings;
  const dueAt = settings ? nextActionAt(settings, now, step, businessDayMs) : now;
  if (dueAt === null) return stop(base, 'cancelled', 'O calendário de atendimento não tem nenhum dia útil.');
  return { ...base, status: 'running', dueAt, why: `${WHY_STEP[step.type]} (passo ${index + 1} de ${steps.length}).` };
}

export function advance(s: NurturingState, now: number, businessDayMs?: number): NurturingState {
  return startStep(s, s.stepIndex + 1, now, businessDayMs);
}

export function complete(s: NurturingState): NurturingState {
  return { ...s, status: 'cold', phase: 'waiting', dueAt: null, remainingMs: null, why: 'A cadência terminou sem resposta: lead frio.' };
}

const STOP_WHY: Record<NurturingStopReason, string> = {
  replied: 'O contato respondeu pelo WhatsApp: a cadência parou.',
  won: 'O lead foi ganho: a cadência parou.',
  lost: 'O lead foi perdido: a cadência parou.',
  opted_out: 'O contato pediu para não receber mais mensagens: a cadência parou.',
  no_consent: 'O contato não deu consentimento para marketing: nenhum modelo de marketing é enviado.',
  marketing_blocked: 'O contato bloqueou mensagens de marketing no WhatsApp: a cadência parou.',
  cancelled: 'A cadência foi encerrada.',
};

// Stopping twice keeps the first reason: the earliest cause is the one the timeline shows.
export function stop(s: NurturingState, reason: NurturingStopReason, why?: string): NurturingState {
  if (isOver(s)) return s;
  return { ...s, status: 'stopped', stopReason: reason, dueAt: null, remainingMs: null, why: why ?? STOP_WHY[reason] };
}

export function stopReasonForStage(stage: string): NurturingStopReason | null {
  return stage === 'won' || stage === 'lost' ? stage : null;
}

// --- What the owner does ---------------------------------------------------------------------

export function pauseRefusal(s: NurturingState): string | null {
  if (s.status === 'paused') return 'A cadência já está pausada.';
  if (!isActive(s)) return 'A cadência não está em andamento.';
  return null;
}

// Paused, the clock stops: what was left of the delay is kept for the resume (HubSpot's).
export function pause(s: NurturingState, now: number): NurturingState {
  const remainingMs = s.dueAt === null ? 0 : Math.max(0, s.dueAt - now);
  return { ...s, status: 'paused', pausedFrom: s.status, remainingMs, dueAt: null, why: 'Cadência pausada pelo responsável.' };
}

export function resumeRefusal(s: NurturingState): string | null {
  return s.status === 'paused' ? null : 'A cadência não está pausada.';
}

export function resume(s: NurturingState, now: number): NurturingState {
  const status = s.pausedFrom ?? 'running';
  const dueAt = now + (s.remainingMs ?? 0);
  const step = s.cadence?.steps[s.stepIndex];
  const why = step ? `${WHY_STEP[step.type]} (passo ${s.stepIndex + 1} de ${s.cadence?.steps.length ?? 0}), retomada.` : 'Cadência retomada.';
  return { ...s, status, dueAt, remainingMs: null, pausedFrom: null, why };
}

export function skipRefusal(s: NurturingState): string | null {
  if (!(isActive(s) || (s.enrolled && s.status === 'paused'))) return 'A cadência não está em andamento.';
  return null;
}

// The next step starts counting now; skipped while paused, the next step is paused too.
export function skip(s: NurturingState, now: number, businessDayMs?: number): NurturingState {
  const next = advance({ ...s, status: s.status === 'paused' ? (s.pausedFrom ?? 'running') : s.status }, now, businessDayMs);
  return s.status === 'paused' && next.status === 'running' ? pause(next, now) : next;
}

// --- Meta's answer to a send -------------------------------------------------------------------

export const META_MARKETING_LIMIT = 131049;
export const META_MARKETING_STOPPED = 131050;
export const META_TEMPLATE_PAUSED = 132015;
export const MAX_TEMPLATE_RECHECKS = 8;

export type SendOutcome =
  | 'sent'
  | 'limit_backoff' // 131049: try the same step later
  | 'limit_gave_up' // 131049 too often: the step is skipped
  | 'marketing_blocked' // 131050: marketing ends for this contact
  | 'template_paused' // 132015: wait for the template
  | 'template_gave_up'
  | 'failed'; // anything else: recorded, the cadence goes on

export interface SendLimits {
  marketingLimitRetryMs: number;
  marketingLimitMaxRetries: number;
  pausedTemplateRecheckMs: number;
}

export function afterSend(
  s: NurturingState,
  r: { status: 'accepted' | 'failed'; code?: number },
  limits: SendLimits,
  now: number,
  businessDayMs?: number,
): { state: NurturingState; outcome: SendOutcome } {
  const tried = { ...s, sendTry: s.sendTry + 1 };
  const outcomeOf = (): SendOutcome => {
    if (r.status === 'accepted') return 'sent';
    if (r.code === META_MARKETING_LIMIT) return s.limitRetries < limits.marketingLimitMaxRetries ? 'limit_backoff' : 'limit_gave_up';
    if (r.code === META_MARKETING_STOPPED) return 'marketing_blocked';
    if (r.code === META_TEMPLATE_PAUSED) return s.templateRechecks < MAX_TEMPLATE_RECHECKS ? 'template_paused' : 'template_gave_up';
    return 'failed';
  };
  const outcome = outcomeOf();
  // A stop that came in while the send was in flight wins; the send is still recorded.
  if (isOver(s)) return { state: tried, outcome };
  // Paused while in flight: the answer applies, and the step it leads to waits paused.
  const wasPaused = s.status === 'paused';
  const base: NurturingState = wasPaused ? { ...tried, status: s.pausedFrom ?? 'running', pausedFrom: null } : tried;
  const next = applyOutcome(base, outcome, limits, now, businessDayMs);
  return { outcome, state: wasPaused && isActive(next) ? pause(next, now) : next };
}

function applyOutcome(s: NurturingState, outcome: SendOutcome, limits: SendLimits, now: number, businessDayMs?: number): NurturingState {
  switch (outcome) {
    case 'limit_backoff':
      return {
        ...s,
        status: 'running',
        limitRetries: s.limitRetries + 1,
        dueAt: now + limits.marketingLimitRetryMs,
        why: `O WhatsApp limitou o envio de marketing a este contato (131049): nova tentativa mais tarde (${s.limitRetries + 1} de ${limits.marketingLimitMaxRetries}).`,
      };
    case 'marketing_blocked':
      return stop(s, 'marketing_blocked');
    case 'template_paused':
      return {
        ...s,
        status: 'waiting_template',
        phase: 'template_paused',
        templateRechecks: s.templateRechecks + 1,
        dueAt: now + limits.pausedTemplateRecheckMs,
        why: 'O modelo (template) está pausado pela Meta: o passo aguarda e tenta de novo.',
      };
    default:
      return advance(s, now, businessDayMs);
  }
}

// --- The call task ---------------------------------------------------------------------------

export function awaitTask(s: NurturingState, taskId: string, expiresAt: number): NurturingState {
  return { ...s, status: 'waiting_task', phase: 'task', taskId, dueAt: expiresAt, why: 'Aguardando o responsável concluir a tarefa de ligação.' };
}

export function view(s: NurturingState): NurturingView {
  const steps = s.cadence?.steps ?? [];
  return {
    status: s.status,
    cadenceId: s.cadence?.id ?? null,
    cadenceVersion: s.cadence?.version ?? null,
    stepIndex: s.stepIndex,
    stepCount: steps.length,
    step: steps[s.stepIndex] ?? null,
    nextActionAt: s.dueAt === null ? null : new Date(s.dueAt).toISOString(),
    why: s.why,
    stopReason: s.stopReason,
    ownerId: s.ownerId,
    taskId: s.taskId,
  };
}
