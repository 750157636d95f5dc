import { z } from 'zod';
import { PAYMENT_KINDS, PAYMENT_METHODS, PAYMENT_SOURCES } from '../../domain/billing-statuses';

// A payment staff record by hand (baixa manual): money that reached the tenant outside the gateway.
export const MANUAL_PAYMENT_METHODS = ['transfer', 'cash', 'pix', 'boleto', 'other'] as const;

const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === d;
  }, 'no such date');

export const manualPaymentBody = z
  .object({
    // Up to R$ 10 bilhões in centavos: beyond that it is a typo.
    amountCents: z.number().int().positive().max(1_000_000_000_000),
    paidOn: calendarDate,
    method: z.enum(MANUAL_PAYMENT_METHODS),
    note: z.string().trim().max(1000).optional(),
  })
  .strict();

export const paymentView = z.object({
  id: z.uuid(),
  invoiceId: z.uuid(),
  kind: z.enum(PAYMENT_KINDS),
  amountCents: z.number().int(),
  paidOn: z.string(),
  method: z.enum(PAYMENT_METHODS),
  source: z.enum(PAYMENT_SOURCES),
  dunningStage: z.string().nullable(),
  note: z.string().nullable(),
  recordedBy: z.string().nullable(),
  createdAt: z.string(),
});

export const manualPaymentResponse = z.object({
  payment: paymentView,
  duplicate: z.boolean(),
  invoice: z.object({
    id: z.uuid(),
    status: z.string(),
    paidCents: z.number().int(),
    amountDueTodayCents: z.number().int(),
    // Money recorded on a cancelled or renegotiated invoice: someone has to give it back or move it.
    wasSettled: z.boolean(),
  }),
});
