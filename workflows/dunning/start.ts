import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { dunningWorkflowId, type DunningInput } from './definitions';
import { dunning } from './workflow';

// One workflow per invoice, from its first reminder to its payment (or its replacement).
export function dunningStart(input: DunningInput): WorkflowStart<typeof dunning> {
  return {
    workflowType: dunning,
    taskQueue: 'main',
    workflowId: dunningWorkflowId(input.tenantId, input.invoiceId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'invoice', input.invoiceId),
  };
}
