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

// A refund reopened an invoice whose run had ended (paid): a new run under the same id, without
// announcing the invoice again. Steps whose dates passed follow the catch-up rule.
export function dunningReopenStart(tenantId: string, invoiceId: string, refundPaymentId: string, options?: DunningInput['options']): WorkflowStart<typeof dunning> {
  return dunningStart({ tenantId, invoiceId, resume: { done: [], promise: null, reopened: { paymentId: refundPaymentId } }, ...(options ? { options } : {}) });
}
