import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import knexFactory from 'knex';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { withPlatform } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import type { InboundMessage } from '../../domain/whatsapp-messages';
import { conversationStateQuery, inboundMessageSignal } from '../../workflows/conversation';
import { uid } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, until, whatsappTenant } from '../support/whatsapp';

// A conversation that outlives its tenant (deleted, or erased under LGPD) cannot write anything
// again: its next step must end it, visibly and at once, not retry inside workflow tasks forever.

const ALWAYS_OPEN = Object.fromEntries(
  Object.keys(DEFAULT_TENANT_SETTINGS.businessHours).map((d) => [d, { open: '00:00', close: '23:59' }]),
) as TenantSettings['businessHours'];

describe('a conversation whose tenant is gone', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ ai: true });
  });
  after(async () => stack.stop());

  it('ends as a failed workflow within seconds on the next message, after one attempt', async () => {
    const t = await whatsappTenant(stack, { businessHours: ALWAYS_OPEN, observeNationalHolidays: false });
    const guest = guestPhone();
    await guestSays(stack, t, guest, 'Oi, bom dia');
    await stack.graph.waitForSent((m) => m.to === guest);
    const conv = await until('conversation', () => conversationOf(stack, t.tenantId, guest));
    const handle = stack.deps.temporal.client.workflow.getHandle(conv.workflowId);

    // Deleted by the owner in the platform scope (the app role may not): every row of the
    // tenant cascades away, its conversation and contact included.
    const owner = knexFactory({ client: 'pg', connection: resolveDatabaseSettings().ownerUrl, pool: { min: 0, max: 1 } });
    try {
      assert.equal(await withPlatform(owner, async (trx) => trx('tenants').where({ id: t.tenantId }).delete()), 1);
    } finally {
      await owner.destroy();
    }

    // A message already on its way (the webhook no longer routes to a deleted tenant).
    const message: InboundMessage = {
      wamid: `wamid.gone-${uid()}`,
      timestamp: Math.floor(Date.now() / 1000),
      type: 'text',
      from: { waId: guest, profileName: 'Hóspede Teste' },
      text: 'Ainda estão aí?',
    };
    const sentAt = Date.now();
    await handle.signal(inboundMessageSignal, { message });
    // Before the fix the store step was retried inside workflow tasks, forever: give up waiting at 20 s.
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still running after 20 s')), 20_000).unref());
    const err = await Promise.race([handle.result(), timeout]).then(
      () => assert.fail('the workflow should fail'),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - sentAt;
    assert.ok(elapsed < 10_000, `ended after ${elapsed} ms`);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'ConversationFailed');
    assert.equal(err.cause.nonRetryable, true);
    assert.match(err.cause.message, /recordInbound failed permanently \(TenantGone/);
    assert.deepEqual((err.cause.details?.[0] as { closedReason: string }).closedReason, 'tenant_gone');

    const description = await handle.describe();
    assert.equal(description.status.name, 'FAILED', 'the Web UI shows it failed');

    // One attempt of the store step, and not one workflow task retried for it.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    const failedSteps = markers.filter((e) => e.markerRecordedEventAttributes?.failure);
    assert.equal(failedSteps.length, 1, 'one failed local activity');
    assert.equal(failedSteps[0]?.markerRecordedEventAttributes?.failure?.cause?.applicationFailureInfo?.type ?? failedSteps[0]?.markerRecordedEventAttributes?.failure?.applicationFailureInfo?.type, 'TenantGone');
    assert.equal(localActivityAttempt(failedSteps[0]), 1, 'recordInbound was tried once');
    assert.equal(events.filter((e) => e.workflowTaskFailedEventAttributes).length, 0, 'no workflow task failed');

    // What the workflow knew when it ended, for whoever looks.
    const view = await handle.query(conversationStateQuery);
    assert.equal(view.status, 'closed');
    assert.deepEqual(view.failure && { type: view.failure.type, step: view.failure.step }, { type: 'TenantGone', step: 'recordInbound' });
  });
});

// The attempt the SDK wrote in the local activity marker's data payload.
function localActivityAttempt(event: { markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null } | undefined): number | undefined {
  const payload = event?.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (!payload) return undefined;
  return (JSON.parse(Buffer.from(payload).toString('utf8')) as { attempt?: number }).attempt;
}
