import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { IssuedInvoices, IssueSubscriptionInvoicesInput } from './definitions';

// One firing of a subscription's schedule: one activity, retried until the database answers. Its
// history is a handful of events, so it needs no continue-as-new.
const billing = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function issueSubscriptionInvoices(input: IssueSubscriptionInvoicesInput): Promise<IssuedInvoices> {
  return billing.issueDueInvoices({ tenantId: input.tenantId, subscriptionId: input.subscriptionId });
}
