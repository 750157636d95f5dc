import { z } from 'zod';
import type { ConsortiumAssembly, ConsortiumGroup, ConsortiumQuota, ConsortiumRuleVersion } from '../../db/models';
import type { QuotaStanding } from '../../db/consortium';
import { monthlyInstallment } from '../../domain/consortium-installment';
import { groupRulesSchema } from '../../domain/consortium-rules';
import { ASSEMBLY_STATUSES, BID_TYPES, GROUP_STATUSES, QUOTA_STATUSES } from '../../domain/consortium-statuses';

// The consortium's request bodies and views. Field messages are in Portuguese: they reach the
// back office's forms as they are.

export const monthSchema = z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, 'mês no formato AAAA-MM');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'data no formato AAAA-MM-DD');
// Percentages as the database keeps them: numeric(7,4).
const percent = z.number().min(0).max(100).multipleOf(0.0001);

export const groupParams = z.object({ groupId: z.uuid({ message: 'expected a UUID' }) });
export const monthParams = groupParams.extend({ month: monthSchema });
export const quotaNumberParams = monthParams.extend({ quotaNumber: z.coerce.number().int().min(1).max(99_999) });
export const bidIdParams = monthParams.extend({ bidId: z.uuid({ message: 'expected a UUID' }) });

export const createGroupBody = z
  .object({
    code: z.string().trim().min(1).max(40),
    name: z.string().trim().min(1).max(200),
    creditCents: z.number().int().min(1).max(100_000_000_000),
    termMonths: z.number().int().min(1).max(240),
    adminFeePercent: percent,
    reserveFundPercent: percent,
    quotaCount: z.number().int().min(1).max(99_999),
    assemblyDay: z.number().int().min(1).max(28),
    installmentDueDay: z.number().int().min(1).max(28),
    firstAssemblyMonth: monthSchema,
    // Omitted: DEFAULT_GROUP_RULES.
    rules: groupRulesSchema.optional(),
  })
  .strict();

export const publishRulesBody = z.object({ rules: groupRulesSchema, note: z.string().trim().min(1).max(1000) }).strict();

// E.164: a plus, the country code and the number, 8 to 15 digits in all.
const e164 = z.string().regex(/^\+[1-9]\d{7,14}$/, 'telefone no formato E.164, como +5511987654321');

export const createQuotaBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    phone: e164,
    taxId: z.string().trim().min(11).max(20),
    number: z.number().int().min(1).max(99_999).optional(),
    joinedOn: isoDate.optional(),
  })
  .strict();

export const calendarQuery = z.object({ months: z.coerce.number().int().min(1).max(60).default(12) });

export const startAssemblyBody = z.object({ month: monthSchema }).strict();

export const placeBidBody = z
  .object({
    quotaNumber: z.number().int().min(1).max(99_999).optional(),
    quotaId: z.uuid().optional(),
    type: z.enum(BID_TYPES),
    percent: z.number().positive().max(100).optional(),
    amountCents: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.quotaNumber === undefined) === (b.quotaId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['quotaNumber'], message: 'Informe a cota: quotaNumber ou quotaId (um dos dois).' });
    }
    if ((b.percent === undefined) === (b.amountCents === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['percent'], message: 'Informe o lance: percent ou amountCents (um dos dois).' });
    }
  });

export const lotteryBody = z
  .object({
    contest: z.string().trim().regex(/^\d{1,6}$/, 'número do concurso').nullable().optional(),
    drawDate: isoDate,
    prizes: z.array(z.string().regex(/^\d{5}$/, 'cada prêmio tem 5 dígitos')).length(5, 'informe os cinco prêmios'),
    reason: z.string().trim().min(1).max(500).optional(),
    publish: z.boolean().optional(),
  })
  .strict();

// --- Views -------------------------------------------------------------------------------------

const installmentView = z.object({ commonFundCents: z.number(), adminFeeCents: z.number(), reserveFundCents: z.number(), totalCents: z.number() });

export const ruleVersionView = z.object({
  version: z.number(),
  rules: z.record(z.string(), z.unknown()),
  note: z.string().nullable(),
  publishedBy: z.string().nullable(),
  publishedAt: z.iso.datetime(),
});
export const toRuleVersionView = (r: ConsortiumRuleVersion): z.infer<typeof ruleVersionView> => ({
  version: r.version,
  rules: r.rules as unknown as Record<string, unknown>,
  note: r.note,
  publishedBy: r.publishedBy,
  publishedAt: new Date(r.publishedAt).toISOString(),
});

export const groupView = z.object({
  id: z.uuid(),
  code: z.string(),
  name: z.string(),
  status: z.enum(GROUP_STATUSES),
  creditCents: z.number(),
  termMonths: z.number(),
  adminFeePercent: z.number(),
  reserveFundPercent: z.number(),
  quotaCount: z.number(),
  assemblyDay: z.number(),
  installmentDueDay: z.number(),
  firstAssemblyMonth: z.string(),
  scheduleId: z.string(),
  monthlyInstallmentCents: z.number(),
  installment: installmentView,
  rules: ruleVersionView.nullable(),
  createdAt: z.iso.datetime(),
});
export function toGroupView(g: ConsortiumGroup, rules: ConsortiumRuleVersion | null): z.infer<typeof groupView> {
  const installment = monthlyInstallment(g.creditCents, g.termMonths, g.adminFeePercent, g.reserveFundPercent);
  return {
    id: g.id,
    code: g.code,
    name: g.name,
    status: g.status,
    creditCents: g.creditCents,
    termMonths: g.termMonths,
    adminFeePercent: g.adminFeePercent,
    reserveFundPercent: g.reserveFundPercent,
    quotaCount: g.quotaCount,
    assemblyDay: g.assemblyDay,
    installmentDueDay: g.installmentDueDay,
    firstAssemblyMonth: g.firstAssemblyMonth,
    scheduleId: g.scheduleId,
    monthlyInstallmentCents: installment.totalCents,
    installment,
    rules: rules ? toRuleVersionView(rules) : null,
    createdAt: new Date(g.createdAt).toISOString(),
  };
}

export const quotaView = z.object({
  id: z.uuid(),
  number: z.number(),
  status: z.enum(QUOTA_STATUSES),
  contact: z.object({ id: z.uuid(), name: z.string().nullable(), waId: z.string().nullable(), taxId: z.string().nullable() }),
  installmentCents: z.number(),
  installmentCount: z.number(),
  installmentsIssued: z.number(),
  joinedOn: z.string(),
  contemplatedAt: z.iso.datetime().nullable(),
  excludedAt: z.iso.datetime().nullable(),
  standing: z.object({ upToDate: z.boolean(), consecutiveMissed: z.number(), commonFundPaidCents: z.number() }).nullable(),
});
export interface ContactBits {
  id: string;
  name: string | null;
  waId: string | null;
  document: string | null;
}
export function toQuotaView(q: ConsortiumQuota, contact: ContactBits | undefined, standing: QuotaStanding | undefined): z.infer<typeof quotaView> {
  return {
    id: q.id,
    number: q.number,
    status: q.status,
    contact: { id: q.contactId, name: contact?.name ?? null, waId: contact?.waId ?? null, taxId: contact?.document ?? null },
    installmentCents: q.installmentCents,
    installmentCount: q.installmentCount,
    installmentsIssued: q.installmentsIssued,
    joinedOn: q.joinedOn,
    contemplatedAt: q.contemplatedAt ? new Date(q.contemplatedAt).toISOString() : null,
    excludedAt: q.excludedAt ? new Date(q.excludedAt).toISOString() : null,
    standing: standing ? { upToDate: standing.upToDate, consecutiveMissed: standing.consecutiveMissed, commonFundPaidCents: standing.commonFundPaidCents } : null,
  };
}

export const assemblyRowView = z.object({
  id: z.uuid(),
  groupId: z.uuid(),
  month: z.string(),
  status: z.enum(ASSEMBLY_STATUSES),
  workflowId: z.string(),
  ruleVersion: z.number(),
  assemblyDate: z.string(),
  extractionDate: z.string(),
  biddingClosesAt: z.iso.datetime(),
  lottery: z.unknown().nullable(),
  lotteryCorrections: z.array(z.unknown()),
  publishedAt: z.iso.datetime().nullable(),
  result: z.unknown().nullable(),
  recordSha256: z.string().nullable(),
  closedAt: z.iso.datetime().nullable(),
});
export const toAssemblyRowView = (a: ConsortiumAssembly): z.infer<typeof assemblyRowView> => ({
  id: a.id,
  groupId: a.groupId,
  month: a.month,
  status: a.status,
  workflowId: a.workflowId,
  ruleVersion: a.ruleVersion,
  assemblyDate: a.assemblyDate,
  extractionDate: a.extractionDate,
  biddingClosesAt: new Date(a.biddingClosesAt).toISOString(),
  lottery: a.lottery,
  lotteryCorrections: a.lotteryCorrections ?? [],
  publishedAt: a.publishedAt ? new Date(a.publishedAt).toISOString() : null,
  result: a.result,
  recordSha256: a.recordSha256,
  closedAt: a.closedAt ? new Date(a.closedAt).toISOString() : null,
});

// The workflow's live view (workflows/assembly/definitions.ts AssemblyView), as it answers it.
export const assemblyLiveView = z.object({ assemblyId: z.string(), month: z.string(), status: z.enum(ASSEMBLY_STATUSES) }).passthrough();

export const calendarEntryView = z.object({
  month: z.string(),
  assemblyDate: z.string(),
  extractionDate: z.string(),
  biddingOpensOn: z.string(),
  biddingClosesAt: z.string(),
  installmentDueDate: z.string(),
  assembly: z.object({ id: z.uuid(), status: z.enum(ASSEMBLY_STATUSES) }).nullable(),
});
