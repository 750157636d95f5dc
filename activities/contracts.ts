import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { appendContractEvent } from '../db/contract-evidence';
import { resolveContactId } from '../db/contacts';
import { BillingHandoff, Contract, ContractDocument, ContractEvent, ContractSigner, Subscription } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { SYSTEM_ACTOR, type Actor } from '../domain/actor';
import { billingTermsDefaults, isConsumerDocument, parseBillingTerms } from '../domain/billing-terms';
import { todayIn } from '../domain/contract-template';
import { SIGNING_TEMPLATES, signingUrl, type SignerTurn } from '../domain/contract-signing';
import { DEFAULT_TENANT_SETTINGS } from '../domain/tenant-settings';
import type { ContractStatus, SigningOrder } from '../domain/sales-statuses';
import { appendEvidencePage, type EvidenceSheet } from '../infra/pdf/evidence';
import { renderContractPdf } from '../infra/pdf/render';
import { loadPlatformCertificate, sealPdf } from '../infra/pdf/seal';
import { sha256Hex, verifySealedPdf } from '../infra/pdf/verify';
import { newSecret, sha256 } from '../infra/secret-tokens';
import { contractWorkflowId } from '../workflows/contract-signing/definitions';
import { startAutomationEvent } from './automation-events';
import { endSubscription, insertSubscription, startSubscriptionBilling } from './billing-schedules';
import { contractDocumentText } from './contract-render';
import { sendToContact } from './contact-messaging';
import { realtimeOf, type ActivityDeps } from './deps';
import { moveLeadStage } from './lead-stages';

// The contract-signing workflow's side effects: the rendered original, the signers' links, the
// evidence chain, the sealed final, and the hand-off to billing. Each is safe to retry.

const DAY_MS = 24 * 3600 * 1000;
const ENDED: readonly ContractStatus[] = ['declined', 'expired', 'cancelled'];

interface ContractRef {
  tenantId: string;
  contractId: string;
}

export async function emitContractUpdated(deps: Pick<ActivityDeps, 'realtime' | 'knex'>, tenantId: string, contractId: string): Promise<void> {
  const snapshot = await withTenant(deps.knex, tenantId, async (trx) => {
    const contract = await Contract.query(trx).findById(contractId);
    const signers = await ContractSigner.query(trx).where({ contractId }).orderBy(['position', 'id']);
    return contract && { contract, signers };
  });
  if (!snapshot) return;
  const { contract, signers } = snapshot;
  await realtimeOf(deps).emit({ tenantId }, 'contract:updated', {
    tenantId,
    contractId,
    leadId: contract.leadId,
    status: contract.status,
    signers: signers.map((s) => ({ signerId: s.id, position: s.position, status: s.status })),
    updatedAt: contract.updatedAt.toISOString(),
  });
}

const turnsOf = (signers: ContractSigner[]): SignerTurn[] => signers.map((s) => ({ id: s.id, position: s.position, status: s.status }));

async function settingsOf(trx: Knex.Transaction, tenantId: string) {
  return (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
}

export function contractActivities(deps: ActivityDeps) {
  const { knex } = deps;
  const contractEvent = (d: Record<string, unknown>) => ({ ...d, at: new Date().toISOString() });

  return {
    // Renders the original once (its SHA-256 is what every signer must have seen) and opens signing.
    async prepareContractSigning(a: ContractRef & { expiresInMs?: number }): Promise<{
      status: ContractStatus;
      signingOrder: SigningOrder;
      signers: SignerTurn[];
      reminderEveryDays: number;
      expiresAt: string;
    }> {
      const result = await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId).forUpdate();
        if (!contract) throw new Error(`contract ${a.contractId} not found`);
        const settings = await settingsOf(trx, a.tenantId);
        const signing = settings.sales.signing;
        const now = new Date();
        if (contract.status === 'draft') {
          const existing = await ContractDocument.query(trx).where({ contractId: contract.id, kind: 'original' }).first();
          if (!existing) {
            const text = await contractDocumentText(trx, contract, settings.timeZone, now);
            const pdf = await renderContractPdf({ ...text, reference: `Contrato nº ${contract.number}` });
            const sha256 = sha256Hex(pdf);
            await ContractDocument.query(trx).insert({
              id: randomUUID(),
              tenantId: a.tenantId,
              contractId: contract.id,
              kind: 'original',
              sha256,
              sizeBytes: pdf.byteLength,
              content: Buffer.from(pdf),
            });
            await Contract.query(trx).patchAndFetchById(contract.id, { originalSha256: sha256, updatedAt: now });
            await appendContractEvent(trx, { tenantId: a.tenantId, contractId: contract.id, type: 'document_rendered', documentSha256: sha256, data: { sizeBytes: pdf.byteLength } });
          }
          const expiresAt = contract.expiresAt ?? new Date(now.getTime() + (a.expiresInMs ?? signing.expiresAfterDays * DAY_MS));
          await Contract.query(trx).patchAndFetchById(contract.id, { status: 'signing', expiresAt, updatedAt: now });
          contract.status = 'signing';
          contract.expiresAt = expiresAt;
        }
        const signers = await ContractSigner.query(trx).where({ contractId: contract.id }).orderBy(['position', 'id']);
        return {
          status: contract.status,
          signingOrder: contract.signingOrder,
          signers: turnsOf(signers),
          reminderEveryDays: signing.reminderEveryDays,
          expiresAt: (contract.expiresAt ?? now).toISOString(),
        };
      });
      await emitContractUpdated(deps, a.tenantId, a.contractId);
      return result;
    },

    async readContractSigners(a: ContractRef): Promise<SignerTurn[]> {
      return withTenant(knex, a.tenantId, async (trx) => turnsOf(await ContractSigner.query(trx).where({ contractId: a.contractId }).orderBy(['position', 'id'])));
    },

    // A fresh link (a reminder replaces the previous one) sent over WhatsApp as a utility template.
    async notifySigner(a: ContractRef & { signerId: string; publicBaseUrl: string; kind: 'link' | 'reminder'; round: number }): Promise<{ sent: boolean; failure?: string }> {
      const token = newSecret();
      const prepared = await withTenant(knex, a.tenantId, async (trx) => {
        const signer = await ContractSigner.query(trx).findById(a.signerId).forUpdate();
        const contract = await Contract.query(trx).findById(a.contractId);
        if (!signer || !contract || contract.status !== 'signing' || signer.status === 'signed' || signer.status === 'declined') return null;
        const settings = await settingsOf(trx, a.tenantId);
        const now = new Date();
        await ContractSigner.query(trx).patchAndFetchById(signer.id, {
          linkTokenHash: sha256(token),
          linkExpiresAt: new Date(now.getTime() + settings.sales.signing.linkTtlHours * 3600 * 1000),
          status: signer.status === 'waiting' ? 'notified' : signer.status,
          notifiedAt: now,
        });
        await appendContractEvent(trx, {
          tenantId: a.tenantId,
          contractId: a.contractId,
          signerId: signer.id,
          type: a.kind === 'link' ? 'link_sent' : 'reminder_sent',
          data: { round: a.round, to: signer.waId },
        });
        const contactId = await resolveContactId(trx, a.tenantId, { waId: signer.waId });
        return { signer, contract, contactId };
      });
      if (!prepared) return { sent: false, failure: 'not pending' };
      const { signer, contract, contactId } = prepared;
      const url = signingUrl(a.publicBaseUrl, token);
      // A retry after the link was stored sends the newer link under a new update id.
      const attempt = Context.current().info.attempt;
      const result = await sendToContact(deps, {
        tenantId: a.tenantId,
        contactId,
        updateId: `${contractWorkflowId(a.tenantId, a.contractId)}:${a.kind}:${signer.id}:${a.round}${attempt > 1 ? `:a${attempt}` : ''}`,
        content: {
          type: 'template',
          name: a.kind === 'link' ? SIGNING_TEMPLATES.link : SIGNING_TEMPLATES.reminder,
          language: 'pt_BR',
          components: [{ type: 'body', parameters: [signer.name, contract.title, url].map((t) => ({ type: 'text', text: t })) }],
        },
      });
      await emitContractUpdated(deps, a.tenantId, a.contractId);
      return result.status === 'accepted' ? { sent: true } : { sent: false, failure: result.failure ?? 'failed' };
    },

    async recordContractSent(a: ContractRef): Promise<void> {
      const first = await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId).forUpdate();
        if (!contract || contract.sentAt) return null;
        const now = new Date();
        await Contract.query(trx).patchAndFetchById(contract.id, { sentAt: now, updatedAt: now });
        await appendContractEvent(trx, { tenantId: a.tenantId, contractId: a.contractId, type: 'sent' });
        return contract;
      });
      if (!first) return;
      await startAutomationEvent(deps, a.tenantId, `contract:${a.contractId}:sent`, 'contract.sent', contractEvent({
        contractId: a.contractId, leadId: first.leadId, contactId: first.contactId, number: first.number, title: first.title,
      }));
    },

    // Declined (the evidence row was written by the public endpoint) or cancelled by staff.
    async endContract(a: ContractRef & { outcome: 'declined' | 'cancelled'; reason: string | null; actor: Actor | null }): Promise<void> {
      const ended = await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId).forUpdate();
        if (!contract || ENDED.includes(contract.status)) return null;
        const now = new Date();
        await Contract.query(trx).patchAndFetchById(contract.id, { status: a.outcome, endedAt: now, endReason: a.reason ?? a.outcome, updatedAt: now });
        if (a.outcome === 'cancelled') {
          const actor = a.actor ?? SYSTEM_ACTOR;
          await appendContractEvent(trx, { tenantId: a.tenantId, contractId: a.contractId, type: 'cancelled', data: { reason: a.reason, actorType: actor.type, actorId: actor.id, previousStatus: contract.status } });
        }
        return contract;
      });
      if (ended && a.outcome === 'declined') {
        const decliner = await withTenant(knex, a.tenantId, async (trx) => ContractSigner.query(trx).where({ contractId: a.contractId, status: 'declined' }).first());
        await startAutomationEvent(deps, a.tenantId, `contract:${a.contractId}:declined`, 'contract.declined', contractEvent({
          contractId: a.contractId, leadId: ended.leadId, contactId: ended.contactId, signerId: decliner?.id ?? null, reason: decliner?.declineReason ?? null,
        }));
      }
      await emitContractUpdated(deps, a.tenantId, a.contractId);
    },

    // The deadline passed: the contract expires and each signer still holding a link hears so.
    async expireContract(a: ContractRef): Promise<void> {
      const expired = await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId).forUpdate();
        if (!contract || contract.status !== 'signing') return null;
        const now = new Date();
        await Contract.query(trx).patchAndFetchById(contract.id, { status: 'expired', endedAt: now, endReason: 'expired', updatedAt: now });
        await appendContractEvent(trx, { tenantId: a.tenantId, contractId: a.contractId, type: 'expired', data: { expiresAt: contract.expiresAt?.toISOString() ?? null } });
        const waiting = await ContractSigner.query(trx).where({ contractId: a.contractId }).whereIn('status', ['notified', 'viewed']);
        const notices = [];
        for (const s of waiting) notices.push({ signer: s, contactId: await resolveContactId(trx, a.tenantId, { waId: s.waId }) });
        return { contract, notices };
      });
      if (!expired) return;
      for (const { signer, contactId } of expired.notices) {
        await sendToContact(deps, {
          tenantId: a.tenantId,
          contactId,
          updateId: `${contractWorkflowId(a.tenantId, a.contractId)}:expired:${signer.id}`,
          content: {
            type: 'template',
            name: SIGNING_TEMPLATES.expired,
            language: 'pt_BR',
            components: [{ type: 'body', parameters: [signer.name, expired.contract.title].map((t) => ({ type: 'text', text: t })) }],
          },
        });
      }
      await startAutomationEvent(deps, a.tenantId, `contract:${a.contractId}:expired`, 'contract.expired', contractEvent({
        contractId: a.contractId, leadId: expired.contract.leadId, contactId: expired.contract.contactId,
      }));
      await emitContractUpdated(deps, a.tenantId, a.contractId);
    },

    // Everyone signed: the original plus an evidence page, sealed with the platform's certificate.
    async sealContract(a: ContractRef): Promise<{ finalSha256: string }> {
      const material = await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId);
        if (!contract) throw new Error(`contract ${a.contractId} not found`);
        const final = await ContractDocument.query(trx).where({ contractId: a.contractId, kind: 'final' }).select('sha256').first();
        if (final) return { done: final.sha256 as string } as const;
        const original = await ContractDocument.query(trx).where({ contractId: a.contractId, kind: 'original' }).first();
        if (!original) throw new Error(`contract ${a.contractId} has no original`);
        const signers = await ContractSigner.query(trx).where({ contractId: a.contractId }).orderBy(['position', 'id']);
        const events = await ContractEvent.query(trx).where({ contractId: a.contractId }).orderBy('seq');
        const settings = await settingsOf(trx, a.tenantId);
        return { contract, original, signers, events, timeZone: settings.timeZone } as const;
      });
      if ('done' in material) return { finalSha256: material.done as string };
      const { contract, original, signers, events, timeZone } = material;
      const nameOf = new Map(signers.map((s) => [s.id, s.name]));
      const sheet: EvidenceSheet = {
        contractTitle: contract.title,
        reference: `Contrato nº ${contract.number}`,
        originalSha256: original.sha256,
        timeZone,
        signers: signers.map((s) => ({
          name: s.name,
          waId: s.waId,
          ...(s.document ? { document: s.document } : {}),
          signedAt: (s.signedAt ?? new Date(0)).toISOString(),
          ip: s.signedIp ?? '',
          userAgent: s.signedUserAgent ?? '',
          documentSha256: s.signedDocumentSha256 ?? '',
        })),
        events: events.map((e) => ({
          at: new Date(e.occurredAt).toISOString(),
          type: e.type,
          actor: e.signerId ? (nameOf.get(e.signerId) ?? 'signatário') : 'sistema',
          ip: e.ip,
          userAgent: e.userAgent,
          documentSha256: e.documentSha256,
          details: `hash ${e.hash}`,
        })),
      };
      const withEvidence = await appendEvidencePage(new Uint8Array(original.content), sheet);
      const sealed = await sealPdf(withEvidence, loadPlatformCertificate(deps.signing ?? {}), {
        reason: `Contrato nº ${contract.number} assinado eletronicamente por ${signers.map((s) => s.name).join(', ')}`,
        location: 'Brasil',
        name: 'Orquestra',
      });
      const finalSha256 = sha256Hex(sealed);
      const verification = verifySealedPdf(sealed);
      const signed = await withTenant(knex, a.tenantId, async (trx) => {
        const locked = await Contract.query(trx).findById(a.contractId).forUpdate();
        if (!locked || locked.status !== 'signing') return false;
        const now = new Date();
        await ContractDocument.query(trx).insert({
          id: randomUUID(), tenantId: a.tenantId, contractId: a.contractId, kind: 'final', sha256: finalSha256, sizeBytes: sealed.byteLength, content: Buffer.from(sealed),
        });
        await Contract.query(trx).patchAndFetchById(a.contractId, { status: 'signed', finalSha256, signedAt: now, updatedAt: now });
        // The completion record: every event with its hash, and both documents' hashes.
        const chain = await ContractEvent.query(trx).where({ contractId: a.contractId }).orderBy('seq');
        await appendContractEvent(trx, {
          tenantId: a.tenantId, contractId: a.contractId, type: 'completed', documentSha256: finalSha256,
          data: { originalSha256: original.sha256, finalSha256, events: chain.map((e) => ({ seq: e.seq, type: e.type, hash: e.hash, documentSha256: e.documentSha256 })) },
        });
        await appendContractEvent(trx, {
          tenantId: a.tenantId, contractId: a.contractId, type: 'sealed', documentSha256: finalSha256,
          data: { signerCommonName: verification.signerCommonName, byteRangeDigestOk: verification.byteRangeDigestOk },
        });
        return true;
      });
      if (signed) {
        await startAutomationEvent(deps, a.tenantId, `contract:${a.contractId}:signed`, 'contract.signed', contractEvent({
          contractId: a.contractId, leadId: contract.leadId, contactId: contract.contactId, number: contract.number, totalCents: contract.totalCents, finalSha256,
        }));
      }
      await emitContractUpdated(deps, a.tenantId, a.contractId);
      return { finalSha256 };
    },

    async markContractLeadWon(a: ContractRef): Promise<void> {
      const contract = await withTenant(knex, a.tenantId, async (trx) => Contract.query(trx).findById(a.contractId));
      if (!contract?.leadId) return;
      await moveLeadStage(deps, { tenantId: a.tenantId, leadId: contract.leadId, stage: 'won', actor: SYSTEM_ACTOR, reason: 'Contrato assinado.', onlyForward: true });
    },

    // THE HAND-OFF TO BILLING: the contract's billing terms become its subscription (one per
    // contract, however often this is retried) with max_invoices = the installments (none when
    // recurring), its schedule, and at once the invoices already due, so a signed contract has its
    // first invoice immediately. billing_handoffs keeps the reference ({ subscriptionId }).
    async startContractBilling(a: ContractRef): Promise<{ status: string }> {
      const prepared = await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId);
        if (!contract) throw new Error(`contract ${a.contractId} not found`);
        await trx('billing_handoffs')
          .insert({ tenantId: a.tenantId, contractId: a.contractId, status: 'requested', totalCents: contract.totalCents, terms: JSON.stringify(contract.billingTerms ?? {}) })
          .onConflict('contractId')
          .ignore();
        const handoff = await BillingHandoff.query(trx).findById(a.contractId).forUpdate();
        if (handoff?.status === 'cancelled') return { status: 'cancelled' as string, sub: null, timeZone: '' };
        const settings = await settingsOf(trx, a.tenantId);
        let sub = await Subscription.query(trx).where({ contractId: a.contractId }).first();
        if (!sub) {
          const contact = await trx('contacts').where({ id: contract.contactId }).first('document');
          const parsed = parseBillingTerms(contract.billingTerms ?? {}, {
            totalCents: contract.totalCents,
            today: todayIn(settings.timeZone, new Date()),
            consumer: isConsumerDocument(contact?.document ?? null),
            defaults: billingTermsDefaults(settings),
          });
          // Checked when the contract was created; only a tenant default changed since can fail
          // here, and the hand-off is retried until the setting is fixed.
          if (!parsed.ok) throw new Error(`contract ${a.contractId} billing terms: ${parsed.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
          const t = parsed.terms;
          sub = await insertSubscription(trx, {
            tenantId: a.tenantId,
            contactId: contract.contactId,
            contractId: contract.id,
            description: contract.title,
            amountCents: t.amountCents,
            firstAmountCents: t.firstAmountCents,
            cycle: t.cycle,
            billingType: t.billingType,
            finePercent: t.finePercent,
            monthlyInterestPercent: t.monthlyInterestPercent,
            firstDueDate: t.firstDueDate,
            maxInvoices: t.maxInvoices,
            issueDaysBeforeDue: t.issueDaysBeforeDue,
            owner: t.owner,
            createdBy: contract.createdBy ?? null,
          });
        }
        await BillingHandoff.query(trx)
          .patch({ status: 'started', startedAt: new Date(), billingReference: { subscriptionId: sub.id } })
          .where({ contractId: a.contractId, status: 'requested' });
        return { status: 'started', sub, timeZone: settings.timeZone };
      });
      if (prepared.sub && prepared.sub.status === 'active') await startSubscriptionBilling(deps, prepared.sub, prepared.timeZone);
      return { status: prepared.status };
    },

    // Compensation: the contract's subscription ends and its schedule is deleted; its reference is
    // kept. Invoices already issued are left to their own dunning (staff cancel them if they must).
    async cancelContractBilling(a: ContractRef): Promise<void> {
      const sub = await withTenant(knex, a.tenantId, async (trx) => {
        const changed = await BillingHandoff.query(trx).patch({ status: 'cancelled', cancelledAt: new Date() }).where({ contractId: a.contractId }).whereNot({ status: 'cancelled' });
        if (changed) await appendContractEvent(trx, { tenantId: a.tenantId, contractId: a.contractId, type: 'billing_cancelled' });
        return Subscription.query(trx).where({ contractId: a.contractId }).first();
      });
      if (sub) await endSubscription(deps, a.tenantId, sub.id, 'Contrato cancelado.');
    },

    async activateContract(a: ContractRef): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        const contract = await Contract.query(trx).findById(a.contractId).forUpdate();
        if (!contract || contract.status !== 'signed') return;
        const now = new Date();
        await Contract.query(trx).patchAndFetchById(a.contractId, { status: 'active', activatedAt: now, updatedAt: now });
        await appendContractEvent(trx, { tenantId: a.tenantId, contractId: a.contractId, type: 'billing_started' });
        await appendContractEvent(trx, { tenantId: a.tenantId, contractId: a.contractId, type: 'activated' });
      });
      await emitContractUpdated(deps, a.tenantId, a.contractId);
    },
  };
}
