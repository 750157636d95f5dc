import { z } from 'zod';
import type { Contact, Lead } from '../../db/models';
import { MAX_INTEREST_LENGTH } from '../../domain/lead-interest';
import { LEAD_SOURCES, LEAD_STAGES, LEAD_TEMPERATURES, NURTURING_STATUSES } from '../../domain/sales-statuses';
import { waIdSchema } from '../contacts/schema';
import { email, personName } from '../schemas';

const interest = z.string().trim().max(MAX_INTEREST_LENGTH);

// An existing contact by id, or one found (or added) by WhatsApp number.
export const leadContactInput = z
  .object({ id: z.uuid().optional(), waId: waIdSchema.optional(), name: personName.optional(), email: email.optional() })
  .strict()
  .refine((c) => c.id !== undefined || c.waId !== undefined, 'send the contact id or its WhatsApp number (waId)');

export const createLeadBody = z
  .object({
    contact: leadContactInput,
    offeringId: z.uuid().optional(),
    interest: interest.default(''),
    // Staff say where the lead came from (a walk-in, a portal); automations are 'automation'.
    source: z.enum(LEAD_SOURCES).optional(),
    sourceDetail: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => b.offeringId !== undefined || b.interest.length > 0, { message: 'name an offering or describe the interest', path: ['interest'] });

export const patchLeadBody = z
  .object({
    ownerId: z.uuid().nullable(),
    interest,
    offeringId: z.uuid().nullable(),
    // Staff's own judgement over the heuristic's.
    score: z.number().int().min(0).max(100),
    temperature: z.enum(LEAD_TEMPERATURES),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field');

export const stageBody = z.object({ stage: z.enum(LEAD_STAGES), reason: z.string().trim().min(1).max(500).optional() }).strict();

export const boardQuery = z.object({
  stage: z.enum(LEAD_STAGES).optional(),
  ownerId: z.union([z.uuid(), z.enum(['me', 'none'])]).optional(),
  source: z.enum(LEAD_SOURCES).optional(),
  temperature: z.enum(LEAD_TEMPERATURES).optional(),
  offeringId: z.uuid().optional(),
  q: z.string().trim().min(1).max(100).optional(),
});

export const leadView = z.object({
  id: z.uuid(),
  contact: z.object({ id: z.uuid(), name: z.string().nullable(), waId: z.string().nullable(), email: z.string().nullable() }),
  offeringId: z.uuid().nullable(),
  interest: z.string(),
  source: z.enum(LEAD_SOURCES),
  sourceDetail: z.string().nullable(),
  stage: z.enum(LEAD_STAGES),
  ownerId: z.uuid().nullable(),
  score: z.number().int().nullable(),
  temperature: z.enum(LEAD_TEMPERATURES).nullable(),
  scoreReasons: z.array(z.string()),
  nurturingStatus: z.enum(NURTURING_STATUSES).nullable(),
  nurturingNextAt: z.iso.datetime().nullable(),
  lostReason: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  stageChangedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
});
export type LeadView = z.infer<typeof leadView>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function toLeadView(l: Lead, c: Pick<Contact, 'id' | 'name' | 'waId' | 'email' | 'profileName'> | undefined): LeadView {
  return {
    id: l.id,
    contact: { id: l.contactId, name: c?.name ?? c?.profileName ?? null, waId: c?.waId ?? null, email: c?.email ?? null },
    offeringId: l.offeringId,
    interest: l.interest,
    source: l.source,
    sourceDetail: l.sourceDetail,
    stage: l.stage,
    ownerId: l.ownerId,
    score: l.score,
    temperature: l.temperature,
    scoreReasons: l.scoreReasons ?? [],
    nurturingStatus: l.nurturingStatus,
    nurturingNextAt: iso(l.nurturingNextAt),
    lostReason: l.lostReason,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
    stageChangedAt: l.stageChangedAt.toISOString(),
    closedAt: iso(l.closedAt),
  };
}

export const TIMELINE_TYPES = ['message', 'lead_event', 'appointment', 'consent', 'proposal', 'contract'] as const;
export const timelineItem = z.object({ type: z.enum(TIMELINE_TYPES), at: z.iso.datetime(), id: z.uuid(), data: z.record(z.string(), z.unknown()) });
export type TimelineItem = z.infer<typeof timelineItem>;
