import { z } from 'zod';
import type { LeadForm } from '../../db/models';
import { MAX_INTEREST_LENGTH } from '../../domain/lead-interest';
import { waIdSchema } from '../contacts/schema';
import { email, personName } from '../schemas';

// `lf_` and 256 random bits: the prefix names it in secret scanners and in the dashboard.
export const LEAD_FORM_KEY = /^lf_[A-Za-z0-9_-]{43}$/;
export const leadFormKeyParam = z.object({ key: z.string().regex(LEAD_FORM_KEY, 'expected a lead form key (lf_…)') });

export const leadFormView = z.object({
  id: z.uuid(),
  name: z.string(),
  keyPrefix: z.string(),
  consentTextVersion: z.string().nullable(),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
});

export const toLeadFormView = (f: LeadForm): z.infer<typeof leadFormView> => ({
  id: f.id,
  name: f.name,
  keyPrefix: f.keyPrefix,
  consentTextVersion: f.consentTextVersion,
  active: f.active,
  createdAt: f.createdAt.toISOString(),
});

export const createLeadFormBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    // The consent text the form's checkbox shows; without it, the tenant's marketing text version.
    consentTextVersion: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

// What a website posts. Lengths are bounded; `website` is a honeypot field that people never
// see and bots fill in; `startedAt` is when the page rendered the form (a submission faster than a
// person can type is a bot's).
export const publicLeadBody = z
  .object({
    name: personName,
    phone: z
      .string()
      .trim()
      .max(30)
      .transform((p) => p.replace(/[\s().+-]/g, ''))
      .pipe(waIdSchema),
    email: email.optional(),
    interest: z.string().trim().max(MAX_INTEREST_LENGTH).optional(),
    offeringId: z.uuid().optional(),
    message: z.string().trim().max(2000).optional(),
    marketingConsent: z.boolean().default(false),
    pageUrl: z.string().max(2000).optional(),
    website: z.string().max(500).optional(),
    startedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
