import { z } from 'zod';
import type { Contract, ContractEvent, ContractSigner } from '../../db/models';
import { CONTRACT_STATUSES, SIGNER_STATUSES, SIGNING_ORDERS } from '../../domain/sales-statuses';
import { pageQuery } from '../pagination';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

// Brazilian mobile numbers as Meta writes them (country code, no +).
export const waId = z.string().regex(/^\d{10,15}$/, 'número do WhatsApp com DDI e DDD, só dígitos');

export const signerInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    waId,
    email: z.email().max(254).optional(),
    document: z.string().trim().min(1).max(40).optional(),
    position: z.number().int().min(1).max(50).optional(),
  })
  .strict();

export const createContractBody = z
  .object({
    proposalId: z.uuid().optional(),
    contactId: z.uuid().optional(),
    leadId: z.uuid().optional(),
    templateId: z.uuid().optional(),
    title: z.string().trim().min(1).max(200).optional(),
    totalCents: z.number().int().min(0).max(1e13).optional(),
    signingOrder: z.enum(SIGNING_ORDERS).optional(),
    // Flat terms for billing (installments, first due date...), as billing will read them.
    billingTerms: z.record(z.string().max(100), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()])).optional(),
    signers: z.array(signerInput).min(1).max(20).optional(),
  })
  .strict()
  .refine((b) => b.proposalId || (b.contactId && b.totalCents !== undefined && b.signers), {
    message: 'informe proposalId, ou contactId, totalCents e signers',
    path: ['proposalId'],
  });

export const contractListQuery = pageQuery
  .extend({ status: z.enum(CONTRACT_STATUSES).optional(), leadId: z.uuid().optional() })
  .strict();

export const cancelContractBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

export const documentQuery = z.object({ kind: z.enum(['original', 'final']).default('original') }).strict();

export const signerView = z.object({
  id: z.uuid(),
  position: z.number().int(),
  name: z.string(),
  waId: z.string(),
  status: z.enum(SIGNER_STATUSES),
  notifiedAt: z.iso.datetime().nullable(),
  viewedAt: z.iso.datetime().nullable(),
  signedAt: z.iso.datetime().nullable(),
  declinedAt: z.iso.datetime().nullable(),
  declineReason: z.string().nullable(),
});

export const contractView = z.object({
  id: z.uuid(),
  number: z.number().int(),
  title: z.string(),
  status: z.enum(CONTRACT_STATUSES),
  signingOrder: z.enum(SIGNING_ORDERS),
  totalCents: z.number().int(),
  proposalId: z.uuid().nullable(),
  leadId: z.uuid().nullable(),
  contactId: z.uuid(),
  originalSha256: z.string().nullable(),
  finalSha256: z.string().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  sentAt: z.iso.datetime().nullable(),
  signedAt: z.iso.datetime().nullable(),
  activatedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  endReason: z.string().nullable(),
  createdAt: z.iso.datetime(),
  signers: z.array(signerView),
});

export const contractEventView = z.object({
  seq: z.string(),
  type: z.string(),
  signerId: z.uuid().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  documentSha256: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime(),
  prevHash: z.string().nullable(),
  hash: z.string(),
});

export const toSignerView = (s: ContractSigner): z.infer<typeof signerView> => ({
  id: s.id,
  position: s.position,
  name: s.name,
  waId: s.waId,
  status: s.status,
  notifiedAt: iso(s.notifiedAt),
  viewedAt: iso(s.viewedAt),
  signedAt: iso(s.signedAt),
  declinedAt: iso(s.declinedAt),
  declineReason: s.declineReason,
});

export const toContractView = (c: Contract, signers: ContractSigner[]): z.infer<typeof contractView> => ({
  id: c.id,
  number: c.number,
  title: c.title,
  status: c.status,
  signingOrder: c.signingOrder,
  totalCents: c.totalCents,
  proposalId: c.proposalId,
  leadId: c.leadId,
  contactId: c.contactId,
  originalSha256: c.originalSha256,
  finalSha256: c.finalSha256,
  expiresAt: iso(c.expiresAt),
  sentAt: iso(c.sentAt),
  signedAt: iso(c.signedAt),
  activatedAt: iso(c.activatedAt),
  endedAt: iso(c.endedAt),
  endReason: c.endReason,
  createdAt: iso(c.createdAt) as string,
  signers: signers.map(toSignerView),
});

export const toContractEventView = (e: ContractEvent): z.infer<typeof contractEventView> => ({
  seq: String(e.seq),
  type: e.type,
  signerId: e.signerId,
  ip: e.ip,
  userAgent: e.userAgent,
  documentSha256: e.documentSha256,
  data: e.data,
  occurredAt: iso(e.occurredAt) as string,
  prevHash: e.prevHash,
  hash: e.hash,
});
