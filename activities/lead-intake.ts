import type { SignalDefinition } from '@temporalio/common';
import type { Knex } from 'knex';
import { openOrJoinLead, type IntakeResult, type LeadIntake } from '../db/lead-intake';
import { Lead } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { CLOSED_LEAD_STAGES } from '../domain/sales-statuses';
import { nurturingWorkflowId } from '../workflows/nurturing/definitions';
import { nurturingStart } from '../workflows/nurturing/start';
import { startAutomationEvent } from './automation-events';
import type { ActivityDeps } from './deps';
import { emitLeadUpdated } from './lead-stages';
import { signalIfRunning, startOnce } from './temporal-calls';

// A lead's arrival from the API, a form, an automation or WhatsApp: the rows in their own
// transaction, then (only once committed, so the workflow's first step finds them) its nurturing
// workflow, the `lead.created` event and the live board. A retry repeats only what is missing:
// the workflow id and the event key come from the lead.

export type LeadIntakeDeps = Pick<ActivityDeps, 'knex' | 'temporal' | 'realtime'>;

// `alongside` runs in the intake's transaction (a form's consent, recorded with the lead, so the
// nurturing that starts after the commit already finds it).
export async function intakeLead(
  deps: LeadIntakeDeps,
  intake: LeadIntake,
  alongside?: (trx: Knex.Transaction, result: IntakeResult) => Promise<void>,
): Promise<IntakeResult> {
  const result = await withTenant(deps.knex, intake.tenantId, async (trx) => {
    const r = await openOrJoinLead(trx, intake, nurturingWorkflowId);
    if (alongside && !r.replayed) await alongside(trx, r);
    return r;
  });
  if (result.created) await afterLeadCreated(deps, result.lead);
  else if (!result.replayed) await emitLeadUpdated(deps, result.lead);
  return result;
}

export async function afterLeadCreated(deps: LeadIntakeDeps, lead: Lead): Promise<void> {
  await startOnce(deps, nurturingStart({ tenantId: lead.tenantId, leadId: lead.id, contactId: lead.contactId }));
  await startAutomationEvent(deps, lead.tenantId, `lead:${lead.id}:created`, 'lead.created', {
    leadId: lead.id,
    contactId: lead.contactId,
    offeringId: lead.offeringId,
    interest: lead.interest,
    source: lead.source,
    sourceDetail: lead.sourceDetail,
    stage: lead.stage,
    at: lead.createdAt.toISOString(),
  });
  await emitLeadUpdated(deps, lead);
}

// The nurturing workflows of a contact's open leads.
export async function openLeadWorkflowIds(deps: Pick<ActivityDeps, 'knex'>, tenantId: string, contactId: string): Promise<string[]> {
  const rows = await withTenant(deps.knex, tenantId, async (trx) =>
    Lead.query(trx).where({ contactId }).whereNotIn('stage', CLOSED_LEAD_STAGES).orderBy('createdAt').select('workflowId'),
  );
  return rows.map((r) => r.workflowId);
}

// Tells each of them; one that already ended (cold, stopped) has nothing left to hear.
export async function signalOpenLeads<Args extends unknown[]>(
  deps: Pick<ActivityDeps, 'knex' | 'temporal'>,
  tenantId: string,
  contactId: string,
  signal: SignalDefinition<Args>,
  ...args: Args
): Promise<number> {
  if (!deps.temporal) return 0;
  let told = 0;
  for (const workflowId of await openLeadWorkflowIds(deps, tenantId, contactId)) {
    if (await signalIfRunning(deps, workflowId, signal, ...args)) told++;
  }
  return told;
}
