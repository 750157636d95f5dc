import { z } from 'zod';
import type { GatewayCharge, Invoice, Payment } from '../../db/models';
import { BILLING_TYPES, DUNNING_STAGES, INVOICE_ORIGINS, INVOICE_STATUSES, PAYMENT_KINDS, PAYMENT_METHODS, PAYMENT_SOURCES } from '../../domain/billing-statuses';
import { pageQuery } from '../pagination';
import { amountDueView, calendarDate, centavos, iso, percent } from './fields';

export const createInvoiceBody = z
  .object({
    contactId: z.uuid(),
    description: z.string().trim().min(1).max(200),
    amountCents: centavos,
    dueDate: calendarDate,
    billingType: z.enum(BILLING_TYPES).optional(),
    finePercent: percent.optional(),
    monthlyInterestPercent: percent.optional(),
  })
  .strict();

export const invoiceListQuery = pageQuery
  .extend({
    status: z.enum(INVOICE_STATUSES).optional(),
    contactId: z.uuid().optional(),
    origin: z.enum(INVOICE_ORIGINS).optional(),
    subscriptionId: z.uuid().optional(),
    dueFrom: calendarDate.optional(),
    dueTo: calendarDate.optional(),
  })
  .strict();

export const invoiceOnQuery = z.object({ on: calendarDate.optional() }).strict();

export const invoiceView = z.object({
  id: z.uuid(),
  number: z.number().int(),
  contactId: z.uuid(),
  origin: z.enum(INVOICE_ORIGINS),
  originId: z.uuid().nullable(),
  subscriptionId: z.uuid().nullable(),
  sequence: z.number().int().nullable(),
  renegotiatedFrom: z.uuid().nullable(),
  description: z.string(),
  amountCents: z.number().int(),
  dueDate: z.string(),
  finePercent: z.number(),
  monthlyInterestPercent: z.number(),
  billingType: z.enum(BILLING_TYPES),
  status: z.enum(INVOICE_STATUSES),
  paidCents: z.number().int(),
  paidAt: z.iso.datetime().nullable(),
  cancelledAt: z.iso.datetime().nullable(),
  dunningStage: z.enum(DUNNING_STAGES).nullable(),
  workflowId: z.string(),
  createdAt: z.iso.datetime(),
});

export const chargeView = z.object({
  id: z.uuid(),
  externalId: z.string(),
  status: z.string(),
  valueCents: z.number().int(),
  dueDate: z.string(),
  invoiceUrl: z.string().nullable(),
  bankSlipUrl: z.string().nullable(),
  boletoLine: z.string().nullable(),
  pixPayload: z.string().nullable(),
});

export const paymentView = z.object({
  id: z.uuid(),
  kind: z.enum(PAYMENT_KINDS),
  amountCents: z.number().int(),
  paidOn: z.string(),
  method: z.enum(PAYMENT_METHODS),
  source: z.enum(PAYMENT_SOURCES),
  dunningStage: z.enum(DUNNING_STAGES).nullable(),
  note: z.string().nullable(),
  createdAt: z.iso.datetime(),
});

export const creditorView = z.object({ legalName: z.string().nullable(), taxId: z.string().nullable(), address: z.string().nullable() });

export const invoiceDetailView = invoiceView.extend({
  today: z.string(),
  amountDueToday: amountDueView,
  amountDueOn: amountDueView.extend({ on: z.string() }).nullable(),
  lateChargesRule: z.string(),
  creditor: creditorView,
  charge: chargeView.nullable(),
  payments: z.array(paymentView),
});

export const toInvoiceView = (i: Invoice): z.infer<typeof invoiceView> => ({
  id: i.id,
  number: i.number,
  contactId: i.contactId,
  origin: i.origin,
  originId: i.originId,
  subscriptionId: i.subscriptionId,
  sequence: i.sequence,
  renegotiatedFrom: i.renegotiatedFrom,
  description: i.description,
  amountCents: i.amountCents,
  dueDate: i.dueDate,
  finePercent: i.finePercent,
  monthlyInterestPercent: i.monthlyInterestPercent,
  billingType: i.billingType,
  status: i.status,
  paidCents: i.paidCents,
  paidAt: iso(i.paidAt),
  cancelledAt: iso(i.cancelledAt),
  dunningStage: i.dunningStage,
  workflowId: i.workflowId,
  createdAt: iso(i.createdAt) as string,
});

export const toChargeView = (c: GatewayCharge): z.infer<typeof chargeView> => ({
  id: c.id,
  externalId: c.externalId,
  status: c.status,
  valueCents: c.valueCents,
  dueDate: c.dueDate,
  invoiceUrl: c.invoiceUrl,
  bankSlipUrl: c.bankSlipUrl,
  boletoLine: c.boletoLine,
  pixPayload: c.pixPayload,
});

export const toPaymentView = (p: Payment): z.infer<typeof paymentView> => ({
  id: p.id,
  kind: p.kind,
  amountCents: p.amountCents,
  paidOn: p.paidOn,
  method: p.method,
  source: p.source,
  dunningStage: p.dunningStage,
  note: p.note,
  createdAt: iso(p.createdAt) as string,
});
