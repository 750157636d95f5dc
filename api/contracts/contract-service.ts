import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { readTenantSettings } from '../../db/tenant-settings';
import { billingTermsDefaults, isConsumerDocument, parseBillingTerms } from '../../domain/billing-terms';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { appendContractEvent } from '../../db/contract-evidence';
import { Contract, ContractSigner, ContractTemplate } from '../../db/models';
import { isUniqueViolation, withTenant } from '../../db/tenant-scope';
import type { Actor } from '../../domain/actor';
import { DEFAULT_CONTRACT_TEMPLATE, todayIn } from '../../domain/contract-template';
import type { SigningOrder } from '../../domain/sales-statuses';
import { contractSigningStart, contractWorkflowId, type ContractSigningOptions } from '../../workflows/contract-signing';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, notFound } from '../problem';
import { startWorkflow } from '../workflow-calls';
import { nextNumber } from '../../db/numbering';

// Creating a contract (from an accepted proposal, or standalone by staff) and starting its
// signing workflow. The rows are committed on their own before the workflow starts: its first
// step reads them.

export interface SignerSpec {
  name: string;
  waId: string;
  email?: string | null;
  document?: string | null;
  position?: number;
}

export interface ContractSpec {
  contactId: string;
  leadId?: string | null;
  proposalId?: string | null;
  templateId?: string | null;
  title?: string;
  totalCents: number;
  signingOrder?: SigningOrder;
  billingTerms?: Record<string, unknown>;
  signers: SignerSpec[];
  options?: ContractSigningOptions;
}


export async function createContract(deps: ApiDeps, tenantId: string, actor: Actor, spec: ContractSpec): Promise<Contract> {
  let contract: Contract;
  try {
    contract = await withTenant(deps.knex, tenantId, async (trx) => {
      const contact = await trx('contacts').where({ id: spec.contactId }).first('id', 'document');
      if (!contact) throw notFound('Contato não encontrado.');
      await checkBillingTerms(trx, tenantId, spec, contact.document ?? null);
      // A foreign key does not see row-level security: the lead is looked up in this tenant first.
      if (spec.leadId && !(await trx('leads').where({ id: spec.leadId }).first('id'))) throw notFound('Lead não encontrado.');
      if (spec.templateId && !(await ContractTemplate.query(trx).findById(spec.templateId))) throw notFound('Modelo de contrato não encontrado.');
      const template = spec.templateId
        ? await ContractTemplate.query(trx).findById(spec.templateId)
        : await ContractTemplate.query(trx).where({ isDefault: true }).first();
      const id = randomUUID();
      const number = await nextNumber(trx, 'contracts', tenantId);
      const title = spec.title ?? (template?.title ?? DEFAULT_CONTRACT_TEMPLATE.title).replace(/\{\{\s*contract\.number\s*\}\}/g, String(number));
      const tenant = await trx('tenants').where({ id: tenantId }).first('name');
      const row = await Contract.query(trx).insertAndFetch({
        id,
        tenantId,
        proposalId: spec.proposalId ?? null,
        leadId: spec.leadId ?? null,
        contactId: spec.contactId,
        templateId: template?.id ?? null,
        number,
        title: title.replace(/\{\{\s*tenant\.name\s*\}\}/g, tenant?.name ?? '').replace(/\{\{[^}]*\}\}/g, '').trim() || `Contrato nº ${number}`,
        status: 'draft',
        signingOrder: spec.signingOrder ?? 'sequential',
        totalCents: spec.totalCents,
        billingTerms: spec.billingTerms ?? {},
        workflowId: contractWorkflowId(tenantId, id),
        createdBy: actor.type === 'user' ? actor.id : null,
      });
      let position = 0;
      for (const s of spec.signers) {
        position = s.position ?? position + 1;
        await ContractSigner.query(trx).insert({
          id: randomUUID(),
          tenantId,
          contractId: id,
          position,
          name: s.name,
          waId: s.waId,
          email: s.email ?? null,
          document: s.document ?? null,
        });
      }
      await appendContractEvent(trx, { tenantId, contractId: id, type: 'created', data: { actorType: actor.type, actorId: actor.id, proposalId: spec.proposalId ?? null } });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err, 'contracts_proposal')) throw conflict('Esta proposta já tem um contrato.');
    if (isUniqueViolation(err, 'contract_signers_contract_id_position_wa_id_key')) throw conflict('O mesmo signatário aparece duas vezes na mesma posição.');
    throw err;
  }
  await startContractSigning(deps, contract, spec.options);
  return contract;
}

// The terms billing will read at the hand-off, checked now so a contract that could never be
// billed is refused before anyone signs it (CDC art. 52 §1 among them).
async function checkBillingTerms(trx: Knex.Transaction, tenantId: string, spec: ContractSpec, document: string | null): Promise<void> {
  const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
  const parsed = parseBillingTerms(spec.billingTerms ?? {}, {
    totalCents: spec.totalCents,
    today: todayIn(settings.timeZone, new Date()),
    consumer: isConsumerDocument(document),
    defaults: billingTermsDefaults(settings),
  });
  if (!parsed.ok) {
    throw badRequest(
      'Condições de cobrança inválidas: ' + parsed.issues.map((i) => i.message).join('; ') + '.',
      parsed.issues.map((i) => ({ path: ['body', 'billingTerms', ...i.path].join('.'), message: i.message })),
    );
  }
}

export async function startContractSigning(deps: ApiDeps, contract: Contract, options?: ContractSigningOptions): Promise<void> {
  await startWorkflow(
    deps,
    contractSigningStart({ tenantId: contract.tenantId, contractId: contract.id, publicBaseUrl: deps.config.PUBLIC_BASE_URL, ...(options ? { options } : {}) }),
    { onDuplicate: 'A assinatura deste contrato já está em andamento.' },
  );
}

// A proposal's contract: its contact signs by default; staff may name the signers and their order.
export async function contractSpecFromProposal(
  deps: ApiDeps,
  tenantId: string,
  proposalId: string,
  overrides: Partial<Pick<ContractSpec, 'signers' | 'signingOrder' | 'templateId' | 'title' | 'billingTerms'>> = {},
): Promise<ContractSpec> {
  return withTenant(deps.knex, tenantId, async (trx) => {
    const proposal = await trx('proposals').where({ id: proposalId }).first('id', 'contactId', 'leadId', 'totalCents', 'status');
    if (!proposal) throw notFound('Proposta não encontrada.');
    const contact = await trx('contacts').where({ id: proposal.contactId }).first('name', 'profileName', 'waId');
    const signers =
      overrides.signers ??
      (contact?.waId ? [{ name: (contact.name ?? contact.profileName ?? 'Cliente') as string, waId: contact.waId as string }] : []);
    if (signers.length === 0) throw conflict('O contato da proposta não tem WhatsApp: informe os signatários.');
    return {
      contactId: proposal.contactId,
      leadId: proposal.leadId,
      proposalId: proposal.id,
      totalCents: Number(proposal.totalCents),
      signers,
      ...(overrides.signingOrder ? { signingOrder: overrides.signingOrder } : {}),
      ...(overrides.templateId ? { templateId: overrides.templateId } : {}),
      ...(overrides.title ? { title: overrides.title } : {}),
      ...(overrides.billingTerms ? { billingTerms: overrides.billingTerms } : {}),
    };
  });
}
