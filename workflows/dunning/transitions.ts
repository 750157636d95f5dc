import { SETTLED_INVOICE_STATUSES, type DunningStage, type InvoiceStatus } from '../../domain/billing-statuses';
import { STAGE_AFTER_STEP, type DunningStep } from '../../domain/dunning-plan';
import { addCalendarDays, daysBetween } from '../../domain/late-charges';
import { DUNNING_REFUSALS, type PromiseToPayRequest, type RenegotiationRequest } from './definitions';

// The dunning run's pure decisions: what a promise or a renegotiation may be, which stage a step
// leaves the invoice in, and the compressed clock tests run on. No Temporal here.

export interface Refusal {
  type: (typeof DUNNING_REFUSALS)[keyof typeof DUNNING_REFUSALS];
  message: string;
}

export const MAX_INSTALLMENTS = 60;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function settledRefusal(status: InvoiceStatus, ended: boolean): Refusal | null {
  if (ended || (SETTLED_INVOICE_STATUSES as readonly string[]).includes(status)) {
    return { type: DUNNING_REFUSALS.settled, message: 'Esta fatura já foi quitada, cancelada ou renegociada.' };
  }
  return null;
}

export function promiseRefusal(req: Pick<PromiseToPayRequest, 'promisedDate' | 'amountCents'>, today: string, maxPromiseDays: number): Refusal | null {
  const bad = (message: string): Refusal => ({ type: DUNNING_REFUSALS.invalidPromise, message });
  if (!DATE.test(req.promisedDate)) return bad('Informe a data prometida no formato AAAA-MM-DD.');
  let ahead: number;
  try {
    ahead = daysBetween(today, req.promisedDate);
  } catch {
    return bad('A data prometida não existe.');
  }
  if (ahead < 0) return bad('A data prometida já passou.');
  if (ahead > maxPromiseDays) return bad(`A promessa de pagamento pode ser de no máximo ${maxPromiseDays} dias.`);
  if (req.amountCents != null && (!Number.isSafeInteger(req.amountCents) || req.amountCents < 1)) return bad('O valor prometido precisa ser de pelo menos 1 centavo.');
  return null;
}

export function renegotiationRefusal(req: Pick<RenegotiationRequest, 'installments'>, today: string): Refusal | null {
  const bad = (message: string): Refusal => ({ type: DUNNING_REFUSALS.invalidRenegotiation, message });
  const list = req.installments;
  if (!Array.isArray(list) || list.length < 1) return bad('Informe pelo menos uma parcela.');
  if (list.length > MAX_INSTALLMENTS) return bad(`A renegociação pode ter no máximo ${MAX_INSTALLMENTS} parcelas.`);
  for (const [i, p] of list.entries()) {
    if (!DATE.test(p.dueDate)) return bad(`Parcela ${i + 1}: informe o vencimento no formato AAAA-MM-DD.`);
    try {
      if (daysBetween(today, p.dueDate) < 0) return bad(`Parcela ${i + 1}: o vencimento já passou.`);
    } catch {
      return bad(`Parcela ${i + 1}: o vencimento não existe.`);
    }
    if (!Number.isSafeInteger(p.amountCents) || p.amountCents < 1) return bad(`Parcela ${i + 1}: o valor precisa ser de pelo menos 1 centavo.`);
  }
  return null;
}

// The stage once a step is done; a message step never moves a later stage back.
const ORDER: DunningStage[] = ['upcoming', 'due', 'overdue', 'escalated', 'final_notice', 'exhausted'];
export function stageAfter(current: DunningStage, step: DunningStep): DunningStage {
  const next = STAGE_AFTER_STEP[step.kind];
  const i = ORDER.indexOf(current);
  return i >= 0 && ORDER.indexOf(next) < i ? current : next;
}

// Where the run stands when the plan says nothing was done yet on `today`.
export function initialStage(dueDate: string, today: string): DunningStage {
  return today < dueDate ? 'upcoming' : 'due';
}

// The compressed clock (tests): "today" is the start date plus whole elapsed days, and a date's
// moment is the start plus its distance in days. Production uses the tenant's calendar instead.
export function compressedToday(clock: { startMs: number; startDate: string }, dayMs: number, nowMs: number): string {
  return addCalendarDays(clock.startDate, Math.floor((nowMs - clock.startMs) / dayMs));
}
export function compressedMoment(clock: { startMs: number; startDate: string }, dayMs: number, date: string): number {
  return clock.startMs + daysBetween(clock.startDate, date) * dayMs;
}

// The stage the record steps done so far leave the invoice in (a broken promise resumes there).
export function stageOf(plan: readonly DunningStep[], done: readonly string[], dueDate: string, today: string): DunningStage {
  return plan.filter((s) => done.includes(s.key)).reduce<DunningStage>((stage, s) => stageAfter(stage, s), initialStage(dueDate, today));
}
