import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { InvoiceStatus, PaymentMethod, PaymentSource } from '../domain/billing-statuses';
import { graceDate, type AmountDue } from '../domain/late-charges';
import { ownerPayoutAmounts } from '../domain/owner-payout';
import { invoiceAmountDue } from './invoices';
import { Invoice, OwnerPayout, Payment, Subscription } from './models';

// Money in and money back, in one place: the gateway webhook and the manual payment route both
// come here, inside the caller's tenant transaction. Each movement is one `payments` row, deduped
// on (tenant, external_key); the invoice is then recomputed from ALL its rows with the one rule
// (db/invoices.ts invoiceAmountDue → domain/late-charges.ts amountDue), never by adding to a
// counter, so a duplicate, a late or an out-of-order report can neither double nor regress it.
// Money is never refused: a payment to a cancelled or renegotiated invoice is recorded and
// reported back (`settledBefore`) so the caller can flag it for a person.

export interface MovementSpec {
  tenantId: string;
  invoiceId: string;
  amountCents: number; // > 0
  paidOn: string; // YYYY-MM-DD, the tenant's calendar day the money moved
  method: PaymentMethod;
  source: PaymentSource;
  gatewayChargeId?: string | null;
  externalKey?: string | null; // e.g. asaas:<payId>:payment, manual:<idempotency key>
  recordedBy?: string | null;
  note?: string | null;
  // "Today" in the tenant's calendar (whether a reopened invoice is past its grace).
  today: string;
}

export interface OwnerPayoutChange {
  payoutId: string;
  change: 'created' | 'cancelled' | 'already_paid';
}

export type MovementOutcome =
  | { duplicate: true; payment: Payment; invoice: Invoice }
  | {
      duplicate: false;
      payment: Payment;
      invoice: Invoice; // as it is now
      statusBefore: InvoiceStatus;
      becamePaid: boolean;
      reopened: boolean;
      // Money arrived for (or left) an invoice that was cancelled or renegotiated.
      settledBefore: boolean;
      amountDue: AmountDue;
      payout: OwnerPayoutChange | null;
    };

export function recordPayment(trx: Knex.Transaction, spec: MovementSpec): Promise<MovementOutcome> {
  return recordMovement(trx, 'payment', spec);
}

export function recordRefund(trx: Knex.Transaction, spec: MovementSpec): Promise<MovementOutcome> {
  return recordMovement(trx, 'refund', spec);
}

async function recordMovement(trx: Knex.Transaction, kind: 'payment' | 'refund', spec: MovementSpec): Promise<MovementOutcome> {
  if (!Number.isSafeInteger(spec.amountCents) || spec.amountCents <= 0) throw new RangeError(`amountCents must be whole centavos > 0, got ${spec.amountCents}`);
  // One writer per invoice at a time: two webhooks for the same invoice recompute in turn.
  const invoice = await Invoice.query(trx).findById(spec.invoiceId).forUpdate().throwIfNotFound();

  if (spec.externalKey) {
    const existing = await Payment.query(trx).findOne({ tenantId: spec.tenantId, externalKey: spec.externalKey });
    if (existing) return { duplicate: true, payment: existing, invoice };
  }

  const inserted = (await Payment.query(trx)
    .insert({
      id: randomUUID(),
      tenantId: spec.tenantId,
      invoiceId: invoice.id,
      kind,
      amountCents: spec.amountCents,
      paidOn: spec.paidOn,
      method: spec.method,
      source: spec.source,
      gatewayChargeId: spec.gatewayChargeId ?? null,
      externalKey: spec.externalKey ?? null,
      dunningStage: invoice.dunningStage,
      note: spec.note ?? null,
      recordedBy: spec.recordedBy ?? null,
    })
    .onConflict(['tenantId', 'externalKey'])
    .ignore()
    .returning('*')) as unknown as Payment | Payment[];
  const row = Array.isArray(inserted) ? inserted[0] : inserted;
  if (!row?.id) {
    // Lost a race with a concurrent insert of the same key (the lock above makes this rare).
    const existing = await Payment.query(trx).findOne({ tenantId: spec.tenantId, externalKey: spec.externalKey ?? '' }).throwIfNotFound();
    return { duplicate: true, payment: existing, invoice };
  }
  const payment = await Payment.query(trx).findById(row.id).throwIfNotFound();

  const rows = await Payment.query(trx).where({ invoiceId: invoice.id }).select('kind', 'amountCents', 'paidOn');
  const paidCents = Math.max(0, rows.reduce((s, r) => s + (r.kind === 'payment' ? r.amountCents : -r.amountCents), 0));
  // Counted on the day of the latest movement (or today, for a refund that reopens).
  const latest = rows.reduce((d, r) => (r.paidOn > d ? r.paidOn : d), spec.paidOn);
  const on = kind === 'refund' && spec.today > latest ? spec.today : latest;
  const due = await invoiceAmountDue(trx, invoice, on);

  const statusBefore = invoice.status;
  const settledBefore = statusBefore === 'cancelled' || statusBefore === 'renegotiated';
  const patch: Partial<Invoice> = { paidCents, updatedAt: new Date() };
  let becamePaid = false;
  let reopened = false;
  if (!settledBefore) {
    if (due.totalCents === 0 && statusBefore !== 'paid') {
      becamePaid = true;
      Object.assign(patch, { status: 'paid', paidAt: new Date() });
    } else if (due.totalCents > 0 && statusBefore === 'paid') {
      reopened = true;
      const late = spec.today > graceDate(invoice.dueDate);
      Object.assign(patch, { status: late ? 'overdue' : 'open', paidAt: null, ...(late && !invoice.overdueAt ? { overdueAt: new Date() } : {}) });
    }
  }
  const updated = await Invoice.query(trx).patchAndFetchById(invoice.id, patch);

  let payout: OwnerPayoutChange | null = null;
  if (becamePaid) payout = await ownerPayoutOnPaid(trx, updated, spec.paidOn);
  else if (reopened) payout = await ownerPayoutOnReopened(trx, updated);

  return { duplicate: false, payment, invoice: updated, statusBefore, becamePaid, reopened, settledBefore, amountDue: due, payout };
}

// The rent is paid: the owner's share is due (one per invoice; a payout cancelled by an earlier
// refund is due again with the new amounts).
async function ownerPayoutOnPaid(trx: Knex.Transaction, invoice: Invoice, paidOn: string): Promise<OwnerPayoutChange | null> {
  if (!invoice.subscriptionId) return null;
  const sub = await Subscription.query(trx).findById(invoice.subscriptionId);
  if (!sub?.ownerName || !sub.ownerDocument || sub.agencyFeePercent === null || sub.payoutDay === null) return null;
  const amounts = ownerPayoutAmounts({
    grossCents: invoice.paidCents,
    feePercent: sub.agencyFeePercent,
    payoutDay: sub.payoutDay,
    paidOn,
    invoiceDueDate: invoice.dueDate,
  });
  const values = {
    subscriptionId: sub.id,
    ownerName: sub.ownerName,
    ownerDocument: sub.ownerDocument,
    ownerPixKey: sub.ownerPixKey,
    referenceMonth: amounts.referenceMonth,
    grossCents: amounts.grossCents,
    feePercent: sub.agencyFeePercent,
    feeCents: amounts.feeCents,
    netCents: amounts.netCents,
    dueDate: amounts.dueDate,
  };
  const existing = await OwnerPayout.query(trx).findOne({ invoiceId: invoice.id });
  if (existing) {
    if (existing.status !== 'cancelled') return null;
    await OwnerPayout.query(trx).patch({ ...values, status: 'due', cancelledAt: null, updatedAt: new Date() }).where({ id: existing.id });
    return { payoutId: existing.id, change: 'created' };
  }
  const id = randomUUID();
  await OwnerPayout.query(trx).insert({ id, tenantId: invoice.tenantId, invoiceId: invoice.id, ...values, status: 'due' });
  return { payoutId: id, change: 'created' };
}

// A refund reopened a paid rent: a payout still due is cancelled; one already paid to the owner
// cannot be, and is reported so a person settles it with the owner.
async function ownerPayoutOnReopened(trx: Knex.Transaction, invoice: Invoice): Promise<OwnerPayoutChange | null> {
  const payout = await OwnerPayout.query(trx).findOne({ invoiceId: invoice.id });
  if (!payout || payout.status === 'cancelled') return null;
  if (payout.status === 'paid') return { payoutId: payout.id, change: 'already_paid' };
  await OwnerPayout.query(trx).patch({ status: 'cancelled', cancelledAt: new Date(), updatedAt: new Date() }).where({ id: payout.id });
  return { payoutId: payout.id, change: 'cancelled' };
}
