export * from './definitions';
export { assemblyScheduleOptions, assemblyStart, openMonthlyAssemblyStart } from './start';
export { assembly, openMonthlyAssembly } from './workflow';
