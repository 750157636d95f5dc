export * from './definitions';
export { dunningStart } from './start';
export { dunning } from './workflow';
