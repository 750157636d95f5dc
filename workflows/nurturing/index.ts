export * from './definitions';
export { nurturingStart } from './start';
export { leadNurturing } from './workflow';
