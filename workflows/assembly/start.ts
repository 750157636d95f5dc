import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { assemblyScheduleId, assemblyWorkflowId, type AssemblyInput, type OpenMonthlyAssemblyInput } from './definitions';
import { assembly, openMonthlyAssembly } from './workflow';

// One workflow per group and month.
export function assemblyStart(input: AssemblyInput): WorkflowStart<typeof assembly> {
  return {
    workflowType: assembly,
    taskQueue: 'main',
    workflowId: assemblyWorkflowId(input.tenantId, input.groupId, input.month),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'consortium_group', input.groupId),
  };
}

// What the group's schedule starts at each firing (the schedule appends the firing time to the id).
export function openMonthlyAssemblyStart(input: OpenMonthlyAssemblyInput): WorkflowStart<typeof openMonthlyAssembly> {
  return {
    workflowType: openMonthlyAssembly,
    taskQueue: 'main',
    workflowId: assemblyScheduleId(input.tenantId, input.groupId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'consortium_group', input.groupId),
  };
}
