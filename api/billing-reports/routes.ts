import type { Knex } from 'knex';
import { z } from 'zod';
import { tenantToday } from '../../activities/billing-schedules';
import { netPayments } from '../../db/invoices';
import { Invoice, OwnerPayout, Payment } from '../../db/models';
import { AGING_BUCKETS, DUNNING_STAGES } from '../../domain/billing-statuses';
import { addCalendarDays, amountDue } from '../../domain/late-charges';
import { BILLING_ROLES } from '../../domain/roles';
import { agingReport, delinquencyReport, recoveryByStage } from '../../domain/receivables';
import { calendarDate } from '../invoices/fields';
import { badRequest } from '../problem';
import { route } from '../route';

// Receivables reports: the SQL here, the arithmetic in domain/receivables.ts and every amount by
// amountDue (domain/late-charges.ts) on the report's date. Statuses are today's: a report "on" a
// past date prices today's unpaid invoices (and the payments made by then) on that date.

const read = { roles: BILLING_ROLES, scopes: ['invoices:read' as const] };
const onQuery = z.object({ on: calendarDate.optional() }).strict();

// Each invoice with what it owes on `on`, from one query of their payments.
async function pricedOn(db: Knex.Transaction, invoices: Invoice[], on: string) {
  const payments = invoices.length ? await Payment.query(db).whereIn('invoiceId', invoices.map((i) => i.id)).select('invoiceId', 'kind', 'amountCents', 'paidOn') : [];
  return invoices.map((invoice) => ({
    invoice,
    due: amountDue({
      amountCents: invoice.amountCents,
      dueDate: invoice.dueDate,
      on,
      terms: { finePercent: invoice.finePercent, monthlyInterestPercent: invoice.monthlyInterestPercent },
      payments: netPayments(payments.filter((p) => p.invoiceId === invoice.id)),
    }),
  }));
}

const line = z.object({ bucket: z.enum(AGING_BUCKETS), count: z.number().int(), principalCents: z.number().int(), totalCents: z.number().int() });

export const agingRoute = route({
  method: 'get',
  path: '/billing/reports/aging',
  summary: 'Receivables aging: unpaid balances by days past the original due date (current, 1–30, 31–60, 61–90, 90+)',
  tags: ['billing'],
  access: read,
  query: onQuery,
  responses: { 200: { description: 'Buckets and totals', schema: z.object({ on: z.string(), buckets: z.array(line), totals: line.omit({ bucket: true }) }) } },
  async handler({ query, db, tenantId }) {
    const on = query.on ?? (await tenantToday(db, tenantId)).today;
    const open = await Invoice.query(db).whereIn('status', ['open', 'overdue']);
    const priced = await pricedOn(db, open, on);
    return { body: agingReport(on, priced.map(({ invoice, due }) => ({ dueDate: invoice.dueDate, principalCents: due.principalCents, totalCents: due.totalCents }))) };
  },
});

export const delinquencyRoute = route({
  method: 'get',
  path: '/billing/reports/delinquency',
  summary: 'Delinquency: overdue balance ÷ open balance, and the share of the last 30 days’ invoices unpaid past their grace',
  tags: ['billing'],
  access: read,
  query: onQuery,
  responses: {
    200: {
      description:
        'rate = overdueCents ÷ openCents (unpaid invoices past the grace day vs all unpaid, priced on `on`); recent.rate = unpaid past grace ÷ invoices due in [on − 29, on], paid ones included (cancelled and renegotiated ones are not)',
    },
  },
  async handler({ query, db, tenantId }) {
    const on = query.on ?? (await tenantToday(db, tenantId)).today;
    const from = addCalendarDays(on, -29);
    const rows = await Invoice.query(db)
      .whereIn('status', ['open', 'overdue'])
      .orWhere((q) => q.where({ status: 'paid' }).whereBetween('dueDate', [from, on]));
    const priced = await pricedOn(db, rows, on);
    const report = delinquencyReport(
      on,
      priced.map(({ invoice, due }) => ({ dueDate: invoice.dueDate, unpaid: invoice.status !== 'paid', totalCents: invoice.status === 'paid' ? 0 : due.totalCents })),
    );
    return {
      body: {
        ...report,
        definitions: {
          rate: 'Saldo vencido (faturas em aberto após o dia de tolerância) ÷ saldo em aberto, ambos calculados com multa e juros na data.',
          recentRate: 'Das faturas com vencimento nos 30 dias até a data (pagas ou não), a parcela ainda em aberto após o dia de tolerância.',
        },
      },
    };
  },
});

const recoveryQuery = z.object({ from: calendarDate, to: calendarDate }).strict();

export const recoveryRoute = route({
  method: 'get',
  path: '/billing/reports/recovery',
  summary: 'Amounts recovered by collection stage: payments (less refunds) made in [from, to], by the stage the invoice was in',
  tags: ['billing'],
  access: read,
  query: recoveryQuery,
  responses: {
    200: {
      description: 'Per stage and totals',
      schema: z.object({
        from: z.string(),
        to: z.string(),
        stages: z.array(z.object({ stage: z.enum([...DUNNING_STAGES, 'none']), paymentCount: z.number().int(), receivedCents: z.number().int(), refundedCents: z.number().int(), netCents: z.number().int() })),
        totals: z.object({ paymentCount: z.number().int(), receivedCents: z.number().int(), refundedCents: z.number().int(), netCents: z.number().int() }),
      }),
    },
    400: { description: 'from after to' },
  },
  async handler({ query, db }) {
    if (query.from > query.to) throw badRequest('O início do período vem depois do fim.', [{ path: 'query.from', message: 'anterior ou igual a to' }]);
    const rows = await Payment.query(db).whereBetween('paidOn', [query.from, query.to]).select('dunningStage', 'kind', 'amountCents');
    return { body: { from: query.from, to: query.to, ...recoveryByStage(rows.map((r) => ({ stage: r.dunningStage, kind: r.kind, amountCents: r.amountCents }))) } };
  },
});

export const payoutsDueRoute = route({
  method: 'get',
  path: '/billing/reports/payouts-due',
  summary: 'Owner payouts still due, by due date, with totals',
  tags: ['billing'],
  access: read,
  responses: {
    200: {
      description: 'Due payouts by date',
      schema: z.object({
        days: z.array(z.object({ dueDate: z.string(), count: z.number().int(), grossCents: z.number().int(), feeCents: z.number().int(), netCents: z.number().int() })),
        totals: z.object({ count: z.number().int(), grossCents: z.number().int(), feeCents: z.number().int(), netCents: z.number().int(), overdueCount: z.number().int(), overdueNetCents: z.number().int() }),
      }),
    },
  },
  async handler({ db, tenantId }) {
    const { today } = await tenantToday(db, tenantId);
    const due = await OwnerPayout.query(db).where({ status: 'due' }).orderBy([{ column: 'dueDate' }, { column: 'id' }]);
    const days = new Map<string, { dueDate: string; count: number; grossCents: number; feeCents: number; netCents: number }>();
    for (const p of due) {
      const d = days.get(p.dueDate) ?? { dueDate: p.dueDate, count: 0, grossCents: 0, feeCents: 0, netCents: 0 };
      d.count += 1;
      d.grossCents += p.grossCents;
      d.feeCents += p.feeCents;
      d.netCents += p.netCents;
      days.set(p.dueDate, d);
    }
    const late = due.filter((p) => p.dueDate < today);
    return {
      body: {
        days: [...days.values()],
        totals: {
          count: due.length,
          grossCents: due.reduce((s, p) => s + p.grossCents, 0),
          feeCents: due.reduce((s, p) => s + p.feeCents, 0),
          netCents: due.reduce((s, p) => s + p.netCents, 0),
          overdueCount: late.length,
          overdueNetCents: late.reduce((s, p) => s + p.netCents, 0),
        },
      },
    };
  },
});

export const billingReportRoutes = [agingRoute, delinquencyRoute, recoveryRoute, payoutsDueRoute];
