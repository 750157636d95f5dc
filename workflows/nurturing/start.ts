import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { nurturingWorkflowId, type NurturingInput } from './definitions';
import { leadNurturing } from './workflow';

// One nurturing workflow per lead, for the lead's whole life.
export function nurturingStart(input: NurturingInput): WorkflowStart<typeof leadNurturing> {
  return {
    workflowType: leadNurturing,
    taskQueue: 'main',
    workflowId: nurturingWorkflowId(input.tenantId, input.leadId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'lead', input.leadId),
  };
}
