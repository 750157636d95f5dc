import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import type { NurturingResult } from '../../workflows/nurturing';
import { startStack, type TestStack } from '../support/stack';
import { whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';
import { alwaysOpenTenant, createCadence, leadEvents, makeLead, send, startNurturing } from './nurturing-support';

// The send path giving up for good (here: the tenant has no WhatsApp number, as the shared send
// helper reports it) is one failed step on the lead's timeline; the cadence goes on.

describe('lead nurturing: a send that cannot be made', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  let attempts = 0;

  before(async () => {
    stack = await startStack({
      activityOverrides: {
        async sendCadenceTemplate() {
          attempts += 1;
          throw ApplicationFailure.nonRetryable('the tenant has no WhatsApp number connected', 'NoWhatsAppChannel');
        },
      },
    });
    t = await whatsappTenant(stack);
    await alwaysOpenTenant(stack, t);
  });
  after(() => stack.stop());

  it('is recorded as a failed step and the cadence goes on to its end', async () => {
    const cadenceId = await createCadence(stack, t.admin.token, [send('oferta', 0, 'utility'), { type: 'call_task', waitBusinessDays: 0, title: 'Ligar' }]);
    const lead = await makeLead(stack, t.tenantId, { cadenceId });
    await startNurturing(stack, t.tenantId, lead, { taskExpiryMs: 300 });
    const result = (await stack.deps.temporal.client.workflow.getHandle(lead.workflowId).result()) as NurturingResult;
    assert.deepEqual(result, { status: 'cold', stopReason: null });
    assert.equal(attempts, 1, 'a non-retryable refusal is not retried');
    const steps = (await leadEvents(stack, t.tenantId, lead.leadId)).filter((e) => e.type === 'cadence_step');
    assert.deepEqual(steps.map((e) => [e.data.stepType, e.data.outcome]), [['send_template', 'failed'], ['call_task', 'task_created'], ['call_task', 'task_expired']]);
    assert.equal(steps[0]?.data.failure, 'the tenant has no WhatsApp number connected');
  });
});
