// A subscription's invoices are issued by a Temporal Schedule (one per subscription, id
// `billing:{tenant}:{subscription}`): each firing starts this small workflow, which asks one
// activity to issue every invoice whose issue date has come. The activity decides from the
// subscription's row (next_due_date, next_sequence), so a second firing of the same period, a
// manual trigger or a catch-up after an outage issues nothing twice.

export const billingScheduleId = (tenantId: string, subscriptionId: string) => `billing:${tenantId}:${subscriptionId}`;

export interface IssueSubscriptionInvoicesInput {
  tenantId: string;
  subscriptionId: string;
}

export interface IssuedInvoices {
  // The invoices this run issued (none when nothing was due), in sequence order.
  invoiceIds: string[];
  // The subscription's status after the run ('ended' once its last installment is issued).
  status: 'active' | 'paused' | 'ended' | 'missing';
}
