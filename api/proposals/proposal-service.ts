import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { sendToContact, type ContactMessagingDeps } from '../../activities/contact-messaging';
import { moveLeadStage } from '../../activities/lead-stages';
import { startAutomationEvent } from '../../activities/automation-events';
import { Contract, Proposal } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import type { Actor } from '../../domain/actor';
import { dateOnly, formatBrl, todayIn } from '../../domain/contract-template';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { newSecret, sha256 } from '../../infra/secret-tokens';
import type { SigningOrder } from '../../domain/sales-statuses';
import type { ApiDeps } from '../deps';
import { conflict, HttpProblem, notFound } from '../problem';
import { callWorkflow } from '../workflow-calls';
import { contractSpecFromProposal, createContract, startContractSigning, type SignerSpec } from '../contracts/contract-service';

// A proposal's life: sent to the customer with a link, accepted or rejected (by staff or by the
// customer through the link). Acceptance, however often retried, ends in one contract and its
// signing workflow.

export const PROPOSAL_TEMPLATE = 'proposta_comercial';

export const proposalExpired = (validUntil: string) =>
  new HttpProblem(410, 'Gone', `Esta proposta venceu em ${validUntil.split('-').reverse().join('/')}.`);

export async function isExpired(trx: Knex.Transaction, tenantId: string, p: Proposal, now = new Date()): Promise<boolean> {
  const tz = (await readTenantSettings(trx, tenantId))?.settings.timeZone ?? DEFAULT_TENANT_SETTINGS.timeZone;
  return dateOnly(p.validUntil) < todayIn(tz, now);
}

async function emitProposalUpdated(deps: ApiDeps, p: Proposal) {
  await deps.realtime.emit({ tenantId: p.tenantId }, 'proposal:updated', {
    tenantId: p.tenantId, proposalId: p.id, leadId: p.leadId, status: p.status, totalCents: p.totalCents, updatedAt: new Date(p.updatedAt).toISOString(),
  });
}

const messagingDeps = (deps: ApiDeps): ContactMessagingDeps => ({ ...deps, whatsapp: { perCustomerIntervalMs: deps.config.WHATSAPP_PER_CUSTOMER_INTERVAL_MS } });

export async function sendProposal(deps: ApiDeps, tenantId: string, proposalId: string, actor: Actor, idempotencyKey?: string): Promise<Proposal> {
  const token = newSecret();
  const prepared = await withTenant(deps.knex, tenantId, async (trx) => {
    const p = await Proposal.query(trx).findById(proposalId).forUpdate();
    if (!p) throw notFound('Proposta não encontrada.');
    if (!['draft', 'sent'].includes(p.status)) throw conflict('Só uma proposta em rascunho ou enviada pode ser enviada.');
    if (await isExpired(trx, tenantId, p)) throw proposalExpired(dateOnly(p.validUntil));
    const contact = await trx('contacts').where({ id: p.contactId }).first('name', 'profileName', 'waId');
    if (!contact?.waId) throw conflict('O contato desta proposta não tem WhatsApp.');
    const tenant = await trx('tenants').where({ id: tenantId }).first('name');
    const updated = await Proposal.query(trx).patchAndFetchById(p.id, { status: 'sent', linkTokenHash: sha256(token), updatedAt: new Date() });
    return { p: updated, contactName: (contact.name ?? contact.profileName ?? 'cliente') as string, tenantName: (tenant?.name ?? '') as string };
  });
  const { p } = prepared;
  const url = `${deps.config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/api/public/proposals/${token}`;
  await callWorkflow(
    deps,
    () =>
      sendToContact(messagingDeps(deps), {
        tenantId,
        contactId: p.contactId,
        updateId: `proposal:${p.id}:send:${idempotencyKey ?? randomUUID()}`,
        content: {
          type: 'template',
          name: PROPOSAL_TEMPLATE,
          language: 'pt_BR',
          components: [{ type: 'body', parameters: [prepared.contactName, String(p.number), formatBrl(p.totalCents), url].map((text) => ({ type: 'text', text })) }],
        },
      }),
    { deadlineMs: 15_000 },
  );
  await moveLeadStage(deps, { tenantId, leadId: p.leadId, stage: 'proposal', actor, reason: `Proposta nº ${p.number} enviada.`, onlyForward: true });
  await emitProposalUpdated(deps, p);
  return p;
}

export interface Decision {
  outcome: 'accepted' | 'rejected';
  by: 'staff' | 'customer';
  actor: Actor | null;
  reason?: string | null;
  evidence?: Record<string, unknown> | null;
  contract?: { signers?: SignerSpec[]; signingOrder?: SigningOrder; templateId?: string };
}

// Decides, then (for an acceptance) makes sure the one contract exists and is signing. A retry
// after a failure past the decision finishes the contract instead of refusing.
export async function decideProposal(deps: ApiDeps, tenantId: string, proposalId: string, d: Decision): Promise<{ proposal: Proposal; contractId: string | null }> {
  const { proposal, changed } = await withTenant(deps.knex, tenantId, async (trx) => {
    const p = await Proposal.query(trx).findById(proposalId).forUpdate();
    if (!p) throw notFound('Proposta não encontrada.');
    if (p.status === d.outcome) return { proposal: p, changed: false };
    if (!(d.by === 'staff' ? ['draft', 'sent'] : ['sent']).includes(p.status)) {
      throw conflict(p.status === 'accepted' ? 'Esta proposta já foi aceita.' : p.status === 'rejected' ? 'Esta proposta já foi recusada.' : 'Esta proposta não pode mais ser decidida.');
    }
    if (await isExpired(trx, tenantId, p)) throw proposalExpired(dateOnly(p.validUntil));
    const now = new Date();
    const updated = await Proposal.query(trx).patchAndFetchById(p.id, {
      status: d.outcome,
      decidedAt: now,
      decidedByType: d.by === 'customer' ? 'customer' : (d.actor?.type ?? 'user'),
      decidedById: d.actor?.id ?? null,
      decisionReason: d.reason ?? null,
      decisionEvidence: d.evidence ?? null,
      updatedAt: now,
    });
    return { proposal: updated, changed: true };
  });
  if (changed) await emitProposalUpdated(deps, proposal);
  if (d.outcome === 'rejected') return { proposal, contractId: null };
  if (changed) {
    await startAutomationEvent(deps, tenantId, `proposal:${proposal.id}:accepted`, 'proposal.accepted', {
      proposalId: proposal.id, leadId: proposal.leadId, contactId: proposal.contactId, number: proposal.number, totalCents: proposal.totalCents, decidedBy: d.by, at: new Date().toISOString(),
    });
  }
  const existing = await withTenant(deps.knex, tenantId, async (trx) => Contract.query(trx).where({ proposalId: proposal.id }).first());
  if (existing) {
    if (existing.status === 'draft') await startContractSigning(deps, existing).catch((err: unknown) => {
      if (!(err instanceof HttpProblem && err.status === 409)) throw err;
    });
    return { proposal, contractId: existing.id };
  }
  const spec = await contractSpecFromProposal(deps, tenantId, proposal.id, {
    ...(d.contract?.signers ? { signers: d.contract.signers } : {}),
    ...(d.contract?.signingOrder ? { signingOrder: d.contract.signingOrder } : {}),
    ...(d.contract?.templateId ? { templateId: d.contract.templateId } : {}),
  });
  const contract = await createContract(deps, tenantId, d.actor ?? { type: 'system', id: null }, spec);
  return { proposal, contractId: contract.id };
}

