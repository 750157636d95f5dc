import { ApplicationFailure } from '@temporalio/workflow';
import type { AssemblyInput, OpenedAssembly, OpenMonthlyAssemblyInput } from './definitions';

// FOUNDATION SKELETON — helper B replaces this file with the assembly workflow.
export async function assembly(_input: AssemblyInput): Promise<void> {
  throw ApplicationFailure.nonRetryable('not yet written');
}

export async function openMonthlyAssembly(_input: OpenMonthlyAssemblyInput): Promise<OpenedAssembly> {
  throw ApplicationFailure.nonRetryable('not yet written');
}
