import { randomUUID } from 'node:crypto';
import { Lead, LeadEvent } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import type { Actor } from '../domain/actor';
import { CLOSED_LEAD_STAGES, LEAD_STAGES, type LeadStage } from '../domain/sales-statuses';
import { leadStageChangedSignal, nurturingWorkflowId } from '../workflows/nurturing/definitions';
import { startAutomationEvent } from './automation-events';
import { realtimeOf, type ActivityDeps } from './deps';
import { signalIfRunning } from './temporal-calls';

// Moving a lead along the funnel, from wherever it happens: staff on the board, an appointment
// booked (visit), a proposal sent, a contract signed (won). One place writes the stage, the
// timeline row, tells the nurturing workflow (won and lost stop it), posts the automation events
// and updates the boards live.

export type LeadStageDeps = Pick<ActivityDeps, 'knex' | 'temporal' | 'realtime'>;

export interface MoveLeadStage {
  tenantId: string;
  leadId: string;
  stage: LeadStage;
  actor: Actor;
  reason?: string;
  // Automatic moves (a visit booked) never take a lead back: one already at proposal stays there.
  onlyForward?: boolean;
}

export type MoveLeadStageResult =
  | { outcome: 'changed'; from: LeadStage; lead: Lead }
  | { outcome: 'unchanged'; lead: Lead }
  | { outcome: 'refused'; reason: string; lead: Lead }
  | { outcome: 'not_found' };

const isClosed = (stage: LeadStage) => (CLOSED_LEAD_STAGES as readonly string[]).includes(stage);
const rank = (stage: LeadStage) => LEAD_STAGES.indexOf(stage);

export async function moveLeadStage(deps: LeadStageDeps, m: MoveLeadStage): Promise<MoveLeadStageResult> {
  const result = await withTenant(deps.knex, m.tenantId, async (trx): Promise<MoveLeadStageResult & { seq?: string }> => {
    const lead = await Lead.query(trx).findById(m.leadId).forUpdate();
    if (!lead) return { outcome: 'not_found' };
    if (lead.stage === m.stage) return { outcome: 'unchanged', lead };
    if (isClosed(lead.stage)) return { outcome: 'refused', reason: 'O lead já foi encerrado (ganho ou perdido).', lead };
    if (m.onlyForward && !isClosed(m.stage) && rank(m.stage) < rank(lead.stage)) return { outcome: 'unchanged', lead };
    const now = new Date();
    const updated = await Lead.query(trx).patchAndFetchById(lead.id, {
      stage: m.stage,
      stageChangedAt: now,
      updatedAt: now,
      closedAt: isClosed(m.stage) ? now : null,
      lostReason: m.stage === 'lost' ? (m.reason ?? null) : null,
    });
    const event = await LeadEvent.query(trx).insertAndFetch({
      id: randomUUID(),
      tenantId: m.tenantId,
      leadId: lead.id,
      type: 'stage_changed',
      data: { from: lead.stage, to: m.stage, ...(m.reason ? { reason: m.reason } : {}) },
      actorType: m.actor.type,
      actorId: m.actor.id,
      occurredAt: now,
    });
    return { outcome: 'changed', from: lead.stage, lead: updated, seq: event.seq };
  });
  if (result.outcome !== 'changed') return result;

  const { lead, from } = result;
  const at = lead.stageChangedAt.toISOString();
  // Nurturing that already ended (cold, stopped) has nothing left to hear.
  await signalIfRunning(deps, nurturingWorkflowId(m.tenantId, lead.id), leadStageChangedSignal, { stage: m.stage, at });
  const data = { leadId: lead.id, contactId: lead.contactId, from, to: m.stage, ownerId: lead.ownerId, reason: m.reason ?? null, at };
  const key = `lead:${lead.id}:stage:${result.seq}`;
  await startAutomationEvent(deps, m.tenantId, key, 'lead.stage_changed', data);
  if (m.stage === 'won') await startAutomationEvent(deps, m.tenantId, `${key}:won`, 'lead.won', data);
  if (m.stage === 'lost') await startAutomationEvent(deps, m.tenantId, `${key}:lost`, 'lead.lost', data);
  await emitLeadUpdated(deps, lead);
  return { outcome: 'changed', from, lead };
}

// The board card, to the tenant's boards and to its owner.
export async function emitLeadUpdated(deps: Pick<ActivityDeps, 'realtime'>, lead: Lead): Promise<void> {
  await realtimeOf(deps).emit({ tenantId: lead.tenantId }, 'lead:updated', {
    tenantId: lead.tenantId,
    leadId: lead.id,
    contactId: lead.contactId,
    stage: lead.stage,
    ownerId: lead.ownerId,
    score: lead.score,
    temperature: lead.temperature,
    nurturingStatus: lead.nurturingStatus,
    nurturingNextAt: lead.nurturingNextAt?.toISOString() ?? null,
    updatedAt: lead.updatedAt.toISOString(),
  });
}
