import { z } from 'zod';

export const uuidParam = <K extends string>(name: K) =>
  z.object({ [name]: z.uuid({ message: 'expected a UUID' }) } as Record<K, z.ZodUUID>);
export const email = z.email({ message: 'expected an e-mail address' }).max(254).transform((e) => e.toLowerCase());
export const password = z.string().min(10, 'at least 10 characters').max(200);
export const personName = z.string().trim().min(1).max(200);

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
});
