import { z } from 'zod';
import { CONTRACT_STATUSES, SIGNER_STATUSES } from '../../domain/sales-statuses';

export const signBody = z
  .object({
    code: z.string().regex(/^\d{6}$/, 'código de 6 dígitos'),
    documentSha256: z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256 em hexadecimal'),
    accept: z.literal(true),
  })
  .strict();

export const declineBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

export const signingView = z.object({
  contractTitle: z.string(),
  contractNumber: z.number().int(),
  contractStatus: z.enum(CONTRACT_STATUSES),
  signerName: z.string(),
  signerStatus: z.enum(SIGNER_STATUSES),
  yourTurn: z.boolean(),
  documentSha256: z.string().nullable(),
  linkExpiresAt: z.iso.datetime().nullable(),
});

export const codeSentView = z.object({ sent: z.boolean(), expiresAt: z.iso.datetime() });
export const signedView = z.object({ signed: z.literal(true), signedAt: z.iso.datetime(), documentSha256: z.string() });
export const declinedView = z.object({ declined: z.literal(true) });
