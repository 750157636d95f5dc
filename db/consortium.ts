import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { localParts } from '../domain/calendar';
import { monthlyInstallment } from '../domain/consortium-installment';
import type { GroupRules } from '../domain/consortium-rules';
import { consecutiveMissed, isUpToDate, type InstallmentStanding } from '../domain/consortium-standing';
import { createInvoice } from './invoices';
import { ConsortiumGroup, ConsortiumInstallment, ConsortiumQuota, ConsortiumRuleVersion, type Invoice } from './models';

// The consortium's reads and writes that the API and the activities share. Every function runs in
// the caller's tenant transaction; the caller commits, then talks to Temporal.

export interface GroupSpec {
  tenantId: string;
  code: string;
  name: string;
  creditCents: number;
  termMonths: number;
  adminFeePercent: number;
  reserveFundPercent: number;
  quotaCount: number;
  assemblyDay: number;
  installmentDueDay: number;
  firstAssemblyMonth: string;
  rules: GroupRules;
  createdBy?: string | null;
}

// `scheduleIdOf` is the assembly schedule's id rule (workflows/assembly): data knows no process.
export async function insertGroup(trx: Knex.Transaction, spec: GroupSpec, scheduleIdOf: (tenantId: string, groupId: string) => string): Promise<{ group: ConsortiumGroup; rules: ConsortiumRuleVersion }> {
  const id = randomUUID();
  const group = await ConsortiumGroup.query(trx).insertAndFetch({
    id,
    tenantId: spec.tenantId,
    code: spec.code,
    name: spec.name,
    status: 'active',
    creditCents: spec.creditCents,
    termMonths: spec.termMonths,
    adminFeePercent: spec.adminFeePercent,
    reserveFundPercent: spec.reserveFundPercent,
    quotaCount: spec.quotaCount,
    assemblyDay: spec.assemblyDay,
    installmentDueDay: spec.installmentDueDay,
    firstAssemblyMonth: spec.firstAssemblyMonth,
    scheduleId: scheduleIdOf(spec.tenantId, id),
    createdBy: spec.createdBy ?? null,
  });
  const rules = await publishRules(trx, group, spec.rules, spec.createdBy ?? null, 'Regulamento inicial do grupo.');
  return { group, rules };
}

// A new version of the group's rules; the old ones stay, for the assemblies that used them.
export async function publishRules(trx: Knex.Transaction, group: Pick<ConsortiumGroup, 'id' | 'tenantId'>, rules: GroupRules, by: string | null, note: string | null): Promise<ConsortiumRuleVersion> {
  // One writer at a time per group: the version numbers have no gaps and no twins.
  await trx.raw('SELECT 1 FROM consortium_groups WHERE id = ? FOR UPDATE', [group.id]);
  const last = await ConsortiumRuleVersion.query(trx).where({ groupId: group.id }).max('version as v').first();
  const version = Number((last as unknown as { v: number | null } | undefined)?.v ?? 0) + 1;
  return ConsortiumRuleVersion.query(trx).insertAndFetch({ id: randomUUID(), tenantId: group.tenantId, groupId: group.id, version, rules, note, publishedBy: by });
}

// The version in force at an instant (the latest published by then).
export async function rulesInForce(trx: Knex.Transaction, groupId: string, at: Date = new Date()): Promise<ConsortiumRuleVersion> {
  const row = await ConsortiumRuleVersion.query(trx).where({ groupId }).where('publishedAt', '<=', at).orderBy('version', 'desc').first();
  if (row) return row;
  const first = await ConsortiumRuleVersion.query(trx).where({ groupId }).orderBy('version').first();
  if (!first) throw new Error(`group ${groupId} has no rules`);
  return first;
}

export interface QuotaSpec {
  tenantId: string;
  group: ConsortiumGroup;
  number: number;
  contactId: string;
  joinedOn: string;
}

export async function insertQuota(trx: Knex.Transaction, spec: QuotaSpec): Promise<ConsortiumQuota> {
  const parts = monthlyInstallment(spec.group.creditCents, spec.group.termMonths, spec.group.adminFeePercent, spec.group.reserveFundPercent);
  return ConsortiumQuota.query(trx).insertAndFetch({
    id: randomUUID(),
    tenantId: spec.tenantId,
    groupId: spec.group.id,
    number: spec.number,
    contactId: spec.contactId,
    status: 'active',
    installmentCents: parts.totalCents,
    installmentCount: spec.group.termMonths,
    lastInstallmentCents: null,
    installmentsIssued: 0,
    joinedOn: spec.joinedOn,
  });
}

export interface InstallmentTerms {
  month: string;
  dueDate: string;
  finePercent: number;
  monthlyInterestPercent: number;
  createdBy?: string | null;
}

// The quota's installment for a month: an invoice (origin consortium_quota) and its parts. Null
// when the month has one already or the plan is fully issued. The caller commits, then starts the
// invoice's dunning run (`workflowIdOf` names it).
export async function issueInstallment(
  trx: Knex.Transaction,
  group: ConsortiumGroup,
  quota: ConsortiumQuota,
  terms: InstallmentTerms,
  workflowIdOf: (tenantId: string, invoiceId: string) => string,
): Promise<Invoice | null> {
  const locked = await ConsortiumQuota.query(trx).findById(quota.id).forUpdate();
  if (!locked || locked.status === 'excluded') return null;
  if (await ConsortiumInstallment.query(trx).where({ quotaId: quota.id, month: terms.month }).first()) return null;
  if (locked.installmentsIssued >= locked.installmentCount) return null;
  const sequence = locked.installmentsIssued + 1;
  const isLast = sequence === locked.installmentCount;
  const amountCents = isLast && locked.lastInstallmentCents !== null ? locked.lastInstallmentCents : locked.installmentCents;
  if (amountCents <= 0) return null;
  // The parts in the plan's proportions (a reduced installment keeps the fee's and reserve's share).
  const plan = monthlyInstallment(group.creditCents, group.termMonths, group.adminFeePercent, group.reserveFundPercent);
  const adminFeeCents = Math.round((amountCents * plan.adminFeeCents) / plan.totalCents);
  const reserveFundCents = Math.round((amountCents * plan.reserveFundCents) / plan.totalCents);
  const commonFundCents = amountCents - adminFeeCents - reserveFundCents;
  const invoice = await createInvoice(
    trx,
    {
      tenantId: group.tenantId,
      contactId: quota.contactId,
      origin: 'consortium_quota',
      originId: quota.id,
      sequence,
      description: `Consórcio ${group.code} — cota ${quota.number}, parcela ${sequence}/${locked.installmentCount}`,
      amountCents,
      dueDate: terms.dueDate,
      finePercent: terms.finePercent,
      monthlyInterestPercent: terms.monthlyInterestPercent,
      billingType: 'UNDEFINED',
      createdBy: terms.createdBy ?? null,
    },
    workflowIdOf,
  );
  await ConsortiumInstallment.query(trx).insert({ tenantId: group.tenantId, invoiceId: invoice.id, groupId: group.id, quotaId: quota.id, sequence, month: terms.month, commonFundCents, adminFeeCents, reserveFundCents });
  await ConsortiumQuota.query(trx).patch({ installmentsIssued: sequence, updatedAt: new Date() }).where({ id: quota.id });
  return invoice;
}

// The group's common and reserve funds: installments' parts paid in, winning bids paid in, less
// the credits released, restitutions paid and the reserve used.
export async function groupFund(trx: Knex.Transaction, groupId: string): Promise<{ commonCents: number; reserveCents: number }> {
  const paidIn = await trx('consortium_installments as ci')
    .join('invoices as i', 'i.id', 'ci.invoice_id')
    .where('ci.group_id', groupId)
    .where('i.status', 'paid')
    .select(trx.raw('coalesce(sum(ci.common_fund_cents), 0)::bigint AS common'), trx.raw('coalesce(sum(ci.reserve_fund_cents), 0)::bigint AS reserve'))
    .first();
  const out = await trx('consortium_contemplations')
    .where({ group_id: groupId })
    .whereNot({ status: 'disqualified' })
    .select(
      trx.raw('coalesce(sum(bid_paid_cents), 0)::bigint AS bids'),
      trx.raw(`coalesce(sum(credit_cents + restitution_cents - from_reserve_cents) FILTER (WHERE status = 'confirmed'), 0)::bigint AS released`),
      trx.raw(`coalesce(sum(from_reserve_cents) FILTER (WHERE status = 'confirmed'), 0)::bigint AS reserve_used`),
    )
    .first();
  return {
    commonCents: Number(paidIn.common) + Number(out.bids) - Number(out.released),
    reserveCents: Number(paidIn.reserve) - Number(out.reserveUsed),
  };
}

export interface QuotaStanding {
  quotaId: string;
  number: number;
  status: ConsortiumQuota['status'];
  upToDate: boolean;
  consecutiveMissed: number;
  // What the quota paid into the common fund (its restitution if excluded).
  commonFundPaidCents: number;
}

// Every quota of the group with its standing on a date, from its installments.
export async function quotaStandings(trx: Knex.Transaction, groupId: string, asOf: string, timeZone: string): Promise<QuotaStanding[]> {
  const quotas = await ConsortiumQuota.query(trx).where({ groupId }).orderBy('number');
  const rows = (await trx('consortium_installments as ci')
    .join('invoices as i', 'i.id', 'ci.invoice_id')
    .where('ci.group_id', groupId)
    .select('ci.quota_id', 'ci.sequence', 'ci.common_fund_cents', 'i.due_date', 'i.status', 'i.paid_at')) as { quotaId: string; sequence: number; commonFundCents: string; dueDate: Date | string; status: string; paidAt: Date | null }[];
  // (knexSnakeCaseMappers hands the columns back camelCased.)
  const byQuota = new Map<string, { standing: InstallmentStanding[]; paid: number }>();
  for (const r of rows) {
    const entry = byQuota.get(r.quotaId) ?? { standing: [], paid: 0 };
    const dueDate = r.dueDate instanceof Date ? `${r.dueDate.getFullYear()}-${String(r.dueDate.getMonth() + 1).padStart(2, '0')}-${String(r.dueDate.getDate()).padStart(2, '0')}` : String(r.dueDate).slice(0, 10);
    const paidOn = r.status === 'paid' && r.paidAt ? localParts(r.paidAt, timeZone).date : null;
    entry.standing.push({ sequence: r.sequence, dueDate, paidOn, cancelled: r.status === 'cancelled' || r.status === 'renegotiated' });
    if (r.status === 'paid') entry.paid += Number(r.commonFundCents);
    byQuota.set(r.quotaId, entry);
  }
  return quotas.map((q) => {
    const e = byQuota.get(q.id) ?? { standing: [], paid: 0 };
    return { quotaId: q.id, number: q.number, status: q.status, upToDate: isUpToDate(e.standing, asOf), consecutiveMissed: consecutiveMissed(e.standing, asOf), commonFundPaidCents: e.paid };
  });
}
