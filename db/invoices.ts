import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { BillingType, InvoiceOrigin } from '../domain/billing-statuses';
import { amountDue, type AmountDue } from '../domain/late-charges';
import { Invoice, Payment } from './models';
import { nextNumber } from './numbering';

// Every invoice is born here: by hand, from a subscription's schedule, from a renegotiation, from
// a consortium quota. The caller commits, then starts its dunning workflow (whose id it names).

export interface InvoiceSpec {
  tenantId: string;
  contactId: string;
  origin: InvoiceOrigin;
  originId?: string | null;
  subscriptionId?: string | null;
  sequence?: number | null;
  renegotiatedFrom?: string | null;
  description: string;
  amountCents: number;
  dueDate: string; // YYYY-MM-DD, tenant calendar
  finePercent: number;
  monthlyInterestPercent: number;
  billingType: BillingType;
  createdBy?: string | null;
}

// `workflowIdOf` is the dunning start's id rule (workflows/dunning/start.ts): data knows no process.
export async function createInvoice(trx: Knex.Transaction, spec: InvoiceSpec, workflowIdOf: (tenantId: string, invoiceId: string) => string): Promise<Invoice> {
  const id = randomUUID();
  const number = await nextNumber(trx, 'invoices', spec.tenantId);
  return Invoice.query(trx).insertAndFetch({
    id,
    tenantId: spec.tenantId,
    number,
    contactId: spec.contactId,
    origin: spec.origin,
    originId: spec.originId ?? null,
    subscriptionId: spec.subscriptionId ?? null,
    sequence: spec.sequence ?? null,
    renegotiatedFrom: spec.renegotiatedFrom ?? null,
    description: spec.description,
    amountCents: spec.amountCents,
    dueDate: spec.dueDate,
    finePercent: spec.finePercent,
    monthlyInterestPercent: spec.monthlyInterestPercent,
    billingType: spec.billingType,
    status: 'open',
    paidCents: 0,
    dunningStage: null,
    workflowId: workflowIdOf(spec.tenantId, id),
    createdBy: spec.createdBy ?? null,
  });
}

// The payments as amountDue reads them: money in, less what was refunded, by the day it moved. A
// refund gives back the most recent money first.
export function netPayments(rows: readonly Pick<Payment, 'kind' | 'amountCents' | 'paidOn'>[]): { on: string; amountCents: number }[] {
  const paid = rows.filter((r) => r.kind === 'payment').map((r) => ({ on: r.paidOn, amountCents: r.amountCents })).sort((a, b) => (a.on < b.on ? -1 : a.on > b.on ? 1 : 0));
  let refunded = rows.filter((r) => r.kind === 'refund').reduce((s, r) => s + r.amountCents, 0);
  for (let i = paid.length - 1; i >= 0 && refunded > 0; i--) {
    const take = Math.min(refunded, paid[i]!.amountCents);
    paid[i]!.amountCents -= take;
    refunded -= take;
  }
  return paid.filter((p) => p.amountCents > 0);
}

// What the invoice owes on `on` (its tenant's calendar date), after every payment and refund recorded.
export async function invoiceAmountDue(trx: Knex.Transaction, invoice: Pick<Invoice, 'id' | 'amountCents' | 'dueDate' | 'finePercent' | 'monthlyInterestPercent'>, on: string): Promise<AmountDue> {
  const rows = await Payment.query(trx).where({ invoiceId: invoice.id }).select('kind', 'amountCents', 'paidOn');
  return amountDue({
    amountCents: invoice.amountCents,
    dueDate: invoice.dueDate,
    on,
    terms: { finePercent: invoice.finePercent, monthlyInterestPercent: invoice.monthlyInterestPercent },
    payments: netPayments(rows),
  });
}
