export * from './definitions';
export { assemblyStart, openMonthlyAssemblyStart } from './start';
export { assembly, openMonthlyAssembly } from './workflow';
