export * from './definitions';
export { dunningReopenStart, dunningStart } from './start';
export { dunning } from './workflow';
