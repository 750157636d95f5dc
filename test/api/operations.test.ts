import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { apiRoutes, API_PREFIX } from '../../api/routes';
import { freePort } from '../../scripts/lib/temporal-cli';
import { provisionTenant, superAdmin } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

describe('operations endpoints', () => {
  let stack: TestStack;
  let metricsPort: number;

  before(async () => {
    metricsPort = await freePort();
    // As the worker process does: Core's Prometheus exporter for the SDK's own metrics.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } },
    });
    stack = await startStack({ env: { WORKER_METRICS_URLS: `http://127.0.0.1:${metricsPort}/metrics` } });
  });
  after(() => stack.stop());

  it('GET /health answers while the process is alive', async () => {
    const res = await stack.api.get('/health');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('GET /ready checks Temporal, Postgres and Redis', async () => {
    const res = await stack.api.get('/ready');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body.checks).sort(), ['postgres', 'redis', 'temporal']);
    assert.ok(Object.values(res.body.checks).every((c) => (c as { ok: boolean }).ok));
  });

  it('GET /ready answers 503 naming what is down', async () => {
    const broken = await startStack({
      worker: false,
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATABASE_OWNER_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    try {
      const res = await broken.api.get('/ready');
      assert.equal(res.status, 503);
      assert.equal(res.body.status, 'unavailable');
      for (const name of ['temporal', 'postgres', 'redis']) assert.equal(res.body.checks[name].ok, false, name);
      assert.equal((await broken.api.get('/health')).status, 200, 'liveness does not depend on the others');
      // Requests that need the database answer 503 (retry), not 500.
      const login = await broken.api.post('/api/auth/login', { body: { email: 'a@b.com.br', password: 'whatever-123' } });
      assert.equal(login.status, 503, JSON.stringify(login.body));
      assert.equal(login.headers.get('content-type'), 'application/problem+json');
      assert.ok(login.headers.get('retry-after'));
    } finally {
      await broken.stop();
    }
  });

  it('refuses authenticated requests with 503 while Redis is down, rather than skip the session check', async () => {
    const root = await superAdmin(stack);
    const noRedis = await startStack({ worker: false, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const res = await noRedis.api.get('/api/me', { token: root.token });
      assert.equal(res.status, 503, JSON.stringify(res.body));
    } finally {
      await noRedis.stop();
    }
  });

  it('GET /metrics on the internal port exposes HTTP latency and counts by route, plus the worker’s Temporal metrics', async () => {
    const root = await superAdmin(stack);
    await provisionTenant(stack, root.token);
    const res = await stack.metrics.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = res.body as string;
    assert.match(text, /orquestra_http_request_duration_seconds_bucket\{[^}]*route="\/tenants"[^}]*status="202"/);
    assert.match(text, /orquestra_http_requests_total\{method="POST",route="\/auth\/login",status="200"\} \d+/);
    assert.match(text, /^temporal_workflow_completed/m, 'worker metrics appended');
    assert.match(text, /^temporal_activity_execution_latency/m);
  });

  it('GET /openapi.json documents every /api route from the validating schemas', async () => {
    const res = await stack.api.get('/openapi.json');
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, '3.1.0');
    for (const r of apiRoutes) {
      const path = API_PREFIX + r.path.replace(/:(\w+)/g, '{$1}');
      const op = res.body.paths[path]?.[r.method];
      assert.ok(op, `${r.method} ${path} missing from the document`);
      if (r.body) assert.ok(op.requestBody.content['application/json'].schema, `${path} request body schema`);
    }
    const createTenant = res.body.paths['/api/tenants'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(createTenant.required.sort(), ['admin', 'name', 'slug']);
    assert.equal(res.body.paths['/api/users/{userId}'].get.parameters[0].schema.format, 'uuid');
  });
});
