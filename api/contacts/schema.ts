import { z } from 'zod';
import type { ConsentEvent, Contact } from '../../db/models';
import type { CurrentConsent } from '../../db/consent';
import { CONSENT_ACTIONS, CONSENT_CHANNELS, CONSENT_PURPOSES } from '../../domain/sales-statuses';
import { normalizeTaxId } from '../../domain/tax-id';
import { email, personName } from '../schemas';

export const waIdSchema = z.string().regex(/^\d{8,20}$/, 'wa_id: digits only, with country code');

export const contactView = z.object({
  id: z.uuid(),
  waId: z.string().nullable(),
  userId: z.string().nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  profileName: z.string().nullable(),
  document: z.string().nullable(),
  doNotContact: z.boolean(),
  doNotContactReason: z.string().nullable(),
  delinquentSince: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const toContactView = (c: Contact): z.infer<typeof contactView> => ({
  id: c.id,
  waId: c.waId,
  userId: c.userId,
  name: c.name,
  email: c.email,
  profileName: c.profileName,
  document: c.document,
  doNotContact: c.doNotContact,
  doNotContactReason: c.doNotContactReason,
  delinquentSince: c.delinquentSince ? c.delinquentSince.toISOString() : null,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

export const createContactBody = z.object({ waId: waIdSchema, name: personName.optional(), email: email.optional() }).strict();
// CPF or CNPJ, with or without punctuation; stored as digits only (a charge needs it).
export const taxIdSchema = z
  .string()
  .trim()
  .max(30)
  .refine((v) => normalizeTaxId(v) !== null, 'CPF ou CNPJ inválido.')
  .transform((v) => normalizeTaxId(v)!.digits);

// doNotContact: SP's "Não me Ligue" and any request to stop: every outbound process honours it.
export const patchContactBody = z
  .object({
    waId: waIdSchema,
    name: personName.nullable(),
    email: email.nullable(),
    document: taxIdSchema.nullable(),
    doNotContact: z.boolean(),
    doNotContactReason: z.string().trim().min(1).max(200).nullable(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field');

// What was shown or captured: scalars only (an IP, a user agent, who typed it in, a form's URL).
export const evidenceSchema = z.record(z.string().max(60), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]));

export const consentBody = z
  .object({
    purpose: z.enum(CONSENT_PURPOSES),
    action: z.enum(CONSENT_ACTIONS),
    channel: z.enum(CONSENT_CHANNELS).default('api'),
    textVersion: z.string().trim().min(1).max(100).optional(),
    evidence: evidenceSchema.default({}),
  })
  .strict()
  .refine((b) => b.action === 'withdrawn' || b.textVersion !== undefined, { message: 'a grant names the text version agreed to', path: ['textVersion'] })
  // Meta's opt-out arrives only by its webhook.
  .refine((b) => b.channel !== 'meta_opt_out', { message: 'meta_opt_out is recorded from Meta’s webhook only', path: ['channel'] });

export const consentEventView = z.object({
  id: z.uuid(),
  seq: z.string(),
  purpose: z.enum(CONSENT_PURPOSES),
  action: z.enum(CONSENT_ACTIONS),
  channel: z.enum(CONSENT_CHANNELS),
  textVersion: z.string().nullable(),
  evidence: z.record(z.string(), z.unknown()),
  recordedBy: z.object({ type: z.string(), id: z.string().nullable() }),
  occurredAt: z.iso.datetime(),
});

export const toConsentEventView = (e: ConsentEvent): z.infer<typeof consentEventView> => ({
  id: e.id,
  seq: String(e.seq),
  purpose: e.purpose,
  action: e.action,
  channel: e.channel,
  textVersion: e.textVersion,
  evidence: e.evidence,
  recordedBy: { type: e.recordedByType, id: e.recordedById },
  occurredAt: e.occurredAt.toISOString(),
});

export const currentConsentView = z.object({
  granted: z.boolean(),
  since: z.iso.datetime().nullable(),
  textVersion: z.string().nullable(),
  channel: z.enum(CONSENT_CHANNELS).nullable(),
});

export const toCurrentConsentView = (c: CurrentConsent): z.infer<typeof currentConsentView> => ({
  granted: c.granted,
  since: c.since?.toISOString() ?? null,
  textVersion: c.textVersion,
  channel: c.channel,
});

export const consentsView = z.object({
  current: z.record(z.enum(CONSENT_PURPOSES), currentConsentView),
  ledger: z.array(consentEventView),
});
