// Everything the worker bundles. One file per process.
export { tenantProvisioning } from './provisioning';
