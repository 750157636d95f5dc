import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { assertDistinctActivityNames, createActivities } from '../../activities';
import { loadConfig } from '../../infra/config';
import { createLogger } from '../../infra/logger';
import { activityDepsFromConfig } from '../../workers/activity-deps';
import { withOverrides } from '../../workers/worker';
import { superAdmin, tenantBody } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

describe('worker factory: activity names', () => {
  // Factories only capture their dependencies; nothing is called here.
  const config = loadConfig(process.env);
  const activities = createActivities(
    activityDepsFromConfig(config, { knex: {} as never, redis: null, log: createLogger('test', 'silent'), client: {} as never }),
  );

  it('refuses two factories that define the same activity, naming both', () => {
    assert.throws(
      () => assertDistinctActivityNames({ triage: { decideReply() {} }, ai: { decideReply() {}, other() {} } }),
      /activity "decideReply" is defined by both the triage and the ai activities/,
    );
  });

  it('registers every activity of today under one name each', () => {
    assert.ok(Object.keys(activities).length > 10);
    assert.equal(typeof activities.decideReply, 'function');
  });

  it('replaces only activities that exist', () => {
    const stub = async () => 'tenant-id';
    assert.equal(withOverrides(activities, { activateTenant: stub as never }).activateTenant, stub);
    assert.throws(() => withOverrides(activities, { activateTennant: stub } as never), /no such activities to override: activateTennant/);
  });
});

describe('worker factory: a workflow tested with stubbed activities', () => {
  let stack: TestStack;
  let root: Awaited<ReturnType<typeof superAdmin>>;
  before(async () => {
    stack = await startStack({
      activityOverrides: {
        async activateTenant() {
          throw ApplicationFailure.nonRetryable('billing account locked', 'ActivationRefused');
        },
      },
    });
    root = await superAdmin(stack);
  });
  after(() => stack.stop());

  it('a last step that cannot succeed undoes every step before it, newest first', async () => {
    const res = await stack.api.post('/api/tenants', { token: root.token, body: tenantBody() });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await assert.rejects(stack.deps.temporal.client.workflow.getHandle(res.body.workflowId).result(), /ProvisioningFailed|failed/);
    const status = await stack.api.get(`/api/tenants/${res.body.tenantId}/provisioning`, { token: root.token });
    assert.equal(status.body.workflowStatus, 'FAILED');
    assert.deepEqual(
      status.body.progress.steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
      ['createTenant:compensated', 'applyDefaultSettings:compensated', 'createAdmin:compensated', 'verifyWhatsApp:skipped', 'activateTenant:failed'],
    );
    assert.match(status.body.progress.failure, /billing account locked/);
    const tenant = await stack.api.get(`/api/tenants/${res.body.tenantId}`, { token: root.token });
    assert.equal(tenant.body.status, 'failed');
  });
});
