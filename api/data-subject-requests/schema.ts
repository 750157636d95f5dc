import { z } from 'zod';
import type { DataSubjectRequest } from '../../db/models';
import { CORRECTABLE_CONTACT_FIELDS, DATA_SUBJECT_REQUEST_CHANNELS, DATA_SUBJECT_REQUEST_KINDS, DATA_SUBJECT_REQUEST_STATUSES, protocolOf } from '../../domain/data-subject-requests';
import { pageQuery } from '../pagination';

const correctionValue = z.string().trim().min(1).max(200).nullable();
export const correctionBody = z
  .object({
    name: correctionValue.optional(),
    email: z.email({ message: 'expected an e-mail address' }).max(254).nullable().optional(),
    document: z.string().regex(/^([0-9]{11}|[0-9]{14})$/, 'CPF (11 dígitos) ou CNPJ (14 dígitos), só números').nullable().optional(),
  })
  .strict()
  .refine((c) => CORRECTABLE_CONTACT_FIELDS.some((f) => c[f] !== undefined), { message: 'informe ao menos um campo a corrigir' });

export const registerBody = z
  .object({
    contactId: z.uuid(),
    kind: z.enum(DATA_SUBJECT_REQUEST_KINDS),
    correction: correctionBody.optional(),
  })
  .strict()
  .refine((b) => (b.kind === 'correction') === (b.correction !== undefined), { message: 'correction é obrigatório para kind=correction, e só para ele', path: ['correction'] });

export const refuseBody = z.object({ reason: z.string().trim().min(3).max(500) }).strict();

export const listQuery = pageQuery.extend({
  status: z.enum(DATA_SUBJECT_REQUEST_STATUSES).optional(),
  kind: z.enum(DATA_SUBJECT_REQUEST_KINDS).optional(),
  contactId: z.uuid().optional(),
});

export const liveView = z.object({
  requestId: z.uuid(),
  kind: z.enum(DATA_SUBJECT_REQUEST_KINDS),
  status: z.enum(DATA_SUBJECT_REQUEST_STATUSES),
  dueAt: z.iso.datetime(),
  nextReminder: z.object({ key: z.string(), at: z.iso.datetime() }).nullable(),
  remindersSent: z.array(z.string()),
  overdue: z.boolean(),
  identityConfirmedAt: z.iso.datetime().nullable(),
  refusalReason: z.string().nullable(),
  completion: z.record(z.string(), z.unknown()).nullable(),
  historyLength: z.number(),
});

export const requestView = z.object({
  id: z.uuid(),
  protocol: z.string(),
  contactId: z.uuid(),
  kind: z.enum(DATA_SUBJECT_REQUEST_KINDS),
  status: z.enum(DATA_SUBJECT_REQUEST_STATUSES),
  channel: z.enum(DATA_SUBJECT_REQUEST_CHANNELS),
  requestedAt: z.iso.datetime(),
  dueAt: z.iso.datetime(),
  identityConfirmedBy: z.string().nullable(),
  identityConfirmedAt: z.iso.datetime().nullable(),
  refusalReason: z.string().nullable(),
  completedAt: z.iso.datetime().nullable(),
  completion: z.record(z.string(), z.unknown()).nullable(),
  exportAvailable: z.boolean(),
  workflowId: z.string(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRequestView(r: DataSubjectRequest): z.infer<typeof requestView> {
  return {
    id: r.id,
    protocol: protocolOf(r.number),
    contactId: r.contactId,
    kind: r.kind,
    status: r.status,
    channel: r.channel,
    requestedAt: r.requestedAt.toISOString(),
    dueAt: r.dueAt.toISOString(),
    identityConfirmedBy: r.identityConfirmedBy,
    identityConfirmedAt: iso(r.identityConfirmedAt),
    refusalReason: r.refusalReason,
    completedAt: iso(r.completedAt),
    completion: r.completion,
    exportAvailable: r.exportedAt !== null && r.exportData !== null,
    workflowId: r.workflowId,
  };
}
