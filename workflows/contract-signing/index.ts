export * from './definitions';
export { contractSigningStart } from './start';
export { contractSigning } from './workflow';
