export * from './definitions';
export { dataSubjectRequestStart } from './start';
export { dataSubjectRequest } from './workflow';
