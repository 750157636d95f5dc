import { z } from 'zod';
import type { OfferingKind } from './sales-statuses';

// What each kind of offering carries besides the common fields (title, price, code): the
// attributes a real-estate portal, a dealership or a consortium administrator filters on.
// Stored as jsonb; validated here on every write.

const UFS = [
  'AC', 'AL', 'AP', 'AM', 'BA', 'CE', 'DF', 'ES', 'GO', 'MA', 'MT', 'MS', 'MG', 'PA', 'PB', 'PR', 'PE', 'PI', 'RJ', 'RN', 'RS', 'RO',
  'RR', 'SC', 'SP', 'SE', 'TO',
] as const;

const count = (max: number) => z.number().int().min(0).max(max);
const label = z.string().trim().min(1).max(120);

// Old plates are ABC1234; Mercosul plates (since 2018) are ABC1D23. Stored without the hyphen.
export const PLATE = /^[A-Z]{3}[0-9][A-Z0-9][0-9]{2}$/;
export const plateSchema = z
  .string()
  .trim()
  .transform((p) => p.toUpperCase().replace(/-/g, ''))
  .pipe(z.string().regex(PLATE, 'placa no formato ABC1234 ou Mercosul ABC1D23'));

export const propertyAttributes = z
  .object({
    purpose: z.enum(['sale', 'rent']),
    type: z.enum(['apartment', 'house', 'condo_house', 'land', 'commercial', 'farm', 'other']),
    areaM2: z.number().positive().max(10_000_000),
    bedrooms: count(100).default(0),
    bathrooms: count(100).default(0),
    parkingSpaces: count(1000).default(0),
    neighborhood: label,
    city: label,
    state: z.enum(UFS),
  })
  .strict();

export const vehicleAttributes = z
  .object({
    make: label,
    model: label,
    year: z.number().int().min(1900).max(2100),
    km: z.number().int().min(0).max(5_000_000),
    fuel: z.enum(['flex', 'gasoline', 'ethanol', 'diesel', 'electric', 'hybrid', 'cng']),
    transmission: z.enum(['manual', 'automatic', 'cvt', 'automated']),
    condition: z.enum(['new', 'used']),
    plate: plateSchema.optional(),
  })
  .strict()
  // A new car has not run: anything beyond delivery mileage makes it used.
  .refine((v) => v.condition === 'used' || v.km <= 100, { message: 'um veículo novo tem no máximo 100 km', path: ['km'] });

export const planAttributes = z
  .object({
    category: z.enum(['consorcio', 'subscription', 'other']),
    termMonths: z.number().int().min(1).max(600),
    monthlyCents: z.number().int().min(0),
    creditCents: z.number().int().min(0).optional(),
  })
  .strict()
  // A consortium quota is defined by its letter of credit.
  .refine((p) => p.category !== 'consorcio' || p.creditCents !== undefined, { message: 'um consórcio precisa do valor da carta de crédito', path: ['creditCents'] });

export const serviceAttributes = z
  .object({
    durationMinutes: z.number().int().min(1).max(60 * 24 * 30),
    location: z.enum(['on_site', 'remote', 'customer_site']).default('on_site'),
    recurrence: z.enum(['once', 'weekly', 'monthly', 'yearly']).default('once'),
  })
  .strict();

export const OFFERING_ATTRIBUTE_SCHEMAS = {
  property: propertyAttributes,
  vehicle: vehicleAttributes,
  plan: planAttributes,
  service: serviceAttributes,
} as const satisfies Record<OfferingKind, z.ZodType>;

export type OfferingAttributes = { [K in OfferingKind]: z.output<(typeof OFFERING_ATTRIBUTE_SCHEMAS)[K]> };

export type AttributesResult =
  | { ok: true; attributes: Record<string, unknown> }
  | { ok: false; issues: { path: string; message: string; code?: string }[] };

export function parseOfferingAttributes(kind: OfferingKind, attributes: unknown): AttributesResult {
  const r = OFFERING_ATTRIBUTE_SCHEMAS[kind].safeParse(attributes);
  if (r.success) return { ok: true, attributes: r.data as Record<string, unknown> };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code })) };
}
