import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { moveLeadStage } from '../../activities/lead-stages';
import { withTenant } from '../../db/tenant-scope';
import { contactRepliedSignal, nurturingStateQuery, optedOutSignal, type NurturingResult } from '../../workflows/nurturing';
import { addUser } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';
import {
  alwaysOpenTenant,
  createCadence,
  leadEvents,
  leadRow,
  makeLead,
  metaError,
  send,
  startNurturing,
  templatesSentTo,
  untilEvent,
} from './nurturing-support';

// A lead's nurturing end to end: the real workflow on the dev server, the real conversation
// workflow sending through the loopback Graph API, Postgres under RLS. A business day is 200 ms.

describe('lead nurturing', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  let seller: Awaited<ReturnType<typeof addUser>>;
  const result = (workflowId: string) => stack.deps.temporal.client.workflow.getHandle(workflowId).result() as Promise<NurturingResult>;

  before(async () => {
    stack = await startStack();
    t = await whatsappTenant(stack);
    await alwaysOpenTenant(stack, t, { hotLeadScore: 30 });
    seller = await addUser(stack, t, 'SALES');
  });
  after(() => stack.stop());

  it('cadences: refused when malformed, one default at a time, deactivation, who may write', async () => {
    const bad = await stack.api.post('/api/cadences', { token: t.admin.token, body: { name: 'Ruim', steps: [send('oferta'), { type: 'wait', businessDays: 2 }] } });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.errors.some((e: { path: string }) => e.path.startsWith('body.steps')), JSON.stringify(bad.body.errors));
    const unknownStep = await stack.api.post('/api/cadences', { token: t.admin.token, body: { name: 'Ruim', steps: [{ type: 'sms', waitBusinessDays: 0 }] } });
    assert.equal(unknownStep.status, 400);
    assert.equal((await stack.api.post('/api/cadences', { token: seller.token, body: { name: 'Minha', steps: [send('oferta')] } })).status, 403, 'sales users read cadences, managers write them');

    const first = await createCadence(stack, t.admin.token, [send('oferta')], true);
    const second = await createCadence(stack, t.admin.token, [send('oferta')]);
    const made = await stack.api.post(`/api/cadences/${second}/default`, { token: t.admin.token });
    assert.equal(made.status, 200);
    assert.equal(made.body.isDefault, true);
    const list = await stack.api.get('/api/cadences', { token: seller.token });
    assert.equal(list.status, 200);
    const defaults = list.body.items.filter((c: { isDefault: boolean }) => c.isDefault).map((c: { id: string }) => c.id);
    assert.deepEqual(defaults, [second]);
    assert.ok(list.body.items.some((c: { id: string }) => c.id === first));

    const off = await stack.api.post(`/api/cadences/${second}/deactivate`, { token: t.admin.token });
    assert.equal(off.status, 200);
    assert.deepEqual([off.body.active, off.body.isDefault], [false, false]);
    const edit = await stack.api.post(`/api/cadences/${second}/versions`, { token: t.admin.token, body: { steps: [send('outra')] } });
    assert.equal(edit.status, 409);
    assert.equal((await stack.api.post(`/api/cadences/${second}/default`, { token: t.admin.token })).status, 409);
    // No default left: a lead without a cadence of its own is not enrolled.
    const lead = await makeLead(stack, t.tenantId);
    await startNurturing(stack, t.tenantId, lead);
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'cancelled' });
    assert.equal((await leadRow(stack, t.tenantId, lead.leadId)).ownerId, seller.id, 'still given an owner');
  });

  it('scores, assigns, runs the cadence frozen at enrolment and ends cold', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('boas_vindas'), { type: 'wait', businessDays: 1 }, send('lembrete_visita', 0, 'utility')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId, interest: 'Quero comprar à vista, urgente', source: 'whatsapp' });
    await startNurturing(stack, t.tenantId, lead);
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });

    assert.deepEqual(templatesSentTo(stack, lead.waId), ['boas_vindas', 'lembrete_visita']);
    const row = await leadRow(stack, t.tenantId, lead.leadId);
    assert.equal(row.nurturingStatus, 'cold');
    assert.equal(row.nurturingNextAt, null);
    assert.equal(row.ownerId, seller.id, 'the only sales user gets it');
    assert.equal(row.cadenceId, cadenceId);
    assert.equal(row.cadenceVersion, 1);
    assert.equal(row.temperature, 'hot');
    assert.ok(row.score >= 30);
    assert.ok(row.scoreReasons.some((r: string) => r.startsWith('Intenção de compra')), JSON.stringify(row.scoreReasons));
    const events = await leadEvents(stack, t.tenantId, lead.leadId);
    assert.deepEqual(
      events.map((e) => e.type),
      ['scored', 'assigned', 'note', 'cadence_enrolled', 'cadence_step', 'cadence_step', 'cadence_step', 'cadence_completed'],
    );
    assert.equal(events[2]?.data.kind, 'hot_alert');
    assert.deepEqual(events.filter((e) => e.type === 'cadence_step').map((e) => e.data.outcome), ['sent', 'waited', 'sent']);
    await recordHistory(stack, lead.workflowId, 'nurturing-cold');
  });

  it('stops at once when the contact replies', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, send('oferta')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    const handle = await startNurturing(stack, t.tenantId, lead, { businessDayMs: 60_000 });
    await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_enrolled');
    await handle.signal(contactRepliedSignal, { messageId: 'wamid.resposta', at: new Date().toISOString() });
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'replied' });
    assert.deepEqual(templatesSentTo(stack, lead.waId), []);
    const stopped = await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_stopped');
    assert.equal(stopped.data.reason, 'replied');
    assert.equal((await leadRow(stack, t.tenantId, lead.leadId)).nurturingStatus, 'stopped');
    await recordHistory(stack, lead.workflowId, 'nurturing-replied');
  });

  for (const stage of ['won', 'lost'] as const) {
    it(`stops when the lead is ${stage} (moveLeadStage)`, async () => {
      const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, send('oferta')]);
      const lead = await makeLead(stack, t.tenantId, { cadenceId });
      await startNurturing(stack, t.tenantId, lead, { businessDayMs: 60_000 });
      await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_enrolled');
      const moved = await moveLeadStage(stack.deps, { tenantId: t.tenantId, leadId: lead.leadId, stage, actor: { type: 'user', id: seller.id } });
      assert.equal(moved.outcome, 'changed');
      assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: stage });
      assert.deepEqual(templatesSentTo(stack, lead.waId), []);
    });
  }

  it('stops when the contact opts out (optedOut signal)', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, send('oferta')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    const handle = await startNurturing(stack, t.tenantId, lead, { businessDayMs: 60_000 });
    await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_enrolled');
    await handle.signal(optedOutSignal, { channel: 'whatsapp', at: new Date().toISOString() });
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'opted_out' });
    assert.deepEqual(templatesSentTo(stack, lead.waId), []);
  });

  it('131050 (the user stopped marketing) ends marketing and records the withdrawal in the ledger', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta'), send('segunda_oferta', 1)]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    stack.graph.failNextSend(1, metaError(131050, 'Unable to deliver message. User has stopped marketing messages.'));
    await startNurturing(stack, t.tenantId, lead);
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'marketing_blocked' });
    assert.deepEqual(templatesSentTo(stack, lead.waId), [], 'never the second template');
    const ledger = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('consent_events').where({ contactId: lead.contactId }).orderBy('seq'));
    assert.deepEqual(ledger.map((e) => [e.action, e.channel]), [['granted', 'web_form'], ['withdrawn', 'meta_opt_out']]);
    const blocked = await untilEvent(stack, t.tenantId, lead.leadId, 'marketing_blocked');
    assert.equal(blocked.data.code, 131050);
    await recordHistory(stack, lead.workflowId, 'nurturing-marketing-blocked');
  });

  it('never sends a marketing template without marketing consent; the lead still gets its owner', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta'), { type: 'call_task', waitBusinessDays: 0, title: 'Ligar' }]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId, consent: false });
    await startNurturing(stack, t.tenantId, lead);
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'no_consent' });
    assert.deepEqual(templatesSentTo(stack, lead.waId), []);
    const row = await leadRow(stack, t.tenantId, lead.leadId);
    assert.equal(row.ownerId, seller.id);
    assert.equal(row.nurturingStatus, 'stopped');
  });

  it('never sends marketing to a contact flagged "do not contact" (Não me Ligue), whatever its consent', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: lead.contactId }).update({ doNotContact: true, doNotContactReason: 'nao_me_ligue' }));
    await startNurturing(stack, t.tenantId, lead);
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'no_consent' });
    assert.deepEqual(templatesSentTo(stack, lead.waId), []);
  });

  it('a consent withdrawn after enrolment stops the next marketing send', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, send('oferta')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    await startNurturing(stack, t.tenantId, lead, { businessDayMs: 1_500 });
    await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_enrolled');
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('consent_events').insert({ id: crypto.randomUUID(), tenantId: t.tenantId, contactId: lead.contactId, purpose: 'marketing', action: 'withdrawn', channel: 'api', recordedByType: 'system' }),
    );
    assert.deepEqual(await result(lead.workflowId), { status: 'stopped', stopReason: 'no_consent' });
    assert.deepEqual(templatesSentTo(stack, lead.waId), []);
  });

  it('131049 (per-user marketing limit) backs off and then succeeds', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    stack.graph.failNextSend(1, metaError(131049, 'This message was not delivered to maintain healthy ecosystem engagement.'));
    await startNurturing(stack, t.tenantId, lead, { marketingLimitRetryMs: 500 });
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });
    assert.deepEqual(templatesSentTo(stack, lead.waId), ['oferta']);
    const steps = (await leadEvents(stack, t.tenantId, lead.leadId)).filter((e) => e.type === 'cadence_step');
    assert.deepEqual(steps.map((e) => [e.data.outcome, e.data.code, e.data.try]), [['limit_backoff', 131049, 0], ['sent', null, 1]]);
    await recordHistory(stack, lead.workflowId, 'nurturing-marketing-limit');
  });

  it('a paused template (132015) waits and is retried', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    stack.graph.failNextSend(1, metaError(132015, 'Template is paused due to low quality.'));
    await startNurturing(stack, t.tenantId, lead, { pausedTemplateRecheckMs: 500 });
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });
    assert.deepEqual(templatesSentTo(stack, lead.waId), ['oferta']);
    const steps = (await leadEvents(stack, t.tenantId, lead.leadId)).filter((e) => e.type === 'cadence_step');
    assert.deepEqual(steps.map((e) => e.data.outcome), ['template_paused', 'sent']);
  });

  it('a cadence edit leaves a running enrolment on its version; new leads get the new one', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, send('oferta_v1')]);
    const first = await makeLead(stack, t.tenantId, { cadenceId });
    await startNurturing(stack, t.tenantId, first, { businessDayMs: 2_000 });
    await untilEvent(stack, t.tenantId, first.leadId, 'cadence_enrolled');
    const edit = await stack.api.post(`/api/cadences/${cadenceId}/versions`, { token: t.admin.token, body: { steps: [send('oferta_v2')] } });
    assert.equal(edit.status, 201, JSON.stringify(edit.body));
    assert.equal(edit.body.currentVersion, 2);
    const second = await makeLead(stack, t.tenantId, { cadenceId });
    await startNurturing(stack, t.tenantId, second);
    await Promise.all([result(first.workflowId), result(second.workflowId)]);
    assert.deepEqual(templatesSentTo(stack, first.waId), ['oferta_v1']);
    assert.deepEqual(templatesSentTo(stack, second.waId), ['oferta_v2']);
    assert.equal((await leadRow(stack, t.tenantId, first.leadId)).cadenceVersion, 1);
    assert.equal((await leadRow(stack, t.tenantId, second.leadId)).cadenceVersion, 2);
    const got = await stack.api.get(`/api/cadences/${cadenceId}`, { token: t.admin.token });
    assert.deepEqual(got.body.versions.map((v: { version: number }) => v.version), [2, 1]);
  });

  it('pause keeps the delay, resume goes on, skip moves past a step; only the owner and managers may', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, send('primeiro'), send('segundo', 1)]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    await startNurturing(stack, t.tenantId, lead, { businessDayMs: 30_000 });
    await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_enrolled');
    const path = `/api/leads/${lead.leadId}/nurturing`;
    const other = await addUser(stack, t, 'SALES');
    assert.equal((await stack.api.post(`${path}/pause`, { token: other.token })).status, 403, 'another seller');

    const paused = await stack.api.post(`${path}/pause`, { token: seller.token });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.status, 'paused');
    assert.equal(paused.body.nextActionAt, null);
    const again = await stack.api.post(`${path}/pause`, { token: seller.token });
    assert.equal(again.status, 409);
    assert.equal(again.body.detail, 'A cadência já está pausada.');
    const seen = await stack.api.get(path, { token: seller.token });
    assert.equal(seen.status, 200);
    assert.equal(seen.body.live.status, 'paused');
    assert.equal(seen.body.live.stepIndex, 0);

    const resumed = await stack.api.post(`${path}/resume`, { token: seller.token });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status, 'running');
    const left = new Date(resumed.body.nextActionAt).getTime() - Date.now();
    assert.ok(left > 20_000 && left <= 30_000, `the unused delay is kept: ${left} ms`);

    // The manager skips the long wait: the first send goes at once, then the second 30 s later —
    // skipped by the seller.
    const manager = await addUser(stack, t, 'MANAGER');
    const skipped = await stack.api.post(`${path}/skip`, { token: manager.token });
    assert.equal(skipped.status, 200, JSON.stringify(skipped.body));
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.templateName === 'primeiro', 15_000);
    await until('on the second send', async () => (await stack.api.get(path, { token: seller.token })).body.live?.stepIndex === 2);
    assert.equal((await stack.api.post(`${path}/skip`, { token: seller.token })).status, 200);
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });
    assert.deepEqual(templatesSentTo(stack, lead.waId), ['primeiro']);
    const events = await leadEvents(stack, t.tenantId, lead.leadId);
    assert.deepEqual(
      events.filter((e) => e.type.startsWith('cadence_') && e.type !== 'cadence_step').map((e) => [e.type, e.actorId]),
      [['cadence_enrolled', null], ['cadence_paused', seller.id], ['cadence_resumed', seller.id], ['cadence_skipped', manager.id], ['cadence_skipped', seller.id], ['cadence_completed', null]],
    );
    assert.equal((await stack.api.post(`${path}/resume`, { token: seller.token })).status, 409, 'ended');
    await recordHistory(stack, lead.workflowId, 'nurturing-paused-resumed-skipped');
  });

  it('a call task step waits until the owner completes the task', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'call_task', waitBusinessDays: 0, title: 'Ligar para apresentar o imóvel' }, send('apos_ligacao', 0, 'utility')]);
    // Owned already (other sellers joined the rotation in the tests above): kept.
    const lead = await makeLead(stack, t.tenantId, { cadenceId, ownerId: seller.id });
    await startNurturing(stack, t.tenantId, lead, { taskExpiryMs: 120_000 });
    const task = await until('the call task', async () => {
      const list = await stack.api.get('/api/tasks?status=open', { token: seller.token });
      return list.body.items.find((i: { leadId: string }) => i.leadId === lead.leadId);
    });
    assert.equal(task.ownerId, seller.id);
    assert.equal(task.kind, 'call');
    const state = await stack.deps.temporal.client.workflow.getHandle(lead.workflowId).query(nurturingStateQuery);
    assert.equal(state.status, 'waiting_task');
    assert.equal(state.taskId, task.id);
    assert.deepEqual(templatesSentTo(stack, lead.waId), [], 'nothing sent while the task is open');
    const other = await addUser(stack, t, 'SALES');
    assert.equal((await stack.api.post(`/api/tasks/${task.id}/complete`, { token: other.token, body: { outcome: 'x' } })).status, 403);
    assert.equal((await stack.api.get(`/api/tasks?ownerId=${seller.id}`, { token: other.token })).status, 403, 'a seller sees only their own list');

    const done = await stack.api.post(`/api/tasks/${task.id}/complete`, { token: seller.token, body: { outcome: 'Cliente pediu a proposta por WhatsApp' } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, 'done');
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });
    assert.deepEqual(templatesSentTo(stack, lead.waId), ['apos_ligacao']);
    const byManager = await stack.api.get(`/api/tasks?ownerId=${seller.id}&status=done`, { token: t.admin.token });
    assert.ok(byManager.body.items.some((i: { id: string }) => i.id === task.id));
    await recordHistory(stack, lead.workflowId, 'nurturing-task');
  });

  it('an expired call task lets the cadence go on', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [{ type: 'call_task', waitBusinessDays: 0, title: 'Ligar' }, send('sem_ligacao', 0, 'utility')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    await startNurturing(stack, t.tenantId, lead, { taskExpiryMs: 500 });
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });
    const tasks = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('tasks').where({ leadId: lead.leadId }));
    assert.deepEqual(tasks.map((x) => x.status), ['expired']);
    assert.deepEqual(templatesSentTo(stack, lead.waId), ['sem_ligacao']);
  });

  it('assigns round robin, skipping inactive and full sales users; an owner already set is kept', async () => {
    const t2 = await whatsappTenant(stack);
    await alwaysOpenTenant(stack, t2);
    const cadenceId = await createCadence(stack, t2.admin.token, [send('oferta', 0, 'utility')], true);
    const [a, b, c, d] = [await addUser(stack, t2, 'SALES'), await addUser(stack, t2, 'SALES'), await addUser(stack, t2, 'SALES'), await addUser(stack, t2, 'SALES')];
    await withTenant(stack.deps.knex, t2.tenantId, async (trx) => {
      await trx('users').where({ id: b.id }).update({ active: false });
      await trx('sales_capacities').insert({ tenantId: t2.tenantId, userId: c.id, maxOpenLeads: 0 });
    });
    const owners: string[] = [];
    for (let i = 0; i < 3; i++) {
      const lead = await makeLead(stack, t2.tenantId);
      await startNurturing(stack, t2.tenantId, lead);
      await result(lead.workflowId);
      const row = await leadRow(stack, t2.tenantId, lead.leadId);
      assert.equal(row.cadenceId, cadenceId, 'the default cadence');
      owners.push(row.ownerId);
    }
    assert.deepEqual(owners, [a.id, d.id, a.id]);
    const kept = await makeLead(stack, t2.tenantId, { ownerId: c.id });
    await startNurturing(stack, t2.tenantId, kept);
    await result(kept.workflowId);
    assert.equal((await leadRow(stack, t2.tenantId, kept.leadId)).ownerId, c.id);
  });
});
