import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { billingScheduleId, type IssueSubscriptionInvoicesInput } from './definitions';
import { issueSubscriptionInvoices } from './workflow';

// What the subscription's schedule starts at each firing. The schedule appends the firing time
// to this id, so each run is `billing:{tenant}:{subscription}-<time>`.
export function issueSubscriptionInvoicesStart(input: IssueSubscriptionInvoicesInput): WorkflowStart<typeof issueSubscriptionInvoices> {
  return {
    workflowType: issueSubscriptionInvoices,
    taskQueue: 'main',
    workflowId: billingScheduleId(input.tenantId, input.subscriptionId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'subscription', input.subscriptionId),
  };
}
