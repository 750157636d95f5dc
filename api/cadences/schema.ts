import { z } from 'zod';
import type { Cadence, CadenceVersion } from '../../db/models';
import { cadenceStepSchema, cadenceStepsSchema } from '../../domain/cadence';

export const cadenceName = z.string().trim().min(1).max(120);

export const createCadenceBody = z.object({ name: cadenceName, steps: cadenceStepsSchema, isDefault: z.boolean().default(false) }).strict();
export const editCadenceBody = z.object({ steps: cadenceStepsSchema, name: cadenceName.optional() }).strict();
export const listCadencesQuery = z.object({ active: z.enum(['true', 'false']).optional() }).strict();

export const cadenceVersionView = z.object({
  version: z.number().int(),
  steps: z.array(cadenceStepSchema),
  createdAt: z.iso.datetime(),
  createdBy: z.uuid().nullable(),
});

export const cadenceView = z.object({
  id: z.uuid(),
  name: z.string(),
  currentVersion: z.number().int(),
  isDefault: z.boolean(),
  active: z.boolean(),
  steps: z.array(cadenceStepSchema),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export function toCadenceView(c: Cadence, current: CadenceVersion | undefined): z.infer<typeof cadenceView> {
  return {
    id: c.id,
    name: c.name,
    currentVersion: c.currentVersion,
    isDefault: c.isDefault,
    active: c.active,
    steps: (current?.steps ?? []) as z.infer<typeof cadenceView>['steps'],
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function toVersionView(v: CadenceVersion): z.infer<typeof cadenceVersionView> {
  return { version: v.version, steps: v.steps as z.infer<typeof cadenceVersionView>['steps'], createdAt: v.createdAt.toISOString(), createdBy: v.createdBy };
}
