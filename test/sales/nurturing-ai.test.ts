import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../support/fixtures';
import type { NurturingResult } from '../../workflows/nurturing';
import { OPENAI_ERRORS } from '../fakes/openai';
import { recordHistory } from '../support/histories';
import { liveEvents } from '../support/live-events';
import { startStack, type TestStack } from '../support/stack';
import { until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';
import { alwaysOpenTenant, createCadence, leadEvents, leadRow, makeLead, send, startNurturing, templatesSentTo } from './nurturing-support';

// Scoring with the AI configured (the loopback OpenAI), its fallback to the heuristic, and a
// nurturing long enough to continue as new several times on the way to cold.

describe('lead nurturing: AI score and bounded history', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  const result = (workflowId: string) => stack.deps.temporal.client.workflow.getHandle(workflowId).result() as Promise<NurturingResult>;

  before(async () => {
    stack = await startStack({ ai: true });
    t = await whatsappTenant(stack);
    await alwaysOpenTenant(stack, t, { hotLeadScore: 80 });
  });
  const live = liveEvents(() => stack);
  after(async () => {
    live.close();
    await stack.stop();
  });

  const listen = async (token: string) => (await live.connect(token)).events;

  it('scores with the AI’s structured answer, reasons in pt-BR; a hot lead alerts its owner and the managers live', async () => {
    const openai = stack.openai!;
    const seller = await addUser(stack, t, 'SALES');
    const manager = await addUser(stack, t, 'MANAGER');
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const [sellerHears, managerHears, attendantHears] = [await listen(seller.token), await listen(manager.token), await listen(attendant.token)];
    openai.respondWith(() => ({ raw: JSON.stringify({ score: 86, reasons: ['Pediu visita para hoje', 'Tem carta de crédito aprovada'] }) }));
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta', 0, 'utility')]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId, interest: 'Casa com quintal' });
    await startNurturing(stack, t.tenantId, lead);
    await result(lead.workflowId);
    const row = await leadRow(stack, t.tenantId, lead.leadId);
    assert.equal(row.score, 86);
    assert.equal(row.temperature, 'hot');
    assert.deepEqual(row.scoreReasons, ['Pediu visita para hoje', 'Tem carta de crédito aprovada']);
    const req = openai.requests.at(-1);
    assert.equal(req?.body.response_format?.json_schema?.name, 'lead_score');
    assert.ok(JSON.stringify(req?.body.messages).includes('Casa com quintal'));
    const scored = (await leadEvents(stack, t.tenantId, lead.leadId)).find((e) => e.type === 'scored');
    assert.equal(scored?.data.source, 'openai');
    for (const heard of [sellerHears, managerHears]) {
      const hot = await until('lead:hot', async () => heard.find((e) => e.name === 'lead:hot' && e.payload.leadId === lead.leadId));
      assert.deepEqual(hot.payload, { tenantId: t.tenantId, leadId: lead.leadId, ownerId: seller.id, score: 86, reasons: ['Pediu visita para hoje', 'Tem carta de crédito aprovada'] });
    }
    await until('lead:updated to the owner', async () => sellerHears.find((e) => e.name === 'lead:updated' && e.payload.leadId === lead.leadId && e.payload.nurturingStatus === 'cold'));
    assert.ok(!attendantHears.some((e) => e.name === 'lead:hot'), 'not to attendants');
  });

  it('falls back to the heuristic when the AI fails or answers out of shape', async () => {
    const openai = stack.openai!;
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta', 0, 'utility')]);
    for (const answer of [OPENAI_ERRORS.serverError, { raw: JSON.stringify({ score: 140, reasons: [] }) }]) {
      openai.respondWith(() => answer);
      const lead = await makeLead(stack, t.tenantId, { cadenceId, source: 'portal', interest: '' });
      await startNurturing(stack, t.tenantId, lead);
      await result(lead.workflowId);
      const row = await leadRow(stack, t.tenantId, lead.leadId);
      // portal 10 + consent 10 (+5 if it arrived within hours, which the always-open calendar makes it).
      assert.equal(row.score, 25);
      assert.deepEqual(row.scoreReasons, ['Origem: portal (+10)', 'Aceitou receber ofertas (+10)', 'Chegou em horário comercial (+5)']);
      assert.equal(row.temperature, 'cold');
      const scored = (await leadEvents(stack, t.tenantId, lead.leadId)).find((e) => e.type === 'scored');
      assert.equal(scored?.data.source, 'heuristic');
    }
    openai.respondWith();
  });

  it('continues as new with its state and still ends cold after the last step', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [
      { type: 'wait', businessDays: 1 },
      send('primeiro', 0, 'utility'),
      { type: 'wait', businessDays: 1 },
      { type: 'wait', businessDays: 1 },
      send('segundo', 1, 'utility'),
    ]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    const handle = await startNurturing(stack, t.tenantId, lead, { maxHistoryEvents: 25 });
    assert.deepEqual(await result(lead.workflowId), { status: 'cold', stopReason: null });
    const runs = [];
    for await (const w of stack.deps.temporal.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(w.runId);
    assert.ok(runs.length > 1, `continued as new (${runs.length} runs)`);
    assert.deepEqual(templatesSentTo(stack, lead.waId), ['primeiro', 'segundo']);
    const types = (await leadEvents(stack, t.tenantId, lead.leadId)).map((e) => e.type);
    assert.equal(types.filter((x) => x === 'cadence_enrolled').length, 1, 'enrolled once across runs');
    assert.equal(types.filter((x) => x === 'cadence_step').length, 5);
    assert.equal(types.at(-1), 'cadence_completed');
    await recordHistory(stack, lead.workflowId, 'nurturing-continued-as-new');
  });
});
