import { z } from 'zod';
import type { Appointment } from '../../db/models';
import { APPOINTMENT_KINDS, APPOINTMENT_STATUSES } from '../../domain/sales-statuses';
import { pageQuery } from '../pagination';

const instant = z.iso.datetime({ offset: true });
const duration = z.number().int().min(5).max(12 * 60);
const exactlyOne = (b: { durationMinutes?: number; endsAt?: string }) => (b.durationMinutes === undefined) !== (b.endsAt === undefined);

export const bookBody = z
  .object({
    kind: z.enum(APPOINTMENT_KINDS),
    startsAt: instant,
    durationMinutes: duration.optional(),
    endsAt: instant.optional(),
    // Default: the lead's owner, else the person booking.
    ownerId: z.uuid().optional(),
    offeringId: z.uuid().optional(),
    location: z.string().trim().min(1).max(300).optional(),
    notes: z.string().trim().max(2000).optional(),
  })
  .strict()
  .refine(exactlyOne, { message: 'informe durationMinutes ou endsAt (exatamente um)', path: ['durationMinutes'] });

export const rescheduleBody = z
  .object({
    startsAt: instant,
    // Default: the appointment's current length.
    durationMinutes: duration.optional(),
  })
  .strict();

export const cancelBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

export const outcomeBody = z
  .object({
    outcome: z.enum(['attended', 'no_show']),
    note: z.string().trim().max(2000).optional(),
  })
  .strict();

export const agendaQuery = pageQuery.extend({
  from: instant.optional(),
  to: instant.optional(),
  ownerId: z.union([z.uuid(), z.literal('me')]).optional(),
  status: z.enum(APPOINTMENT_STATUSES).optional(),
  leadId: z.uuid().optional(),
});

export const appointmentView = z.object({
  id: z.uuid(),
  leadId: z.uuid(),
  contactId: z.uuid(),
  ownerId: z.uuid().nullable(),
  offeringId: z.uuid().nullable(),
  kind: z.enum(APPOINTMENT_KINDS),
  status: z.enum(APPOINTMENT_STATUSES),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
  location: z.string().nullable(),
  notes: z.string().nullable(),
  rescheduleCount: z.number().int(),
  outcomeNote: z.string().nullable(),
  workflowId: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type AppointmentView = z.infer<typeof appointmentView>;

export const liveAppointmentView = z.object({
  appointmentId: z.uuid(),
  status: z.enum(APPOINTMENT_STATUSES),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
  version: z.number().int(),
  contactAskedReschedule: z.boolean(),
  nextReminder: z.object({ key: z.string(), at: z.iso.datetime() }).nullable(),
  remindersSent: z.array(z.string()),
  historyLength: z.number().int(),
});

export function toAppointmentView(a: Appointment): AppointmentView {
  return {
    id: a.id,
    leadId: a.leadId,
    contactId: a.contactId,
    ownerId: a.ownerId,
    offeringId: a.offeringId,
    kind: a.kind,
    status: a.status,
    startsAt: a.startsAt.toISOString(),
    endsAt: a.endsAt.toISOString(),
    location: a.location,
    notes: a.notes,
    rescheduleCount: a.rescheduleCount,
    outcomeNote: a.outcomeNote,
    workflowId: a.workflowId,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
