import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { provisioningStatusQuery, provisioningWorkflowId, tenantProvisioning } from '../../workflows/provisioning';
import { GRAPH_ERRORS } from '../../scripts/sandbox/graph-api';
import { decodedHistoryJson, recordHistory } from '../support/histories';
import { login, provisionTenant, superAdmin, tenantBody, whatsappNumber } from '../support/fixtures';
import { withTenant, withPlatform } from '../../db/tenant-scope';
import { startStack, type TestStack } from '../support/stack';

// Tenant provisioning end to end: POST /api/tenants → workflow on the real dev server → rows in
// Postgres under RLS → status through the workflow's query.
describe('tenant provisioning workflow', () => {
  let stack: TestStack;
  let root: Awaited<ReturnType<typeof superAdmin>>;

  before(async () => {
    stack = await startStack();
    root = await superAdmin(stack);
  });
  after(() => stack.stop());

  async function finish(workflowId: string) {
    const handle = stack.deps.temporal.client.workflow.getHandle(workflowId);
    await handle.result().catch(() => undefined);
    return handle;
  }

  it('creates the tenant, its settings, its admin and its WhatsApp channel, then opens it', async () => {
    const number = whatsappNumber(stack);
    const body = tenantBody({
      timeZone: 'America/Manaus',
      whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken },
    });
    const res = await stack.api.post('/api/tenants', { token: root.token, body });
    assert.equal(res.status, 202);
    assert.match(res.body.workflowId, /^tenant-provisioning:[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('location'), `/api/tenants/${res.body.tenantId}/provisioning`);
    await finish(res.body.workflowId);

    const status = await stack.api.get(res.body.statusUrl, { token: root.token });
    assert.equal(status.status, 200);
    assert.equal(status.body.workflowStatus, 'COMPLETED');
    assert.equal(status.body.progress.state, 'completed');
    assert.deepEqual(
      status.body.progress.steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
      ['createTenant:done', 'applyDefaultSettings:done', 'createAdmin:done', 'verifyWhatsApp:done', 'activateTenant:done'],
    );

    const admin = await login(stack, body.admin.email, body.admin.password);
    assert.equal(admin.user.tenantId, res.body.tenantId);
    const me = await stack.api.get('/api/me', { token: admin.accessToken });
    assert.equal(me.body.role, 'TENANT_ADMIN');
    assert.equal(me.body.tenant.status, 'active');
    const settings = await stack.api.get('/api/settings', { token: admin.accessToken });
    assert.equal(settings.body.timeZone, 'America/Manaus');
    assert.equal(settings.body.escalation.acceptanceSlaMinutes, 5);

    // The token is stored sealed, never as sent.
    const channel = await withTenant(stack.deps.knex, res.body.tenantId, async (trx) => {
      return trx('whatsapp_channels').first();
    });
    assert.equal(channel.phoneNumberId, number.phoneNumberId);
    assert.equal(channel.verifiedName, 'Pousada Teste');
    assert.notEqual(channel.accessTokenSealed, number.accessToken);
    assert.equal(stack.deps.secrets.open(channel.accessTokenSealed), number.accessToken);
    // The Graph API saw the token, the history did not, even opened with the tenant's key.
    const history = await decodedHistoryJson(stack, res.body.workflowId);
    assert.ok(history.includes(body.admin.email), 'the opened history is readable');
    assert.ok(!history.includes(number.accessToken), 'access token leaked into the workflow history');
    assert.ok(!history.includes(body.admin.password), 'password leaked into the workflow history');

    const audit = await stack.api.get('/api/audit-events?limit=50', { token: admin.accessToken });
    const actions = audit.body.items.map((e: { action: string }) => e.action).reverse();
    assert.deepEqual(actions.slice(0, 5), ['tenant.created', 'tenant.settings_applied', 'user.created', 'whatsapp_channel.connected', 'tenant.activated']);
    assert.ok(audit.body.items.every((e: { actor: { id: string } }, i: number) => i < audit.body.items.length - 5 || e.actor.id === root.id));
    await recordHistory(stack, res.body.workflowId, 'provisioning-completed');
  });

  it('retries a step that fails for a while and then succeeds', async () => {
    const number = whatsappNumber(stack);
    stack.graph.failNext(2, GRAPH_ERRORS.serverError);
    const t = await provisionTenant(stack, root.token, {
      whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken },
    });
    const status = await stack.api.get(`/api/tenants/${t.tenantId}/provisioning`, { token: t.admin.token });
    assert.equal(status.body.workflowStatus, 'COMPLETED');
    const calls = stack.graph.requests.filter((r) => r.path.endsWith(`/${number.phoneNumberId}`));
    assert.equal(calls.length, 3, 'two failed attempts and the one that succeeded');
    await recordHistory(stack, t.workflowId, 'provisioning-retried');
  });

  it('compensates every step done before one that cannot succeed', async () => {
    const number = whatsappNumber(stack);
    const body = tenantBody({
      whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: 'EAAG-revoked-token-000' },
    });
    const res = await stack.api.post('/api/tenants', { token: root.token, body });
    assert.equal(res.status, 202);
    const handle = await finish(res.body.workflowId);
    await assert.rejects(handle.result(), /ProvisioningFailed|failed/);

    const status = await stack.api.get(res.body.statusUrl, { token: root.token });
    assert.equal(status.body.workflowStatus, 'FAILED');
    assert.equal(status.body.progress.state, 'failed');
    assert.match(status.body.progress.failure, /access token rejected/);
    assert.deepEqual(
      status.body.progress.steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
      ['createTenant:compensated', 'applyDefaultSettings:compensated', 'createAdmin:compensated', 'verifyWhatsApp:failed', 'activateTenant:pending'],
    );
    // Invalid credentials are not retried.
    assert.equal(stack.graph.requests.filter((r) => r.path.endsWith(`/${number.phoneNumberId}`)).length, 1);

    const tenant = await stack.api.get(`/api/tenants/${res.body.tenantId}`, { token: root.token });
    assert.equal(tenant.body.status, 'failed');
    assert.match(tenant.body.failureReason, /access token rejected/);
    const failedLogin = await stack.api.post('/api/auth/login', { body: { email: body.admin.email, password: body.admin.password } });
    assert.equal(failedLogin.status, 401, 'the compensated admin can no longer log in');
    const leftovers = await withTenant(stack.deps.knex, res.body.tenantId, async (trx) => {
      return {
        users: (await trx('users').count({ n: '*' }))[0]?.n,
        settings: (await trx('tenant_settings').count({ n: '*' }))[0]?.n,
        channels: (await trx('whatsapp_channels').count({ n: '*' }))[0]?.n,
        audit: (await trx('audit_events').orderBy('id').pluck('action')) as string[],
      };
    });
    assert.deepEqual([leftovers.users, leftovers.settings, leftovers.channels].map(Number), [0, 0, 0]);
    assert.deepEqual(leftovers.audit, ['tenant.created', 'tenant.settings_applied', 'user.created', 'user.removed', 'tenant.provisioning_failed']);

    // The slug and the e-mail are free again: a corrected request goes through.
    stack.graph.addNumber({ ...number, accessToken: 'EAAG-fresh-token-111' });
    const retry = await stack.api.post('/api/tenants', {
      token: root.token,
      body: { ...body, whatsapp: { ...body.whatsapp, accessToken: 'EAAG-fresh-token-111' } },
    });
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    await stack.deps.temporal.client.workflow.getHandle(retry.body.workflowId).result();
    await recordHistory(stack, res.body.workflowId, 'provisioning-compensated');
  });

  it('refuses a slug or admin e-mail already in use with 409, starting nothing', async () => {
    const t = await provisionTenant(stack, root.token);
    const sameSlug = await stack.api.post('/api/tenants', { token: root.token, body: tenantBody({ slug: t.slug }) });
    assert.equal(sameSlug.status, 409);
    const sameEmail = tenantBody();
    sameEmail.admin.email = t.admin.email;
    const res = await stack.api.post('/api/tenants', { token: root.token, body: sameEmail });
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
  });

  it('fails fast and compensates when the admin e-mail is taken after the API checked it', async () => {
    const existing = await provisionTenant(stack, root.token);
    const tenantId = randomUUID();
    const handle = await stack.deps.temporal.client.workflow.start(tenantProvisioning, {
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: provisioningWorkflowId(tenantId),
      args: [
        {
          tenantId,
          slug: `race-${tenantId.slice(0, 8)}`,
          name: 'Corrida',
          plan: 'standard',
          admin: { name: 'Outra pessoa', email: existing.admin.email, passwordHash: 'x' },
          requestedBy: { type: 'user', id: root.id },
        },
      ],
    });
    const started = Date.now();
    await assert.rejects(handle.result());
    assert.ok(Date.now() - started < 5_000, 'a taken e-mail is not retried');
    const status = await handle.query(provisioningStatusQuery);
    assert.match(status.failure ?? '', /already registered/);
    assert.deepEqual(
      status.steps.map((s) => s.state),
      ['compensated', 'compensated', 'failed', 'pending', 'pending'],
    );
    // The existing tenant's admin is untouched.
    await login(stack, existing.admin.email, existing.admin.password);
  });

  it('is found by tenant in the Temporal visibility store (Web UI and `temporal workflow list --query`)', async () => {
    const t = await provisionTenant(stack, root.token);
    const query = `OrquestraTenantId = '${t.tenantId}' AND OrquestraEntityType = 'tenant'`;
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const wf of stack.deps.temporal.client.workflow.list({ query })) found.push(wf.workflowId);
      if (!found.length) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(found, [t.workflowId]);
    // The same query, the way operations type it.
    if (process.env.TEMPORAL_CLI) {
      const out = execFileSync(process.env.TEMPORAL_CLI, [
        'workflow', 'list', '--address', stack.config.TEMPORAL_ADDRESS, '--query', `OrquestraTenantId = '${t.tenantId}'`, '--output', 'json',
      ]).toString();
      const listed = JSON.parse(out) as { execution: { workflowId: string } }[];
      assert.deepEqual(listed.map((w) => w.execution.workflowId), [t.workflowId]);
    }
  });

  it('accepts a request while no worker runs, and finishes it when one starts', async () => {
    const idle = await startStack({ worker: false });
    try {
      const body = tenantBody();
      const res = await idle.api.post('/api/tenants', { token: root.token, body });
      assert.equal(res.status, 202, 'durably accepted by Temporal; no worker needed to answer');
      await new Promise((r) => setTimeout(r, 500));
      const waiting = await idle.deps.temporal.client.workflow.getHandle(res.body.workflowId).describe();
      assert.equal(waiting.status.name, 'RUNNING');
      await idle.startWorker();
      await idle.deps.temporal.client.workflow.getHandle(res.body.workflowId).result();
      await login(idle, body.admin.email, body.admin.password);
    } finally {
      await idle.stop();
    }
  });

  it('carries on after the worker restarts in the middle of a run', async () => {
    const own = await startStack();
    try {
      const number = whatsappNumber(own);
      own.graph.failNext(2, GRAPH_ERRORS.serverError);
      const body = tenantBody({ whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken } });
      const res = await own.api.post('/api/tenants', { token: root.token, body });
      assert.equal(res.status, 202);
      // Stop the worker once the WhatsApp step has failed and is waiting to retry.
      for (let i = 0; i < 100 && own.graph.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      await own.stopWorker();
      const mid = await own.api.get(res.body.statusUrl, { token: root.token });
      assert.equal(mid.body.workflowStatus, 'RUNNING');
      await own.startWorker();
      await own.deps.temporal.client.workflow.getHandle(res.body.workflowId).result();
      const done = await own.api.get(res.body.statusUrl, { token: root.token });
      assert.equal(done.body.progress.state, 'completed');
      // Each step ran to completion once: one admin, one channel, one of each audit entry.
      const audit = await withTenant(own.deps.knex, res.body.tenantId, async (trx) => {
        const actions: string[] = await trx('audit_events').orderBy('id').pluck('action');
        return actions;
      });
      assert.deepEqual(audit, ['tenant.created', 'tenant.settings_applied', 'user.created', 'whatsapp_channel.connected', 'tenant.activated']);
    } finally {
      await own.stop();
    }
  });

  it('answers 503 and starts nothing when Temporal is unreachable', async () => {
    const offline = await startStack({ worker: false, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    try {
      const body = tenantBody();
      const res = await offline.api.post('/api/tenants', { token: root.token, body });
      assert.equal(res.status, 503);
      assert.ok(res.headers.get('retry-after'));
      const rows = await withPlatform(offline.deps.knex, async (trx) => {
        const found: unknown[] = await trx('audit_events')
          .where({ action: 'tenant.provisioning_requested' })
          .whereRaw(`details->>'slug' = ?`, [body.slug]);
        return found;
      });
      assert.equal(rows.length, 0);
    } finally {
      await offline.stop();
    }
  });
});
