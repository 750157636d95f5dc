import { z } from 'zod';
import { normalizeTaxId } from './tax-id';
import { BILLING_TYPES, COLLECTION_WINDOW_PRESETS, DUNNING_CONSEQUENCES } from './billing-statuses';
import { TENANT_ROLES } from './roles';

// A tenant's operating settings. Every "send only in business hours" rule of every process
// reads them, so they live here as one validated shape with defaults.
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)');

export const businessDaySchema = z
  .object({ open: hhmm, close: hhmm })
  .refine((d) => d.open < d.close, { message: 'open must be before close' });

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const businessHoursSchema = z.object(
  Object.fromEntries(WEEKDAYS.map((d) => [d, businessDaySchema.nullable()])) as Record<
    Weekday,
    z.ZodNullable<typeof businessDaySchema>
  >,
);

// Building a formatter to test a zone costs ~50 µs, and every settings read checks one: the zones
// found valid are remembered (a few dozen exist in use; an invalid one is refused once per read).
const validTimeZones = new Set<string>();
export function isValidTimeZone(tz: string): boolean {
  if (validTimeZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return false;
  }
  if (validTimeZones.size < 1_000) validTimeZones.add(tz);
  return true;
}

const DEFAULT_SALES_SETTINGS = {
  leadFromWhatsApp: false,
  defaultMaxOpenLeads: 50,
  hotLeadScore: 70,
  marketingConsentTextVersion: 'marketing-v1',
  taskExpiryHours: 48,
  marketingLimitRetryHours: 24,
  marketingLimitMaxRetries: 3,
  pausedTemplateRecheckHours: 3,
  appointmentReminders: { dayBefore: true, hoursBefore: 2 },
  signing: { reminderEveryDays: 2, expiresAfterDays: 30, linkTtlHours: 24 * 30, codeTtlMinutes: 10, codeMaxAttempts: 5, codeTemplate: 'codigo_verificacao' },
};


// Billing and dunning (issue 9). Days are counted from the invoice's due date; a workflow input
// (`dayMs`) shortens the day on a test server.
const templateName = z.string().regex(/^[a-z0-9_]{1,512}$/);
const dayList = z.array(z.number().int().min(0).max(365)).max(10);
const DEFAULT_BILLING_SETTINGS = {
  // CDC art. 42-A: every collection message names the creditor with address and CPF/CNPJ. Until
  // they are set, no collection message goes out (the run records why).
  creditor: { legalName: null as string | null, taxId: null as string | null, address: null as string | null },
  lateCharges: { finePercent: 2, monthlyInterestPercent: 1 },
  collectionWindow: { preset: 'padrao' as (typeof COLLECTION_WINDOW_PRESETS)[number], hours: null as z.infer<typeof businessHoursSchema> | null, observeNationalHolidays: true },
  dunning: {
    reminderDaysBefore: [3],
    remindOnDueDate: true,
    noticeDaysAfter: [1, 5, 10],
    escalateAfterDays: 15,
    finalNoticeAfterDays: 20,
    consequenceAfterDays: 25,
    consequence: 'mark_delinquent' as (typeof DUNNING_CONSEQUENCES)[number],
    maxPromiseDays: 30,
  },
  // The tenant's own utility templates (approved in its WhatsApp account).
  templates: {
    language: 'pt_BR',
    reminder: 'cobranca_lembrete',
    dueToday: 'cobranca_vencimento',
    notice: 'cobranca_atraso',
    finalNotice: 'cobranca_aviso_final',
    paymentConfirmed: 'cobranca_pagamento_confirmado',
  },
  invoices: { issueDaysBeforeDue: 10, firstDueInDays: 5, billingType: 'UNDEFINED' as (typeof BILLING_TYPES)[number] },
  payouts: { agencyFeePercent: 10, payoutDay: 10 },
};

// Consortium administration (issue 10): the members' WhatsApp templates (the tenant's own,
// approved utility templates; members are written to outside any 24-hour window).
const DEFAULT_CONSORTIUM_SETTINGS = {
  notifyMembers: true,
  templates: {
    language: 'pt_BR',
    assemblyOpened: 'consorcio_assembleia_aberta',
    contemplated: 'consorcio_contemplacao',
    bidDisqualified: 'consorcio_lance_desclassificado',
    quotaExcluded: 'consorcio_cota_excluida',
  },
};

// Staff sign-in (issue 11): the tenant roles that must use a second factor (TOTP). SUPER_ADMIN
// always must, whatever a tenant says, so it is not a choice here.
const mfaRoles = z
  .array(z.enum(TENANT_ROLES))
  .max(TENANT_ROLES.length)
  .refine((roles) => new Set(roles).size === roles.length, 'each role once');
const DEFAULT_SECURITY_SETTINGS = { mfaRequiredRoles: [] as (typeof TENANT_ROLES)[number][] };

const DEFAULT_HANDOFF_MESSAGE = 'Vou chamar alguém da nossa equipe para continuar o atendimento.';

export const tenantSettingsSchema = z.object({
  timeZone: z.string().refine(isValidTimeZone, 'unknown IANA time zone'),
  locale: z.literal('pt-BR'),
  businessHours: businessHoursSchema,
  observeNationalHolidays: z.boolean(),
  rateLimits: z.object({
    apiPerUserPerMinute: z.number().int().min(10).max(10_000),
    automationPerMinute: z.number().int().min(10).max(100_000),
  }),
  // Stored values may be fractions (tests and demos shorten the clocks); what an admin sends is
  // held to whole minutes and hours by the patch schema below.
  escalation: z.object({
    acceptanceSlaMinutes: z.number().positive().max(24 * 60),
  }),
  conversation: z.object({
    inactivityCloseHours: z.number().positive().max(24 * 30),
    outOfHoursMessage: z.string().min(1).max(1024),
    // What the guest hears, inside business hours, the moment the assistant hands them to people.
    // Defaulted here so settings stored before these fields existed still parse.
    handoffNoticeEnabled: z.boolean().default(true),
    handoffMessage: z.string().trim().min(1).max(1024).default(DEFAULT_HANDOFF_MESSAGE),
  }),
  // The sales funnel. Defaults keep settings stored before this section parsing.
  sales: z
    .object({
      // A first WhatsApp message from an unknown contact opens a lead (source whatsapp).
      leadFromWhatsApp: z.boolean().default(false),
      // Open leads a sales user holds before round robin skips them (sales_capacities overrides).
      defaultMaxOpenLeads: z.number().int().min(0).max(100_000).default(50),
      // Score at or above which a lead is hot and its owner is alerted at once.
      hotLeadScore: z.number().int().min(0).max(100).default(70),
      // What the opt-out keywords and the lead form's consent checkbox refer to (LGPD art. 8).
      marketingConsentTextVersion: z.string().trim().min(1).max(100).default('marketing-v1'),
      // A cadence's call task expires after this long undone, and the cadence goes on.
      taskExpiryHours: z.number().positive().max(24 * 60).default(48),
      // 131049 (Meta's per-user marketing limit): wait this long, at most this many times.
      marketingLimitRetryHours: z.number().positive().max(24 * 14).default(24),
      marketingLimitMaxRetries: z.number().int().min(0).max(10).default(3),
      // A paused template is checked again after this long.
      pausedTemplateRecheckHours: z.number().positive().max(24 * 7).default(3),
      appointmentReminders: z
        .object({ dayBefore: z.boolean().default(true), hoursBefore: z.number().positive().max(48).default(2) })
        .default({ dayBefore: true, hoursBefore: 2 }),
      // Contract signing (Documenso's defaults: reminders every 2 days, a deadline).
      signing: z
        .object({
          reminderEveryDays: z.number().positive().max(60).default(2),
          expiresAfterDays: z.number().positive().max(365).default(30),
          linkTtlHours: z.number().positive().max(24 * 365).default(24 * 30),
          codeTtlMinutes: z.number().positive().max(60).default(10),
          codeMaxAttempts: z.number().int().min(1).max(10).default(5),
          // The WhatsApp authentication template that carries the code (no URL, per Meta).
          codeTemplate: z.string().regex(/^[a-z0-9_]{1,512}$/).default('codigo_verificacao'),
        })
        .default({ reminderEveryDays: 2, expiresAfterDays: 30, linkTtlHours: 24 * 30, codeTtlMinutes: 10, codeMaxAttempts: 5, codeTemplate: 'codigo_verificacao' }),
    })
    .default(() => DEFAULT_SALES_SETTINGS),
  billing: z
    .object({
      creditor: z
        .object({ legalName: z.string().trim().min(1).max(200).nullable(), taxId: z.string().regex(/^\d{11}$|^\d{14}$/).nullable(), address: z.string().trim().min(1).max(300).nullable() })
        .default(DEFAULT_BILLING_SETTINGS.creditor),
      lateCharges: z
        .object({ finePercent: z.number().min(0).max(100), monthlyInterestPercent: z.number().min(0).max(100) })
        .default(DEFAULT_BILLING_SETTINGS.lateCharges),
      collectionWindow: z
        .object({ preset: z.enum(COLLECTION_WINDOW_PRESETS), hours: businessHoursSchema.nullable().default(null), observeNationalHolidays: z.boolean().default(true) })
        .default(DEFAULT_BILLING_SETTINGS.collectionWindow),
      dunning: z
        .object({
          reminderDaysBefore: dayList.default([3]),
          remindOnDueDate: z.boolean().default(true),
          noticeDaysAfter: dayList.default([1, 5, 10]),
          escalateAfterDays: z.number().int().min(1).max(365).default(15),
          finalNoticeAfterDays: z.number().int().min(1).max(365).default(20),
          consequenceAfterDays: z.number().int().min(1).max(365).default(25),
          consequence: z.enum(DUNNING_CONSEQUENCES).default('mark_delinquent'),
          maxPromiseDays: z.number().int().min(1).max(365).default(30),
        })
        .default(DEFAULT_BILLING_SETTINGS.dunning),
      templates: z
        .object({
          language: z.string().regex(/^[a-z]{2}(_[A-Z]{2})?$/).default('pt_BR'),
          reminder: templateName.default('cobranca_lembrete'),
          dueToday: templateName.default('cobranca_vencimento'),
          notice: templateName.default('cobranca_atraso'),
          finalNotice: templateName.default('cobranca_aviso_final'),
          paymentConfirmed: templateName.default('cobranca_pagamento_confirmado'),
        })
        .default(DEFAULT_BILLING_SETTINGS.templates),
      invoices: z
        .object({ issueDaysBeforeDue: z.number().int().min(0).max(60).default(10), firstDueInDays: z.number().int().min(0).max(365).default(5), billingType: z.enum(BILLING_TYPES).default('UNDEFINED') })
        .default(DEFAULT_BILLING_SETTINGS.invoices),
      payouts: z.object({ agencyFeePercent: z.number().min(0).max(100).default(10), payoutDay: z.number().int().min(1).max(28).default(10) }).default(DEFAULT_BILLING_SETTINGS.payouts),
    })
    .default(DEFAULT_BILLING_SETTINGS),
  consortium: z
    .object({
      notifyMembers: z.boolean().default(true),
      templates: z
        .object({
          language: z.string().regex(/^[a-z]{2}(_[A-Z]{2})?$/).default('pt_BR'),
          assemblyOpened: templateName.default('consorcio_assembleia_aberta'),
          contemplated: templateName.default('consorcio_contemplacao'),
          bidDisqualified: templateName.default('consorcio_lance_desclassificado'),
          quotaExcluded: templateName.default('consorcio_cota_excluida'),
        })
        .default(DEFAULT_CONSORTIUM_SETTINGS.templates),
    })
    .default(DEFAULT_CONSORTIUM_SETTINGS),
  security: z.object({ mfaRequiredRoles: mfaRoles.default([]) }).default(DEFAULT_SECURITY_SETTINGS),
});
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

// The sales funnel's waits are settings (or workflow inputs), so the same code runs with days in
// production and with seconds on a test server.
export const storedTenantSettingsSchema = tenantSettingsSchema;

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  timeZone: 'America/Sao_Paulo',
  locale: 'pt-BR',
  businessHours: {
    sunday: null,
    monday: { open: '08:00', close: '18:00' },
    tuesday: { open: '08:00', close: '18:00' },
    wednesday: { open: '08:00', close: '18:00' },
    thursday: { open: '08:00', close: '18:00' },
    friday: { open: '08:00', close: '18:00' },
    saturday: { open: '08:00', close: '12:00' },
  },
  observeNationalHolidays: true,
  // The hotel-bot seed's table: 100 requests a minute per user, 5000 a minute per tenant for automations.
  rateLimits: { apiPerUserPerMinute: 100, automationPerMinute: 5000 },
  escalation: { acceptanceSlaMinutes: 5 },
  conversation: {
    inactivityCloseHours: 24,
    outOfHoursMessage:
      'Olá! Recebemos sua mensagem, mas nossa equipe está fora do horário de atendimento. Responderemos assim que possível.',
    handoffNoticeEnabled: true,
    handoffMessage: DEFAULT_HANDOFF_MESSAGE,
  },
  sales: DEFAULT_SALES_SETTINGS,
  billing: DEFAULT_BILLING_SETTINGS,
  consortium: DEFAULT_CONSORTIUM_SETTINGS,
  security: DEFAULT_SECURITY_SETTINGS,
};

// What a tenant admin may send to change settings: any subset, nested objects partially.
export const tenantSettingsPatchSchema = z
  .object({
    timeZone: tenantSettingsSchema.shape.timeZone,
    businessHours: businessHoursSchema.partial().strict(),
    observeNationalHolidays: z.boolean(),
    rateLimits: tenantSettingsSchema.shape.rateLimits.partial().strict(),
    escalation: z.object({ acceptanceSlaMinutes: z.number().int().min(1).max(24 * 60) }).partial().strict(),
    conversation: z
      .object({
        inactivityCloseHours: z.number().int().min(1).max(24 * 30),
        outOfHoursMessage: tenantSettingsSchema.shape.conversation.shape.outOfHoursMessage,
        handoffNoticeEnabled: z.boolean(),
        handoffMessage: z.string().trim().min(1).max(1024),
      })
      .partial()
      .strict(),
    sales: z
      .object({
        leadFromWhatsApp: z.boolean(),
        defaultMaxOpenLeads: z.number().int().min(0).max(100_000),
        hotLeadScore: z.number().int().min(0).max(100),
        marketingConsentTextVersion: z.string().trim().min(1).max(100),
        taskExpiryHours: z.number().int().min(1).max(24 * 60),
        marketingLimitRetryHours: z.number().int().min(1).max(24 * 14),
        marketingLimitMaxRetries: z.number().int().min(0).max(10),
        pausedTemplateRecheckHours: z.number().int().min(1).max(24 * 7),
        appointmentReminders: z.object({ dayBefore: z.boolean(), hoursBefore: z.number().int().min(1).max(48) }).partial().strict(),
        signing: z
          .object({
            reminderEveryDays: z.number().int().min(1).max(60),
            expiresAfterDays: z.number().int().min(1).max(365),
            linkTtlHours: z.number().int().min(1).max(24 * 365),
            codeTtlMinutes: z.number().int().min(1).max(60),
            codeMaxAttempts: z.number().int().min(1).max(10),
            codeTemplate: z.string().regex(/^[a-z0-9_]{1,512}$/),
          })
          .partial()
          .strict(),
      })
      .partial()
      .strict(),
    billing: z
      .object({
        creditor: z
          .object({ legalName: z.string().trim().min(1).max(200).nullable(), taxId: z
              .string()
              .refine((v) => normalizeTaxId(v) !== null, 'CPF ou CNPJ inválido')
              .transform((v) => normalizeTaxId(v)!.digits)
              .nullable(), address: z.string().trim().min(1).max(300).nullable() })
          .partial()
          .strict(),
        lateCharges: z.object({ finePercent: z.number().min(0).max(100), monthlyInterestPercent: z.number().min(0).max(100) }).partial().strict(),
        collectionWindow: z.object({ preset: z.enum(COLLECTION_WINDOW_PRESETS), hours: businessHoursSchema.nullable(), observeNationalHolidays: z.boolean() }).partial().strict(),
        dunning: z
          .object({
            reminderDaysBefore: dayList,
            remindOnDueDate: z.boolean(),
            noticeDaysAfter: dayList,
            escalateAfterDays: z.number().int().min(1).max(365),
            finalNoticeAfterDays: z.number().int().min(1).max(365),
            consequenceAfterDays: z.number().int().min(1).max(365),
            consequence: z.enum(DUNNING_CONSEQUENCES),
            maxPromiseDays: z.number().int().min(1).max(365),
          })
          .partial()
          .strict(),
        templates: z
          .object({ language: z.string().regex(/^[a-z]{2}(_[A-Z]{2})?$/), reminder: templateName, dueToday: templateName, notice: templateName, finalNotice: templateName, paymentConfirmed: templateName })
          .partial()
          .strict(),
        invoices: z.object({ issueDaysBeforeDue: z.number().int().min(0).max(60), firstDueInDays: z.number().int().min(0).max(365), billingType: z.enum(BILLING_TYPES) }).partial().strict(),
        payouts: z.object({ agencyFeePercent: z.number().min(0).max(100), payoutDay: z.number().int().min(1).max(28) }).partial().strict(),
      })
      .partial()
      .strict(),
    consortium: z
      .object({
        notifyMembers: z.boolean(),
        templates: z
          .object({ language: z.string().regex(/^[a-z]{2}(_[A-Z]{2})?$/), assemblyOpened: templateName, contemplated: templateName, bidDisqualified: templateName, quotaExcluded: templateName })
          .partial()
          .strict(),
      })
      .partial()
      .strict(),
    security: z.object({ mfaRequiredRoles: mfaRoles }).partial().strict(),
  })
  .partial()
  .strict();
export type TenantSettingsPatch = z.infer<typeof tenantSettingsPatchSchema>;

// Merged as deep as the patch goes: a tenant changing Monday's hours keeps the other days, and one
// changing the signing reminders keeps the signing deadline.
export function mergeTenantSettings(current: TenantSettings, patch: TenantSettingsPatch): TenantSettings {
  return tenantSettingsSchema.parse(deepMerge(current, patch));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) merged[key] = deepMerge(base[key], value);
  return merged;
}
