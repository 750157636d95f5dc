import { z } from 'zod';

// Fields every billing route shares: calendar dates in the tenant's zone, centavos, percentages.
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'data no formato AAAA-MM-DD')
  .refine((d) => {
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
  }, 'data inexistente');
export const centavos = z.number().int('valor em centavos, inteiro').min(1, 'valor maior que zero').max(1e13);
export const percent = z.number().min(0, 'percentual entre 0 e 100').max(100, 'percentual entre 0 e 100');
export const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'mês no formato AAAA-MM');

export const amountDueView = z.object({
  principalCents: z.number().int(),
  fineCents: z.number().int(),
  interestCents: z.number().int(),
  totalCents: z.number().int(),
  daysLate: z.number().int(),
});

export const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
