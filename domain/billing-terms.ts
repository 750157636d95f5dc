import { z } from 'zod';
import { BILLING_CYCLES, BILLING_TYPES, type BillingCycle, type BillingType } from './billing-statuses';
import { addCalendarDays } from './late-charges';
import { normalizeTaxId } from './tax-id';

// A contract's billing terms: the flat record of scalars staff write on the contract
// (api/contracts/schema.ts), read here into what billing needs. Checked when the contract is
// created (a 400 naming body.billingTerms.<field>) and read again at the hand-off, when the
// defaults that depend on the day (the first due date) and on the tenant's settings apply.

// CDC art. 52 §1 (and Decreto 2.181/1997 art. 22 XIX): a consumer's late fine is at most 2%.
export const CONSUMER_MAX_FINE_PERCENT = 2;

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'data no formato AAAA-MM-DD')
  .refine((d) => {
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
  }, 'data inexistente');
const percent = z.number().min(0, 'percentual entre 0 e 100').max(100, 'percentual entre 0 e 100');
const cents = z.number().int('valor em centavos, inteiro').min(1, 'valor maior que zero').max(1e13);

export const billingTermsSchema = z
  .object({
    installments: z.number().int('número inteiro de parcelas').min(1, 'pelo menos 1 parcela').max(600).optional(),
    cycle: z.enum(BILLING_CYCLES, { message: `ciclo: ${BILLING_CYCLES.join(', ')}` }).optional(),
    firstDueDate: date.optional(),
    amountCents: cents.optional(),
    recurring: z.boolean().optional(),
    billingType: z.enum(BILLING_TYPES, { message: `forma de cobrança: ${BILLING_TYPES.join(', ')}` }).optional(),
    finePercent: percent.optional(),
    monthlyInterestPercent: percent.optional(),
    issueDaysBeforeDue: z.number().int().min(0).max(60).optional(),
    ownerName: z.string().trim().min(1).max(200).optional(),
    ownerDocument: z
      .string()
      .max(40)
      .refine((v) => normalizeTaxId(v) !== null, 'CPF ou CNPJ inválido')
      .optional(),
    ownerPixKey: z.string().trim().min(1).max(200).optional(),
    agencyFeePercent: percent.optional(),
    payoutDay: z.number().int().min(1, 'dia de repasse entre 1 e 28').max(28, 'dia de repasse entre 1 e 28').optional(),
  })
  // Unknown keys are kept on the contract (staff notes, an index name) and ignored here.
  .passthrough()
  .superRefine((t, ctx) => {
    if (t.recurring && t.amountCents === undefined) ctx.addIssue({ code: 'custom', path: ['amountCents'], message: 'cobrança recorrente exige o valor de cada fatura (amountCents)' });
    if ((t.ownerName === undefined) !== (t.ownerDocument === undefined)) {
      ctx.addIssue({ code: 'custom', path: [t.ownerName === undefined ? 'ownerName' : 'ownerDocument'], message: 'o repasse ao proprietário exige nome e CPF/CNPJ' });
    }
    const ownerOnly = ['ownerPixKey', 'agencyFeePercent', 'payoutDay'] as const;
    if (t.ownerName === undefined) for (const k of ownerOnly) if (t[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'só vale com o proprietário (ownerName e ownerDocument)' });
  });

export interface BillingTermsDefaults {
  finePercent: number;
  monthlyInterestPercent: number;
  billingType: BillingType;
  firstDueInDays: number;
  issueDaysBeforeDue: number;
  agencyFeePercent: number;
  payoutDay: number;
}

// The tenant's billing settings as the terms' defaults.
export function billingTermsDefaults(settings: {
  billing: { lateCharges: { finePercent: number; monthlyInterestPercent: number }; invoices: { billingType: BillingType; firstDueInDays: number; issueDaysBeforeDue: number }; payouts: { agencyFeePercent: number; payoutDay: number } };
}): BillingTermsDefaults {
  const b = settings.billing;
  return {
    finePercent: b.lateCharges.finePercent,
    monthlyInterestPercent: b.lateCharges.monthlyInterestPercent,
    billingType: b.invoices.billingType,
    firstDueInDays: b.invoices.firstDueInDays,
    issueDaysBeforeDue: b.invoices.issueDaysBeforeDue,
    agencyFeePercent: b.payouts.agencyFeePercent,
    payoutDay: b.payouts.payoutDay,
  };
}

// A customer is a consumer (CDC) unless known to be a company: only a CNPJ says so.
export function isConsumerDocument(document: string | null): boolean {
  return !(document && document.replace(/\D/g, '').length === 14);
}

export interface BillingTermsContext {
  totalCents: number;
  today: string; // tenant calendar
  // A consumer contract (the customer is a person, or not known to be a company).
  consumer: boolean;
  defaults: BillingTermsDefaults;
}

export interface BillingTerms {
  cycle: BillingCycle;
  firstDueDate: string;
  // Every invoice's amount, and the first one's when the total's remainder lands on it.
  amountCents: number;
  firstAmountCents: number;
  // Null: recurring, until ended.
  maxInvoices: number | null;
  billingType: BillingType;
  finePercent: number;
  monthlyInterestPercent: number;
  issueDaysBeforeDue: number;
  owner: { name: string; document: string; pixKey: string | null; agencyFeePercent: number; payoutDay: number } | null;
}

export interface TermsIssue {
  path: string[];
  message: string;
}

export type ParsedTerms = { ok: true; terms: BillingTerms } | { ok: false; issues: TermsIssue[] };

export function parseBillingTerms(raw: unknown, ctx: BillingTermsContext): ParsedTerms {
  const parsed = billingTermsSchema.safeParse(raw ?? {});
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) };
  const t = parsed.data;
  const issues: TermsIssue[] = [];
  const finePercent = t.finePercent ?? ctx.defaults.finePercent;
  if (ctx.consumer && finePercent > CONSUMER_MAX_FINE_PERCENT) {
    issues.push({ path: ['finePercent'], message: `multa acima de ${CONSUMER_MAX_FINE_PERCENT}% não é permitida em contrato com consumidor (CDC art. 52 §1)` });
  }
  const recurring = t.recurring === true;
  const installments = recurring ? null : (t.installments ?? 1);
  let amountCents: number;
  let firstAmountCents: number;
  if (t.amountCents !== undefined) {
    amountCents = t.amountCents;
    firstAmountCents = t.amountCents;
  } else {
    const n = installments as number;
    amountCents = Math.floor(ctx.totalCents / n);
    // The remainder of the split goes on the first invoice, so the installments add up to the total.
    firstAmountCents = ctx.totalCents - amountCents * (n - 1);
    if (amountCents < 1) issues.push({ path: [t.installments === undefined ? 'amountCents' : 'installments'], message: 'o total do contrato não cobre uma fatura por parcela; informe amountCents' });
  }
  if (issues.length) return { ok: false, issues };
  const owner = t.ownerName !== undefined && t.ownerDocument !== undefined
    ? {
        name: t.ownerName,
        document: (normalizeTaxId(t.ownerDocument) as { digits: string }).digits,
        pixKey: t.ownerPixKey ?? null,
        agencyFeePercent: t.agencyFeePercent ?? ctx.defaults.agencyFeePercent,
        payoutDay: t.payoutDay ?? ctx.defaults.payoutDay,
      }
    : null;
  return {
    ok: true,
    terms: {
      cycle: t.cycle ?? 'MONTHLY',
      firstDueDate: t.firstDueDate ?? addCalendarDays(ctx.today, ctx.defaults.firstDueInDays),
      amountCents,
      firstAmountCents,
      maxInvoices: installments,
      billingType: t.billingType ?? ctx.defaults.billingType,
      finePercent,
      monthlyInterestPercent: t.monthlyInterestPercent ?? ctx.defaults.monthlyInterestPercent,
      issueDaysBeforeDue: t.issueDaysBeforeDue ?? ctx.defaults.issueDaysBeforeDue,
      owner,
    },
  };
}
