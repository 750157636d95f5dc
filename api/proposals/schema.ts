import { z } from 'zod';
import type { Proposal } from '../../db/models';
import { dateOnly } from '../../domain/contract-template';
import { PROPOSAL_STATUSES, SIGNING_ORDERS } from '../../domain/sales-statuses';
import { signerInput } from '../contracts/schema';
import { pageQuery } from '../pagination';

const cents = z.number().int().min(0).max(1e13);

export const proposalItemInput = z
  .object({
    offeringId: z.uuid().optional(),
    description: z.string().trim().min(1).max(500),
    quantity: z.number().int().min(1).max(100_000),
    unitPriceCents: cents,
    discountCents: cents.default(0),
  })
  .strict();

export const createProposalBody = z
  .object({
    items: z.array(proposalItemInput).min(1).max(100),
    discountCents: cents.default(0),
    validUntil: z.iso.date(),
    notes: z.string().trim().max(5000).optional(),
  })
  .strict();

export const proposalListQuery = pageQuery.extend({ status: z.enum(PROPOSAL_STATUSES).optional(), leadId: z.uuid().optional() }).strict();

export const acceptProposalBody = z
  .object({
    // Staff say how the contract is signed; without signers, the proposal's contact signs alone.
    signingOrder: z.enum(SIGNING_ORDERS),
    signers: z.array(signerInput).min(1).max(20).optional(),
    templateId: z.uuid().optional(),
  })
  .strict();

export const rejectProposalBody = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();

export const proposalToken = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'link de proposta inválido') });

export const proposalView = z.object({
  id: z.uuid(),
  number: z.number().int(),
  leadId: z.uuid(),
  contactId: z.uuid(),
  status: z.enum(PROPOSAL_STATUSES),
  items: z.array(z.object({ offeringId: z.uuid().nullable(), description: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int(), discountCents: z.number().int(), totalCents: z.number().int() })),
  subtotalCents: z.number().int(),
  discountCents: z.number().int(),
  totalCents: z.number().int(),
  validUntil: z.iso.date(),
  notes: z.string().nullable(),
  decidedAt: z.iso.datetime().nullable(),
  decidedByType: z.string().nullable(),
  decisionReason: z.string().nullable(),
  contractId: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
});

export const publicProposalView = proposalView.pick({ number: true, status: true, items: true, subtotalCents: true, discountCents: true, totalCents: true, validUntil: true, notes: true }).extend({ tenantName: z.string() });

export { dateOnly };

export const toProposalView = (p: Proposal, contractId: string | null = null): z.infer<typeof proposalView> => ({
  id: p.id,
  number: p.number,
  leadId: p.leadId,
  contactId: p.contactId,
  status: p.status,
  items: p.items,
  subtotalCents: p.subtotalCents,
  discountCents: p.discountCents,
  totalCents: p.totalCents,
  validUntil: dateOnly(p.validUntil),
  notes: p.notes,
  decidedAt: p.decidedAt ? new Date(p.decidedAt).toISOString() : null,
  decidedByType: p.decidedByType,
  decisionReason: p.decisionReason,
  contractId,
  createdAt: new Date(p.createdAt).toISOString(),
});
