// Everything the worker bundles. One file per process.
export { automationDelivery } from './automation-delivery';
export { contractSigning } from './contract-signing';
export { conversation } from './conversation';
export { tenantProvisioning } from './provisioning';
export { leadNurturing } from './nurturing';
export { appointment } from './appointment';
export { dunning } from './dunning';
export { issueSubscriptionInvoices } from './invoice-issuing';
export { assembly, openMonthlyAssembly } from './assembly';
export { dataSubjectRequest } from './data-subject-request';
