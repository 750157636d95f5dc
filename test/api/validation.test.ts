import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { apiRoutes, API_PREFIX } from '../../api/routes';
import type { RouteDefinition } from '../../api/route';
import { provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

// Bad input on every route: a clear 4xx as problem+json, never a 500, nothing changed.
describe('input validation on every route', () => {
  let stack: TestStack;
  let tenant: TenantFixture;
  let rootToken: string;
  const logLines: string[] = [];
  const statuses: { route: string; status: number }[] = [];

  before(async () => {
    stack = await startStack({ logs: { write: (line: string) => void logLines.push(line) } });
    rootToken = (await superAdmin(stack)).token;
    tenant = await provisionTenant(stack, rootToken);
  });
  after(async () => {
    await stack.stop();
  });

  const tokenFor = (r: RouteDefinition) =>
    r.access === 'public' ? undefined : r.access.roles.includes('TENANT_ADMIN') ? tenant.admin.token : rootToken;
  const pathOf = (r: RouteDefinition) => API_PREFIX + r.path.replace(/:(\w+)/g, () => '00000000-0000-4000-8000-000000000000');
  const call = async (r: RouteDefinition, o: { raw?: string | Buffer; body?: unknown; headers?: Record<string, string>; path?: string }) => {
    const res = await stack.api.request(r.method, o.path ?? pathOf(r), { token: tokenFor(r), ...o });
    statuses.push({ route: `${r.method} ${r.path}`, status: res.status });
    return res;
  };
  const isProblem = (res: { status: number; headers: Headers; body: any }, status: number, name: string) => {
    assert.equal(res.status, status, `${name}: ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json', name);
    assert.equal(res.body.status, status);
    assert.ok(res.body.requestId, `${name}: problem without requestId`);
  };

  const withBody = apiRoutes.filter((r) => r.body);
  const withoutBody = apiRoutes.filter((r) => !r.body && r.method !== 'get');

  for (const r of withBody) {
    const name = `${r.method.toUpperCase()} ${r.path}`;
    it(`${name}: malformed JSON, wrong types, missing fields, wrong media type, oversized body`, async () => {
      isProblem(await call(r, { raw: '{"name": "Pousada", ' }), 400, `${name} malformed`);
      isProblem(await call(r, { raw: '42' }), 400, `${name} a number instead of an object`);

      const missing = await call(r, { body: {} });
      isProblem(missing, 400, `${name} empty object`);
      if (r.method === 'post') assert.ok(missing.body.errors?.length > 0, `${name}: missing fields are named`);

      const shape = (r.body as z.ZodObject<z.ZodRawShape>).shape ?? {};
      for (const field of Object.keys(shape)) {
        const res = await call(r, { body: { [field]: { unexpected: [true] } } });
        isProblem(res, 400, `${name} wrong type for ${field}`);
        assert.ok(
          res.body.errors.some((e: { path: string }) => e.path.startsWith(`body.${field}`)),
          `${name}: ${field} not named in ${JSON.stringify(res.body.errors)}`,
        );
      }
      const unknown = await call(r, { body: { definitelyNotAField: 1 } });
      isProblem(unknown, 400, `${name} unknown field`);

      isProblem(await call(r, { raw: 'name=x', headers: { 'content-type': 'text/plain' } }), 415, `${name} text/plain`);
      const huge = Buffer.alloc(stack.config.BODY_LIMIT_BYTES + 1, 'a');
      isProblem(await call(r, { raw: huge }), 413, `${name} oversized`);
    });
  }

  for (const r of withoutBody) {
    it(`${r.method.toUpperCase()} ${r.path}: refuses a body it does not take`, async () => {
      isProblem(await call(r, { body: { x: 1 } }), 400, r.path);
    });
  }

  it('validates query strings and path parameters', async () => {
    const byPath = (method: string, path: string) => apiRoutes.find((r) => r.method === method && r.path === path) as RouteDefinition;
    const users = byPath('get', '/users');
    for (const qs of ['limit=abc', 'limit=0', 'limit=1000', 'active=maybe', 'role=SUPER_ADMIN', 'cursor=%%%']) {
      isProblem(await call(users, { path: `${API_PREFIX}/users?${qs}` }), 400, `/users?${qs}`);
    }
    isProblem(await call(byPath('get', '/audit-events'), { path: `${API_PREFIX}/audit-events?cursor=abc` }), 400, 'audit cursor');
    for (const r of apiRoutes.filter((x) => x.path.includes(':'))) {
      const bad = API_PREFIX + r.path.replace(/:(\w+)/g, 'not-a-uuid');
      const res = await call(r, { path: bad, body: r.method === 'patch' ? { name: 'x' } : undefined });
      isProblem(res, 400, `${r.method} ${bad}`);
      assert.match(res.body.errors[0].path, /^params\./);
    }
  });

  it('answers unknown routes 404 and wrong methods 405, as problem+json', async () => {
    const unknown = await stack.api.get('/api/does-not-exist');
    isProblem(unknown, 404, 'unknown route');
    const wrongMethod = await stack.api.request('put', '/api/users', { token: tenant.admin.token, body: {} });
    isProblem(wrongMethod, 405, 'wrong method');
  });

  it('gives every response a request id, echoes a sane one, and logs it', async () => {
    const mine = await stack.api.get('/api/me', { token: tenant.admin.token, headers: { 'x-request-id': 'trace-abc-123' } });
    assert.equal(mine.headers.get('x-request-id'), 'trace-abc-123');
    const generated = await stack.api.get('/health');
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const hostile = await stack.api.get('/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.notEqual(hostile.headers.get('x-request-id'), 'bad id with spaces');
    const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'trace-abc-123');
    assert.ok(logged, 'the request id appears in the JSON log');
    assert.equal(logged.route, '/me');
    assert.equal(logged.status, 200);
  });

  it('survives a seeded sweep of random inputs on every route without a 5xx', async () => {
    // Deterministic (mulberry32), bounded: 40 bodies and 10 query strings per route.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const scalars = [null, true, false, 0, -1, 1e308, 3.5, '', ' ', 'a'.repeat(5000), '\u0000', '😀', 'ç', '<script>', "'; DROP TABLE users; --", '2026-02-30T25:61:00Z', 'America/Sao_Paulo', '00000000-0000-0000-0000-000000000000'];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 2 || r < 0.6) return pick(scalars);
      if (r < 0.8) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1));
      return randomObject(depth + 1, []);
    };
    const randomObject = (depth: number, keys: string[]): Record<string, unknown> =>
      Object.fromEntries(
        Array.from({ length: 1 + Math.floor(rand() * 4) }, () => [rand() < 0.8 && keys.length ? pick(keys) : pick(['__proto__', 'constructor', 'x', 'email']), value(depth)]),
      );
    for (const r of apiRoutes) {
      const keys = r.body ? Object.keys((r.body as z.ZodObject<z.ZodRawShape>).shape ?? {}) : [];
      for (let i = 0; i < (r.body ? 40 : 5); i++) {
        // Always a body off GET: a body-less logout would end the session the sweep runs on.
        const sendsBody = r.method !== 'get';
        const res = await call(r, { body: sendsBody ? randomObject(0, keys) : undefined });
        assert.ok(res.status < 500, `${r.method} ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
        if (r.access !== 'public') assert.notEqual(res.status, 401, `${r.method} ${r.path}: the sweep lost its session`);
      }
      for (let i = 0; i < (r.method === 'get' ? 10 : 0); i++) {
        const qs = new URLSearchParams([[pick(['limit', 'cursor', 'role', 'active', 'q', 'status', 'action', 'entityId']), String(pick(scalars))]]);
        const res = await call(r, { path: `${pathOf(r)}?${qs}` });
        assert.ok(res.status < 500, `${r.method} ${r.path}?${qs}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
  });

  it('never answered any of the above with a 5xx', () => {
    assert.ok(statuses.length > 50, `only ${statuses.length} calls made`);
    assert.deepEqual(statuses.filter((s) => s.status >= 500), []);
  });
});
