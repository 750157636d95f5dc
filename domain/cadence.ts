import { z } from 'zod';

// A cadence is an ordered list of steps a lead's nurturing workflow runs (HubSpot's sequences,
// Reev's and Meetime's cadências). "Wait N business days, then send" is a `wait` followed by a
// `send_template`, or a `send_template` with its own `waitBusinessDays`. A cadence version, once
// written, is never changed: the workflow freezes the one it enrolled on.

const templateName = z.string().regex(/^[a-z0-9_]{1,512}$/, 'nome de modelo: letras minúsculas, dígitos e _');
const language = z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'idioma no formato do WhatsApp (pt_BR)');
const businessDays = z.number().int().min(0).max(60);

export const CADENCE_STEP_TYPES = ['send_template', 'call_task', 'wait'] as const;
export type CadenceStepType = (typeof CADENCE_STEP_TYPES)[number];

// Meta's template categories that matter here: marketing needs the contact's marketing consent
// (and is the one Meta limits per user, 131049/131050); utility does not.
export const TEMPLATE_CATEGORIES = ['marketing', 'utility'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export const sendTemplateStepSchema = z
  .object({
    type: z.literal('send_template'),
    waitBusinessDays: businessDays,
    template: z
      .object({
        name: templateName,
        language: language.default('pt_BR'),
        components: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
      })
      .strict(),
    category: z.enum(TEMPLATE_CATEGORIES),
  })
  .strict();

export const callTaskStepSchema = z
  .object({
    type: z.literal('call_task'),
    waitBusinessDays: businessDays,
    title: z.string().trim().min(1).max(200),
    // Without it, the tenant's settings.sales.taskExpiryHours.
    expiresInHours: z.number().positive().max(24 * 60).optional(),
  })
  .strict();

export const waitStepSchema = z.object({ type: z.literal('wait'), businessDays: businessDays.min(1) }).strict();

export const cadenceStepSchema = z.discriminatedUnion('type', [sendTemplateStepSchema, callTaskStepSchema, waitStepSchema]);
export type CadenceStep = z.infer<typeof cadenceStepSchema>;

export const MAX_CADENCE_STEPS = 30;
export const cadenceStepsSchema = z
  .array(cadenceStepSchema)
  .min(1)
  .max(MAX_CADENCE_STEPS)
  .refine((steps) => steps.some((s) => s.type !== 'wait'), 'a cadência precisa de ao menos um envio ou tarefa')
  .refine((steps) => steps[steps.length - 1]?.type !== 'wait', 'uma espera no fim da cadência não leva a nada');

// How long the step waits before acting, in business days.
export function stepWaitDays(step: CadenceStep): number {
  return step.type === 'wait' ? step.businessDays : step.waitBusinessDays;
}

export const isMarketingStep = (step: CadenceStep) => step.type === 'send_template' && step.category === 'marketing';

// Stored rows were validated when written; a row that no longer parses (hand-edited) is refused
// at enrolment rather than half-run.
export function parseCadenceSteps(stored: unknown): CadenceStep[] | null {
  const r = cadenceStepsSchema.safeParse(stored);
  return r.success ? r.data : null;
}
