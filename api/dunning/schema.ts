import { z } from 'zod';
import type { DunningEvent } from '../../db/models';
import { COLLECTION_OUTCOMES, DUNNING_EVENT_TYPES, DUNNING_STAGES } from '../../domain/billing-statuses';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const note = z.string().trim().min(1).max(1000);

export const promiseBody = z.object({ promisedDate: isoDate, amountCents: z.number().int().min(1).optional(), note: note.optional() }).strict();
export const renegotiateBody = z
  .object({ installments: z.array(z.object({ dueDate: isoDate, amountCents: z.number().int().min(1) }).strict()).min(1).max(60), note: note.optional() })
  .strict();
export const cancelInvoiceBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

// The workflow's view as it answers it (see workflows/dunning/definitions.ts DunningView).
export const dunningViewSchema = z
  .object({
    invoiceId: z.string(),
    stage: z.enum(DUNNING_STAGES),
    nextAction: z.object({ kind: z.string(), stepKey: z.string(), dueAt: z.string() }).nullable(),
    waitingFor: z.enum(['collection_window', 'promise']).nullable(),
    amountDueToday: z.object({ principalCents: z.number(), fineCents: z.number(), interestCents: z.number(), totalCents: z.number(), daysLate: z.number() }),
    today: z.string(),
  })
  .passthrough();

export const dunningEventView = z.object({
  id: z.uuid(),
  seq: z.number(),
  type: z.enum(DUNNING_EVENT_TYPES),
  stage: z.enum(DUNNING_STAGES).nullable(),
  stepKey: z.string().nullable(),
  amountDueCents: z.number().nullable(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime(),
});
export const toDunningEventView = (e: DunningEvent): z.infer<typeof dunningEventView> => ({
  id: e.id,
  seq: Number(e.seq),
  type: e.type,
  stage: e.stage,
  stepKey: e.stepKey,
  amountDueCents: e.amountDueCents,
  data: e.data,
  occurredAt: e.occurredAt.toISOString(),
});

export const collectionOutcome = z.enum(COLLECTION_OUTCOMES);
