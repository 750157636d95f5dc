import { nationalHolidayName } from './calendar';

// Fines and interest on a late invoice: the one place the rule lives. The invoice page, the
// reminders, the dunning workflow, the reports and the API all ask `amountDue`, and the rule's
// Portuguese text below is printed on the invoice. Pure and deterministic (imported by workflows).
//
// THE RULE (money in integer centavos, dates YYYY-MM-DD in the tenant's calendar):
// - Grace. A due date on a Saturday, Sunday or national holiday moves to the next business day.
//   Paying on or before that day is on time: daysLate 0, no fine, no interest; payments made by
//   then reduce the principal with no charges.
// - Days late. Otherwise daysLate counts calendar days from the ORIGINAL due date to `on`.
// - Fine. Charged once: finePercent of the principal still open at the end of the grace,
//   truncated to the centavo (CDC art. 52 §1 caps it at 2% for consumers; the tenant's setting).
// - Interest. Simple, pro rata die: principal × monthlyInterestPercent/100 ÷ 30 × days, per
//   period, truncated to the centavo per period. A period runs from the due date, or from the last
//   late payment, to the next late payment or to `on`. Interest is never charged on the fine.
// - Late payments. A payment after the grace pays first the interest accrued (Código Civil
//   art. 354: interest before capital), then any unpaid fine, then principal.
// - Monetary correction by an index (IPCA when a contract names none) is outside this function:
//   the caller corrects `amountCents` first, then asks for interest.
// Percentages are read to 4 decimal places and all products are exact (BigInt), so 1.1% is
// 1.1% and never 1.0999…%.

export interface LateChargeTerms {
  finePercent: number;
  monthlyInterestPercent: number;
}

export interface PaymentOn {
  on: string; // YYYY-MM-DD
  amountCents: number;
}

export interface AmountDueInput {
  amountCents: number;
  dueDate: string;
  on: string;
  terms: LateChargeTerms;
  payments?: PaymentOn[];
}

export interface AmountDue {
  principalCents: number;
  fineCents: number;
  interestCents: number;
  totalCents: number;
  daysLate: number;
}

const DAY_MS = 86_400_000;
const RATE_SCALE = 10_000n; // percent to 4 decimal places

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function dayNumber(date: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) throw new RangeError(`no such date: ${date}`);
  return Math.round(ms / DAY_MS);
}

function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

// Calendar days from `from` to `to` (negative when `to` is earlier).
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

export function addCalendarDays(date: string, days: number): string {
  return dateOf(dayNumber(date) + days);
}

// A weekday that is no national holiday.
export function isBankBusinessDay(date: string): boolean {
  const weekday = new Date(dayNumber(date) * DAY_MS).getUTCDay();
  return weekday !== 0 && weekday !== 6 && nationalHolidayName(date) === undefined;
}

// The last day an invoice due on `dueDate` can be paid without charges.
export function graceDate(dueDate: string): string {
  let day = dayNumber(dueDate);
  while (!isBankBusinessDay(dateOf(day))) day++;
  return dateOf(day);
}

function rateOf(percent: number, name: string): bigint {
  if (!Number.isFinite(percent) || percent < 0) throw new RangeError(`${name} must be a percentage ≥ 0, got ${percent}`);
  return BigInt(Math.round(percent * Number(RATE_SCALE)));
}

function cents(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be whole centavos ≥ 0, got ${value}`);
  return value;
}

// principal × rate% / 100 ÷ 30 × days, truncated.
function interestFor(principal: number, rate: bigint, days: number): number {
  if (principal <= 0 || days <= 0 || rate === 0n) return 0;
  return Number((BigInt(principal) * rate * BigInt(days)) / (100n * RATE_SCALE * 30n));
}

export function amountDue(input: AmountDueInput): AmountDue {
  const amount = cents(input.amountCents, 'amountCents');
  const fineRate = rateOf(input.terms.finePercent, 'finePercent');
  const interestRate = rateOf(input.terms.monthlyInterestPercent, 'monthlyInterestPercent');
  const due = dayNumber(input.dueDate);
  const on = dayNumber(input.on);
  const grace = dayNumber(graceDate(input.dueDate));
  // Payments after `on` have not happened yet on that day; the same day's are counted.
  const payments = (input.payments ?? [])
    .map((p, index) => ({ day: dayNumber(p.on), amount: cents(p.amountCents, 'payments[].amountCents'), index }))
    .filter((p) => p.day <= on)
    .sort((a, b) => a.day - b.day || a.index - b.index);

  let principal = amount;
  for (const p of payments) if (p.day <= grace) principal = Math.max(0, principal - p.amount);
  if (on <= grace || principal === 0) return { principalCents: principal, fineCents: 0, interestCents: 0, totalCents: principal, daysLate: 0 };

  let fine = Number((BigInt(principal) * fineRate) / (100n * RATE_SCALE));
  let interest = 0; // accrued and unpaid
  let periodStart = due;
  for (const p of payments) {
    if (p.day <= grace) continue;
    interest += interestFor(principal, interestRate, p.day - periodStart);
    periodStart = p.day;
    let left = p.amount;
    const toInterest = Math.min(left, interest);
    interest -= toInterest;
    left -= toInterest;
    const toFine = Math.min(left, fine);
    fine -= toFine;
    left -= toFine;
    principal = Math.max(0, principal - left);
  }
  interest += interestFor(principal, interestRate, on - periodStart);
  return { principalCents: principal, fineCents: fine, interestCents: interest, totalCents: principal + fine + interest, daysLate: on - due };
}

const percentText = (n: number) => `${n.toLocaleString('pt-BR', { maximumFractionDigits: 4 })}%`;

// The rule as printed on the invoice and sent with the notices.
export function lateChargesRuleText(terms: LateChargeTerms): string {
  const parts = [
    'Vencimento em sábado, domingo ou feriado nacional pode ser pago sem encargos no próximo dia útil.',
    terms.finePercent > 0
      ? `Após esse prazo: multa de ${percentText(terms.finePercent)} sobre o valor em aberto, cobrada uma única vez`
      : 'Após esse prazo: sem multa',
    terms.monthlyInterestPercent > 0
      ? `, e juros de mora simples de ${percentText(terms.monthlyInterestPercent)} ao mês, pro rata die (÷ 30 por dia corrido desde o vencimento original), sobre o principal e nunca sobre a multa. Multa e juros são truncados ao centavo.`
      : ', e sem juros de mora.',
    ' Pagamentos em atraso quitam primeiro os juros, depois a multa e por fim o principal (Código Civil, art. 354).',
  ];
  return parts[0] + ' ' + parts.slice(1).join('');
}
