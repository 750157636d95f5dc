import { z } from 'zod';
import type { Offering } from '../../db/models';
import { OFFERING_ATTRIBUTE_SCHEMAS } from '../../domain/offerings';
import { OFFERING_KINDS } from '../../domain/sales-statuses';

// The attributes of any kind; the handler checks them against the offering's own kind.
export const anyAttributes = z.union([
  OFFERING_ATTRIBUTE_SCHEMAS.property,
  OFFERING_ATTRIBUTE_SCHEMAS.vehicle,
  OFFERING_ATTRIBUTE_SCHEMAS.plan,
  OFFERING_ATTRIBUTE_SCHEMAS.service,
]);

const cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const code = z.string().trim().min(1).max(60);

export const offeringFields = {
  code: code.nullable(),
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  priceCents: cents.nullable(),
  attributes: z.looseObject({}).pipe(anyAttributes),
  active: z.boolean(),
};

export const createOfferingBody = z
  .object({
    kind: z.enum(OFFERING_KINDS),
    code: offeringFields.code.optional(),
    title: offeringFields.title,
    description: offeringFields.description.default(''),
    priceCents: offeringFields.priceCents.optional(),
    attributes: offeringFields.attributes,
    active: offeringFields.active.default(true),
  })
  .strict();

export const patchOfferingBody = z
  .object(offeringFields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field');

const booleanString = z.enum(['true', 'false']).transform((v) => v === 'true');
export const offeringListQuery = z.object({ kind: z.enum(OFFERING_KINDS).optional(), active: booleanString.optional() });

export const offeringView = z.object({
  id: z.uuid(),
  kind: z.enum(OFFERING_KINDS),
  code: z.string().nullable(),
  title: z.string(),
  description: z.string(),
  priceCents: z.number().int().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const toOfferingView = (o: Offering): z.infer<typeof offeringView> => ({
  id: o.id,
  kind: o.kind,
  code: o.code,
  title: o.title,
  description: o.description,
  priceCents: o.priceCents,
  attributes: o.attributes,
  active: o.active,
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
});
