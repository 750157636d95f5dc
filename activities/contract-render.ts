import type { Knex } from 'knex';
import { Contract, ContractSigner, ContractTemplate, Proposal, Tenant } from '../db/models';
import {
  dateOnly,
  DEFAULT_CONTRACT_TEMPLATE,
  fillTemplate,
  formatBrl,
  itemsTable,
  localDate,
  type PlaceholderValues,
} from '../domain/contract-template';

// What a contract's template is filled with: the contact, the proposal it came from (if any),
// the tenant and today's date in the tenant's zone.
export async function contractDocumentText(trx: Knex.Transaction, contract: Contract, timeZone: string, now: Date) {
  const template =
    (contract.templateId ? await ContractTemplate.query(trx).findById(contract.templateId) : undefined) ??
    (await ContractTemplate.query(trx).where({ isDefault: true }).first()) ??
    DEFAULT_CONTRACT_TEMPLATE;
  const tenant = await Tenant.query(trx).findById(contract.tenantId);
  const contact = await trx('contacts').where({ id: contract.contactId }).first('name', 'profileName', 'waId');
  const signers = await ContractSigner.query(trx).where({ contractId: contract.id }).orderBy(['position', 'name']);
  const mainSigner = signers.find((s) => s.waId === contact?.waId) ?? signers[0];
  const proposal = contract.proposalId ? await Proposal.query(trx).findById(contract.proposalId) : undefined;
  const values: PlaceholderValues = {
    'contact.name': contact?.name ?? mainSigner?.name ?? contact?.profileName ?? '',
    'contact.document': mainSigner?.document ?? '',
    'contract.number': String(contract.number),
    'contract.title': contract.title,
    'contract.total': formatBrl(contract.totalCents),
    'proposal.number': proposal ? String(proposal.number) : '',
    'proposal.total': formatBrl(proposal?.totalCents ?? contract.totalCents),
    'proposal.items': proposal ? itemsTable(proposal.items) : '',
    'proposal.validUntil': proposal ? dateOnly(proposal.validUntil).split('-').reverse().join('/') : '',
    'tenant.name': tenant?.name ?? '',
    date: localDate(now, timeZone),
  };
  return { title: contract.title, body: fillTemplate(template.body, values), tenantName: tenant?.name ?? '' };
}
