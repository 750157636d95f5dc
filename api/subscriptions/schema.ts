import { z } from 'zod';
import type { Subscription } from '../../db/models';
import { issueDate } from '../../domain/billing-cycle';
import { BILLING_CYCLES, BILLING_TYPES, SUBSCRIPTION_STATUSES } from '../../domain/billing-statuses';
import { normalizeTaxId } from '../../domain/tax-id';
import { calendarDate, centavos, iso, percent } from '../invoices/fields';
import { pageQuery } from '../pagination';

export const createSubscriptionBody = z
  .object({
    contactId: z.uuid(),
    description: z.string().trim().min(1).max(200),
    amountCents: centavos,
    cycle: z.enum(BILLING_CYCLES),
    firstDueDate: calendarDate,
    billingType: z.enum(BILLING_TYPES).optional(),
    // A plan of N invoices; without it the subscription runs until ended (rent).
    maxInvoices: z.number().int().min(1).max(600).optional(),
    finePercent: percent.optional(),
    monthlyInterestPercent: percent.optional(),
    issueDaysBeforeDue: z.number().int().min(0).max(60).optional(),
    ownerName: z.string().trim().min(1).max(200).optional(),
    ownerDocument: z.string().max(40).refine((v) => normalizeTaxId(v) !== null, 'CPF ou CNPJ inválido').optional(),
    ownerPixKey: z.string().trim().min(1).max(200).optional(),
    agencyFeePercent: percent.optional(),
    payoutDay: z.number().int().min(1).max(28).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.ownerName === undefined) !== (b.ownerDocument === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.ownerName === undefined ? 'ownerName' : 'ownerDocument'], message: 'o repasse ao proprietário exige nome e CPF/CNPJ' });
    }
    if (b.ownerName === undefined) {
      for (const k of ['ownerPixKey', 'agencyFeePercent', 'payoutDay'] as const) if (b[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'só vale com o proprietário (ownerName e ownerDocument)' });
    }
  });

export const subscriptionListQuery = pageQuery
  .extend({ status: z.enum(SUBSCRIPTION_STATUSES).optional(), contactId: z.uuid().optional(), contractId: z.uuid().optional() })
  .strict();

export const endSubscriptionBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

export const subscriptionView = z.object({
  id: z.uuid(),
  contactId: z.uuid(),
  contractId: z.uuid().nullable(),
  description: z.string(),
  amountCents: z.number().int(),
  firstAmountCents: z.number().int().nullable(),
  cycle: z.enum(BILLING_CYCLES),
  billingType: z.enum(BILLING_TYPES),
  finePercent: z.number(),
  monthlyInterestPercent: z.number(),
  firstDueDate: z.string(),
  nextDueDate: z.string(),
  nextSequence: z.number().int(),
  // The day the next invoice is issued (null once ended).
  nextIssueDate: z.string().nullable(),
  maxInvoices: z.number().int().nullable(),
  issueDaysBeforeDue: z.number().int(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  scheduleId: z.string(),
  owner: z.object({ name: z.string(), document: z.string(), pixKey: z.string().nullable(), agencyFeePercent: z.number().nullable(), payoutDay: z.number().int().nullable() }).nullable(),
  createdAt: z.iso.datetime(),
  pausedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  endReason: z.string().nullable(),
});

export const toSubscriptionView = (s: Subscription): z.infer<typeof subscriptionView> => ({
  id: s.id,
  contactId: s.contactId,
  contractId: s.contractId,
  description: s.description,
  amountCents: s.amountCents,
  firstAmountCents: s.firstAmountCents,
  cycle: s.cycle,
  billingType: s.billingType,
  finePercent: s.finePercent,
  monthlyInterestPercent: s.monthlyInterestPercent,
  firstDueDate: s.firstDueDate,
  nextDueDate: s.nextDueDate,
  nextSequence: s.nextSequence,
  nextIssueDate: s.status === 'ended' ? null : issueDate(s.nextDueDate, s.issueDaysBeforeDue),
  maxInvoices: s.maxInvoices,
  issueDaysBeforeDue: s.issueDaysBeforeDue,
  status: s.status,
  scheduleId: s.scheduleId,
  owner: s.ownerName && s.ownerDocument ? { name: s.ownerName, document: s.ownerDocument, pixKey: s.ownerPixKey, agencyFeePercent: s.agencyFeePercent, payoutDay: s.payoutDay } : null,
  createdAt: iso(s.createdAt) as string,
  pausedAt: iso(s.pausedAt),
  endedAt: iso(s.endedAt),
  endReason: s.endReason,
});
