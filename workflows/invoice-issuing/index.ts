export * from './definitions';
export { issueSubscriptionInvoicesStart } from './start';
export { issueSubscriptionInvoices } from './workflow';
