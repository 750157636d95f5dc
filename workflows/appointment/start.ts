import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { appointmentWorkflowId, type AppointmentInput } from './definitions';
import { appointment } from './workflow';

// One workflow per appointment, from booking to its outcome.
export function appointmentStart(input: AppointmentInput): WorkflowStart<typeof appointment> {
  return {
    workflowType: appointment,
    taskQueue: 'main',
    workflowId: appointmentWorkflowId(input.tenantId, input.appointmentId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'appointment', input.appointmentId),
  };
}
