import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { addApiKey, addUser, login, provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('authentication and authorization', () => {
  let stack: TestStack;
  let root: Awaited<ReturnType<typeof superAdmin>>;
  let tenant: TenantFixture;

  before(async () => {
    stack = await startStack();
    root = await superAdmin(stack);
    tenant = await provisionTenant(stack, root.token);
  });
  after(() => stack.stop());

  const me = (o: { token?: string; apiKey?: string; headers?: Record<string, string> }) => stack.api.get('/api/me', o);

  describe('login', () => {
    it('refuses a wrong password and an unknown e-mail alike, as problem+json', async () => {
      const wrong = await stack.api.post('/api/auth/login', { body: { email: tenant.admin.email, password: 'not-the-password' } });
      const unknown = await stack.api.post('/api/auth/login', { body: { email: `nobody-${randomUUID()}@x.test`, password: 'whatever-123' } });
      for (const res of [wrong, unknown]) {
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.equal(res.body.detail, 'E-mail ou senha inválidos.');
      }
    });

    it('accepts the e-mail in any case and returns an 8 h access token and a 7 day refresh token', async () => {
      const res = await stack.api.post('/api/auth/login', { body: { email: tenant.admin.email.toUpperCase(), password: tenant.admin.password } });
      assert.equal(res.status, 200);
      const hours = (Date.parse(res.body.accessTokenExpiresAt) - Date.now()) / 3_600_000;
      const days = (Date.parse(res.body.refreshTokenExpiresAt) - Date.now()) / 86_400_000;
      assert.ok(hours > 7.9 && hours <= 8, `access token lasts ${hours} h`);
      assert.ok(days > 6.9 && days <= 7, `refresh token lasts ${days} days`);
      assert.equal((await me({ token: res.body.accessToken })).body.id, tenant.admin.id);
    });

    it('limits login to 5 attempts per 15 minutes per IP and e-mail, with Retry-After', async () => {
      const user = await addUser(stack, tenant, 'ATTENDANT');
      for (let i = 0; i < 5; i++) {
        const res = await stack.api.post('/api/auth/login', { body: { email: user.email, password: `wrong-${i}-password` } });
        assert.equal(res.status, 401);
      }
      const blocked = await stack.api.post('/api/auth/login', { body: { email: user.email, password: user.password } });
      assert.equal(blocked.status, 429);
      const retryAfter = Number(blocked.headers.get('retry-after'));
      assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
      // Another account from the same address is not locked out by it.
      const other = await stack.api.post('/api/auth/login', { body: { email: tenant.admin.email, password: tenant.admin.password } });
      assert.equal(other.status, 200);
    });
  });

  describe('access tokens', () => {
    it('rejects an expired token', async () => {
      const { token } = await stack.deps.accessTokens.sign(
        { userId: tenant.admin.id, tenantId: tenant.tenantId, role: 'TENANT_ADMIN', sessionId: randomUUID() },
        -60,
      );
      const res = await me({ token });
      assert.equal(res.status, 401);
      assert.match(res.body.detail, /expirada/);
    });

    it('rejects alg "none", a changed payload, a foreign signature and garbage', async () => {
      const [header, payload, signature] = tenant.admin.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const escalated = b64({ ...claims, role: 'SUPER_ADMIN', tid: null });
      const foreign = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('another-secret-that-is-long-enough-123'));
      const tokens = {
        algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
        algNoneEscalated: `${b64({ alg: 'none', typ: 'JWT' })}.${escalated}.`,
        changedPayload: `${header}.${escalated}.${signature}`,
        foreignSignature: foreign,
        garbage: 'not.a.jwt',
      };
      for (const [name, token] of Object.entries(tokens)) {
        const res = await me({ token });
        assert.equal(res.status, 401, `${name} was accepted`);
      }
      assert.equal((await me({ headers: { authorization: 'Basic abc' } })).status, 401);
      assert.equal((await me({})).status, 401);
    });
  });

  describe('refresh tokens', () => {
    it('rotates: each refresh token works once and the new pair works', async () => {
      const first = await login(stack, tenant.admin.email, tenant.admin.password);
      const next = await stack.api.post('/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
      assert.equal(next.status, 200);
      assert.notEqual(next.body.refreshToken, first.refreshToken);
      assert.equal((await me({ token: next.body.accessToken })).status, 200);
      const again = await stack.api.post('/api/auth/refresh', { body: { refreshToken: next.body.refreshToken } });
      assert.equal(again.status, 200);
    });

    it('detects reuse of a spent refresh token and revokes the whole session', async () => {
      const first = await login(stack, tenant.admin.email, tenant.admin.password);
      const rotated = await stack.api.post('/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
      assert.equal(rotated.status, 200);

      const replay = await stack.api.post('/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
      assert.equal(replay.status, 401);
      assert.match(replay.body.detail, /já utilizado/);
      // The thief's copy and the legitimate newer tokens are all dead now.
      assert.equal((await stack.api.post('/api/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status, 401);
      assert.equal((await me({ token: rotated.body.accessToken })).status, 401);
      assert.equal((await me({ token: first.accessToken })).status, 401);
      // Other sessions of the same user are untouched.
      assert.equal((await me({ token: tenant.admin.token })).status, 200);
    });

    it('refuses malformed and forged refresh tokens', async () => {
      const first = await login(stack, tenant.admin.email, tenant.admin.password);
      const [id] = first.refreshToken.split('.');
      for (const refreshToken of ['x', `${id}.forged-secret`, `${randomUUID()}.abc`, `${first.refreshToken}.extra`]) {
        const res = await stack.api.post('/api/auth/refresh', { body: { refreshToken } });
        assert.equal(res.status, 401, refreshToken);
      }
    });
  });

  it('logout ends the session: its access token and refresh token stop working', async () => {
    const s = await login(stack, tenant.admin.email, tenant.admin.password);
    assert.equal((await stack.api.post('/api/auth/logout', { token: s.accessToken })).status, 204);
    assert.equal((await me({ token: s.accessToken })).status, 401);
    assert.equal((await stack.api.post('/api/auth/refresh', { body: { refreshToken: s.refreshToken } })).status, 401);
  });

  it('deactivating a user ends their sessions and their logins', async () => {
    const user = await addUser(stack, tenant, 'SALES');
    const res = await stack.api.patch(`/api/users/${user.id}`, { token: tenant.admin.token, body: { active: false } });
    assert.equal(res.status, 200);
    assert.equal((await me({ token: user.token })).status, 401);
    assert.equal((await stack.api.post('/api/auth/refresh', { body: { refreshToken: user.refreshToken } })).status, 401);
    assert.equal((await stack.api.post('/api/auth/login', { body: { email: user.email, password: user.password } })).status, 401);
  });

  describe('roles per route', () => {
    it('lets each role do only what it may', async () => {
      const attendant = await addUser(stack, tenant, 'ATTENDANT');
      const manager = await addUser(stack, tenant, 'MANAGER');
      const finance = await addUser(stack, tenant, 'FINANCE');
      const newUser = () => ({ name: 'X', email: `x-${randomUUID()}@x.test`, role: 'ATTENDANT', password: 'senha-segura-1' });
      const cases: [string, string, string, unknown, number][] = [
        ['attendant lists users', attendant.token, 'GET /api/users', undefined, 403],
        ['attendant creates a user', attendant.token, 'POST /api/users', newUser(), 403],
        ['finance reads audit', finance.token, 'GET /api/audit-events', undefined, 403],
        ['manager lists users', manager.token, 'GET /api/users', undefined, 200],
        ['manager creates a user', manager.token, 'POST /api/users', newUser(), 403],
        ['manager creates an API key', manager.token, 'POST /api/api-keys', { name: 'k', scopes: ['users:read'] }, 403],
        ['admin creates a user', tenant.admin.token, 'POST /api/users', newUser(), 201],
        ['tenant admin creates a tenant', tenant.admin.token, 'POST /api/tenants', {}, 403],
        ['tenant admin lists tenants', tenant.admin.token, 'GET /api/tenants', undefined, 403],
        ['super admin lists tenants', root.token, 'GET /api/tenants', undefined, 200],
        ['super admin lists a tenant’s users', root.token, 'GET /api/users', undefined, 403],
        ['everyone reads /me', attendant.token, 'GET /api/me', undefined, 200],
      ];
      for (const [name, token, call, body, expected] of cases) {
        const [method, path] = call.split(' ') as [string, string];
        const res = await stack.api.request(method, path, { token, body });
        assert.equal(res.status, expected, `${name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    });
  });

  describe('automation API keys', () => {
    it('works within its scopes only, and stops working when revoked', async () => {
      const key = await addApiKey(stack, tenant, ['users:read']);
      assert.match(key.key, /^orq_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
      assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 200);
      assert.equal((await stack.api.get('/api/audit-events', { apiKey: key.key })).status, 403);
      assert.equal((await stack.api.post('/api/users', { apiKey: key.key, body: {} })).status, 403, 'staff-only route');
      const whoami = await me({ apiKey: key.key });
      assert.deepEqual([whoami.body.kind, whoami.body.scopes, whoami.body.tenant.id], ['apiKey', ['users:read'], tenant.tenantId]);

      const listed = await stack.api.get(`/api/api-keys/${key.id}`, { token: tenant.admin.token });
      assert.equal(listed.body.key, undefined, 'the secret is shown only at creation');
      assert.equal((await stack.api.delete(`/api/api-keys/${key.id}`, { token: tenant.admin.token })).status, 204);
      assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 401);
    });

    it('refuses a key with a wrong secret or a malformed key', async () => {
      const key = await addApiKey(stack, tenant, ['users:read']);
      const forged = key.key.slice(0, -4) + (key.key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      assert.equal((await stack.api.get('/api/users', { apiKey: forged })).status, 401);
      assert.equal((await stack.api.get('/api/users', { apiKey: 'orq_nope' })).status, 401);
    });
  });

  it('limits each user to the tenant’s requests per minute (429 with Retry-After)', async () => {
    const t = await provisionTenant(stack, root.token);
    const patched = await stack.api.patch('/api/settings', { token: t.admin.token, body: { rateLimits: { apiPerUserPerMinute: 10 } } });
    assert.equal(patched.status, 200);
    const user = await addUser(stack, t, 'ATTENDANT');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await me({ token: user.token })).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200));
    assert.equal(statuses[10], 429);
  });
});
