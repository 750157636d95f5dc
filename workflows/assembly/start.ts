import type { ScheduleOptions } from '@temporalio/client';
import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
// (Types only from the client: this module is in the workflow bundle.)
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

// The group's Temporal Schedule: fires daily at 08:00 in the tenant's time zone. A daily firing
// (rather than one computed day a month) needs no re-computation when the rules' opening days or
// the calendar's holiday shifts change, and a missed firing is made good the next morning: the
// starter finds the month whose bidding is open (most days: none, or one started already, and it
// returns), issues that month's installments once and starts the month's assembly once.
export function assemblyScheduleOptions(group: { id: string; tenantId: string }, timeZone: string, taskQueue: string): ScheduleOptions {
  const start = openMonthlyAssemblyStart({ tenantId: group.tenantId, groupId: group.id });
  return {
    scheduleId: assemblyScheduleId(group.tenantId, group.id),
    spec: { calendars: [{ hour: 8, minute: 0, comment: 'daily: open the month whose bidding starts' }], timezone: timeZone },
    action: {
      type: 'startWorkflow',
      workflowType: start.workflowType,
      workflowId: start.workflowId,
      taskQueue,
      args: start.args,
      typedSearchAttributes: start.typedSearchAttributes,
    },
    policies: { overlap: 'SKIP', catchupWindow: '3 days' },
    typedSearchAttributes: start.typedSearchAttributes,
  };
}
