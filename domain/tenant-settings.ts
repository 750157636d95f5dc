import { z } from 'zod';

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

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

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
});
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
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
  })
  .partial()
  .strict();
export type TenantSettingsPatch = z.infer<typeof tenantSettingsPatchSchema>;

// Merged one level deep: a tenant changing Monday's hours keeps the other days.
export function mergeTenantSettings(current: TenantSettings, patch: TenantSettingsPatch): TenantSettings {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    const base = (current as Record<string, unknown>)[key];
    merged[key] =
      value !== null && typeof value === 'object' && base !== null && typeof base === 'object'
        ? { ...base, ...value }
        : value;
  }
  return tenantSettingsSchema.parse(merged);
}
