import { AGING_BUCKETS, type AgingBucket, type DunningStage } from './billing-statuses';
import { addCalendarDays, daysBetween, graceDate } from './late-charges';

// Receivables reports as pure aggregations (the routes do the SQL and ask amountDue for each
// invoice's amounts on the report's date). Money in centavos; dates YYYY-MM-DD in the tenant's calendar.

// Days past the ORIGINAL due date (not the grace): 0 or less is current.
export function agingBucket(daysPastDue: number): AgingBucket {
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return '1-30';
  if (daysPastDue <= 60) return '31-60';
  if (daysPastDue <= 90) return '61-90';
  return '90+';
}

export interface OpenReceivable {
  dueDate: string;
  // What amountDue says it owes on the report's date.
  principalCents: number;
  totalCents: number;
}

export interface AgingLine {
  bucket: AgingBucket;
  count: number;
  principalCents: number;
  totalCents: number;
}

export interface AgingReport {
  on: string;
  buckets: AgingLine[];
  totals: { count: number; principalCents: number; totalCents: number };
}

export function agingReport(on: string, rows: readonly OpenReceivable[]): AgingReport {
  const lines = new Map<AgingBucket, AgingLine>(AGING_BUCKETS.map((b) => [b, { bucket: b, count: 0, principalCents: 0, totalCents: 0 }]));
  for (const r of rows) {
    if (r.totalCents <= 0) continue;
    const line = lines.get(agingBucket(daysBetween(r.dueDate, on)))!;
    line.count += 1;
    line.principalCents += r.principalCents;
    line.totalCents += r.totalCents;
  }
  const buckets = [...lines.values()];
  return {
    on,
    buckets,
    totals: buckets.reduce((t, l) => ({ count: t.count + l.count, principalCents: t.principalCents + l.principalCents, totalCents: t.totalCents + l.totalCents }), { count: 0, principalCents: 0, totalCents: 0 }),
  };
}

export interface ReceivableStatus {
  dueDate: string;
  // Unpaid (open or overdue) on the report's date, and what it owes then (0 when paid).
  unpaid: boolean;
  totalCents: number;
}

// Ratios to 4 decimal places (0.1234 = 12.34%); 0 when there is nothing to divide by.
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : 0);

export interface DelinquencyReport {
  on: string;
  // Balance of unpaid invoices past their grace (the next business day after the due date) ÷ the
  // balance of every unpaid invoice, both as amountDue computes them on `on`.
  overdueCents: number;
  openCents: number;
  rate: number;
  overdueCount: number;
  openCount: number;
  // Of the invoices due in the 30 days up to `on` (due date in [on − 29, on], paid or not): the
  // share whose grace has passed and that are still unpaid.
  recent: { from: string; to: string; dueCount: number; unpaidPastGraceCount: number; rate: number };
}

export function delinquencyReport(on: string, rows: readonly ReceivableStatus[]): DelinquencyReport {
  let overdueCents = 0;
  let openCents = 0;
  let overdueCount = 0;
  let openCount = 0;
  const from = addCalendarDays(on, -29);
  let dueCount = 0;
  let unpaidPastGraceCount = 0;
  for (const r of rows) {
    const pastGrace = graceDate(r.dueDate) < on;
    if (r.unpaid) {
      openCents += r.totalCents;
      openCount += 1;
      if (pastGrace) {
        overdueCents += r.totalCents;
        overdueCount += 1;
      }
    }
    if (r.dueDate >= from && r.dueDate <= on) {
      dueCount += 1;
      if (r.unpaid && pastGrace) unpaidPastGraceCount += 1;
    }
  }
  return {
    on,
    overdueCents,
    openCents,
    rate: ratio(overdueCents, openCents),
    overdueCount,
    openCount,
    recent: { from, to: on, dueCount, unpaidPastGraceCount, rate: ratio(unpaidPastGraceCount, dueCount) },
  };
}

export interface MoneyMovement {
  stage: DunningStage | null;
  kind: 'payment' | 'refund';
  amountCents: number;
}

export interface RecoveryLine {
  // 'none': money recorded before any collection stage (a manual payment of a new invoice).
  stage: DunningStage | 'none';
  paymentCount: number;
  receivedCents: number;
  refundedCents: number;
  netCents: number;
}

// Money received by the collection stage the invoice was in when it came, less refunds.
export function recoveryByStage(rows: readonly MoneyMovement[]): { stages: RecoveryLine[]; totals: Omit<RecoveryLine, 'stage'> } {
  const lines = new Map<string, RecoveryLine>();
  for (const r of rows) {
    const stage = r.stage ?? 'none';
    const line = lines.get(stage) ?? { stage, paymentCount: 0, receivedCents: 0, refundedCents: 0, netCents: 0 };
    if (r.kind === 'payment') {
      line.paymentCount += 1;
      line.receivedCents += r.amountCents;
      line.netCents += r.amountCents;
    } else {
      line.refundedCents += r.amountCents;
      line.netCents -= r.amountCents;
    }
    lines.set(stage, line);
  }
  const stages = [...lines.values()].sort((a, b) => (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0));
  const totals = stages.reduce(
    (t, l) => ({ paymentCount: t.paymentCount + l.paymentCount, receivedCents: t.receivedCents + l.receivedCents, refundedCents: t.refundedCents + l.refundedCents, netCents: t.netCents + l.netCents }),
    { paymentCount: 0, receivedCents: 0, refundedCents: 0, netCents: 0 },
  );
  return { stages, totals };
}
