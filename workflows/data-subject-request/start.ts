import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { dataSubjectRequestWorkflowId, type DataSubjectRequestInput } from './definitions';
import { dataSubjectRequest } from './workflow';

// One workflow per request; its search attributes name the request only.
export function dataSubjectRequestStart(input: DataSubjectRequestInput): WorkflowStart<typeof dataSubjectRequest> {
  return {
    workflowType: dataSubjectRequest,
    taskQueue: 'main',
    workflowId: dataSubjectRequestWorkflowId(input.tenantId, input.requestId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'data_subject_request', input.requestId),
  };
}
