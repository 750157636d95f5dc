import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { contractWorkflowId, type ContractSigningInput } from './definitions';
import { contractSigning } from './workflow';

// One workflow per contract, from its rendering to its cancellation after activation.
export function contractSigningStart(input: ContractSigningInput): WorkflowStart<typeof contractSigning> {
  return {
    workflowType: contractSigning,
    taskQueue: 'main',
    workflowId: contractWorkflowId(input.tenantId, input.contractId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'contract', input.contractId),
  };
}
