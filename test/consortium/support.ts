import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { insertGroup, insertQuota, issueInstallment } from '../../db/consortium';
import { createInvoice } from '../../db/invoices';
import { ConsortiumGroup, ConsortiumQuota } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { zonedTimeToUtc } from '../../domain/calendar';
import { DEFAULT_GROUP_RULES, type GroupRules } from '../../domain/consortium-rules';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { assemblyScheduleId, assemblyStart, assemblyViewQuery, assemblyWorkflowId, type AssemblyOptions, type AssemblyView } from '../../workflows/assembly';
import { dunningWorkflowId } from '../../workflows/dunning';
import { startOptions } from '../../workflows/workflow-start';
import type { TestStack } from '../support/stack';
import { guestPhone, setTenantSettings, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// What the consortium tests share: a tenant in São Paulo that notifies its members, groups and
// quotas written as the API writes them (db/consortium.ts), installments issued as the monthly
// starter issues them and paid as the gateway would mark them, money in the common fund, and the
// assembly run started as the schedule's starter starts it.

export const TZ = 'America/Sao_Paulo';
export const SYSTEM = { type: 'system' as const, id: null };

export async function consortiumTenant(stack: TestStack, consortium: Partial<TenantSettings['consortium']> = {}): Promise<WhatsAppTenant> {
  const t = await whatsappTenant(stack);
  await setTenantSettings(stack, t.tenantId, { timeZone: TZ, consortium: { ...DEFAULT_TENANT_SETTINGS.consortium, ...consortium } });
  return t;
}

export interface SeededQuota {
  id: string;
  number: number;
  contactId: string;
  waId: string;
}

export interface SeededGroup {
  tenantId: string;
  group: ConsortiumGroup;
  rules: GroupRules;
  quotas: SeededQuota[];
  quota(number: number): SeededQuota;
}

export interface GroupSeed {
  quotaCount: number;
  rules?: Partial<GroupRules>;
  creditCents?: number;
  termMonths?: number;
  adminFeePercent?: number;
  reserveFundPercent?: number;
  assemblyDay?: number;
  installmentDueDay?: number;
  firstAssemblyMonth?: string;
  code?: string;
}

// A group with its first rules version and one member (a contact with WhatsApp) per quota.
export async function seedGroup(stack: TestStack, tenantId: string, seed: GroupSeed): Promise<SeededGroup> {
  const rules: GroupRules = { ...DEFAULT_GROUP_RULES, ...seed.rules };
  return withTenant(stack.deps.knex, tenantId, async (trx) => {
    const { group } = await insertGroup(
      trx,
      {
        tenantId,
        code: seed.code ?? `G${randomUUID().slice(0, 6).toUpperCase()}`,
        name: 'Grupo Automóveis',
        creditCents: seed.creditCents ?? 1_000_000,
        termMonths: seed.termMonths ?? 50,
        adminFeePercent: seed.adminFeePercent ?? 15,
        reserveFundPercent: seed.reserveFundPercent ?? 2,
        quotaCount: seed.quotaCount,
        assemblyDay: seed.assemblyDay ?? 20,
        installmentDueDay: seed.installmentDueDay ?? 10,
        firstAssemblyMonth: seed.firstAssemblyMonth ?? '2026-01',
        rules,
      },
      assemblyScheduleId,
    );
    const quotas: SeededQuota[] = [];
    for (let n = 1; n <= seed.quotaCount; n++) {
      const contactId = randomUUID();
      const waId = guestPhone();
      await trx('contacts').insert({ id: contactId, tenantId, waId, name: `Consorciado ${n}` });
      const q = await insertQuota(trx, { tenantId, group, number: n, contactId, joinedOn: '2026-01-05' });
      quotas.push({ id: q.id, number: n, contactId, waId });
    }
    return {
      tenantId,
      group,
      rules,
      quotas,
      quota(number: number) {
        const q = quotas.find((x) => x.number === number);
        if (!q) throw new Error(`no quota ${number}`);
        return q;
      },
    };
  });
}

// The quota's installment for a month (its invoice, as the monthly starter issues it; no dunning
// run is started), paid on `paidOn` when given.
export async function seedInstallment(stack: TestStack, g: SeededGroup, quotaNumber: number, o: { month: string; dueDate: string; paidOn?: string }): Promise<string> {
  const invoiceId = await withTenant(stack.deps.knex, g.tenantId, async (trx) => {
    const group = (await ConsortiumGroup.query(trx).findById(g.group.id))!;
    const quota = (await ConsortiumQuota.query(trx).findById(g.quota(quotaNumber).id))!;
    const inv = await issueInstallment(trx, group, quota, { month: o.month, dueDate: o.dueDate, finePercent: 2, monthlyInterestPercent: 1 }, dunningWorkflowId);
    if (!inv) throw new Error(`no installment issued for quota ${quotaNumber} ${o.month}`);
    return inv.id;
  });
  if (o.paidOn) await payInstallment(stack, g.tenantId, invoiceId, o.paidOn);
  return invoiceId;
}

// Several months at once: `paid` says which are paid (on their due date).
export async function seedInstallments(stack: TestStack, g: SeededGroup, quotaNumber: number, months: { month: string; paid: boolean }[], dueDay = 10): Promise<string[]> {
  const ids: string[] = [];
  for (const m of months) {
    const dueDate = `${m.month}-${String(dueDay).padStart(2, '0')}`;
    ids.push(await seedInstallment(stack, g, quotaNumber, { month: m.month, dueDate, ...(m.paid ? { paidOn: dueDate } : {}) }));
  }
  return ids;
}

// As the gateway's webhook leaves it: paid in full, at noon of that day in the tenant's zone.
export async function payInstallment(stack: TestStack, tenantId: string, invoiceId: string, paidOn: string): Promise<void> {
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    const inv = await trx('invoices').where({ id: invoiceId }).first();
    await trx('payments').insert({ id: randomUUID(), tenantId, invoiceId, kind: 'payment', amountCents: inv.amountCents, paidOn, method: 'pix', source: 'manual' });
    await trx('invoices').where({ id: invoiceId }).update({ status: 'paid', paidCents: inv.amountCents, paidAt: zonedTimeToUtc(paidOn, 12 * 60, TZ), updatedAt: new Date() });
  });
}

// Money already in the group's funds (years of installments in one paid contribution): an old,
// paid installment of `onQuota` whose parts are the amounts given.
export async function seedFund(stack: TestStack, g: SeededGroup, commonCents: number, reserveCents = 0, onQuota = g.quotas.length): Promise<void> {
  const q = g.quota(onQuota);
  await withTenant(stack.deps.knex, g.tenantId, async (trx) => {
    const inv = await createInvoice(
      trx,
      {
        tenantId: g.tenantId, contactId: q.contactId, origin: 'consortium_quota', originId: q.id, description: 'Aportes anteriores ao fundo', amountCents: commonCents + reserveCents,
        dueDate: '2001-01-10', finePercent: 2, monthlyInterestPercent: 1, billingType: 'UNDEFINED',
      },
      dunningWorkflowId,
    );
    await trx('invoices').where({ id: inv.id }).update({ status: 'paid', paidCents: commonCents + reserveCents, paidAt: zonedTimeToUtc('2001-01-10', 12 * 60, TZ) });
    await trx('consortium_installments').insert({
      tenantId: g.tenantId, invoiceId: inv.id, groupId: g.group.id, quotaId: q.id, sequence: 9000 + Math.floor(Math.random() * 900), month: '2001-01',
      commonFundCents: commonCents, adminFeeCents: 0, reserveFundCents: reserveCents,
    });
  });
}

export async function setQuotaStatus(stack: TestStack, g: SeededGroup, quotaNumber: number, status: 'contemplated' | 'excluded'): Promise<void> {
  await withTenant(stack.deps.knex, g.tenantId, async (trx) =>
    trx('consortium_quotas').where({ id: g.quota(quotaNumber).id }).update({ status, ...(status === 'contemplated' ? { contemplatedAt: new Date(), creditReleasedCents: g.group.creditCents } : { excludedAt: new Date() }) }),
  );
}

export async function startAssembly(stack: TestStack, g: SeededGroup, month: string, options: AssemblyOptions = {}) {
  const start = assemblyStart({ tenantId: g.tenantId, groupId: g.group.id, month, options });
  return stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
}

export const assemblyHandle = (stack: TestStack, g: SeededGroup, month: string) => stack.deps.temporal.client.workflow.getHandle(assemblyWorkflowId(g.tenantId, g.group.id, month));
export const assemblyView = (stack: TestStack, g: SeededGroup, month: string): Promise<AssemblyView> => assemblyHandle(stack, g, month).query(assemblyViewQuery);

// The refusal an update came back with: its ApplicationFailure type and pt-BR message.
export async function refusalOf(p: Promise<unknown>): Promise<{ type: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as { type?: string; message?: string } | undefined;
      return { type: cause?.type ?? '', message: cause?.message ?? '' };
    }
    throw err;
  }
  throw new Error('the update was accepted; a refusal was expected');
}

export async function rowsOf(stack: TestStack, tenantId: string, table: string, where: Record<string, unknown>, order = 'created_at') {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx(table).where(where).orderBy(order));
}
