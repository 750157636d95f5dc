import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import Redis from 'ioredis';
import { ACCESS_TOKEN_TTL_SECONDS } from '../../api/auth/tokens';
import { withPlatform, withTenant } from '../../db/tenant-scope';
import { redisReachable } from '../../infra/redis';
import { SessionRevocations } from '../../infra/session-revocations';
import { freePort } from '../../scripts/lib/temporal-cli';
import { addApiKey, addUser, login, provisionTenant, superAdmin, uid, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { until } from '../support/whatsapp';

const sessionOf = (accessToken: string): string => JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()).sid;
const DAY_MS = 86_400_000;

describe('sessions', () => {
  let stack: TestStack;
  let root: Awaited<ReturnType<typeof superAdmin>>;
  let tenant: TenantFixture;

  before(async () => {
    stack = await startStack();
    root = await superAdmin(stack);
    tenant = await provisionTenant(stack, root.token);
  });
  after(() => stack.stop());

  const me = (token: string) => stack.api.get('/api/me', { token });
  const refresh = (refreshToken: string) => stack.api.post('/api/auth/refresh', { body: { refreshToken } });
  // Moves a session's start back in time, as if it had been refreshed all along since then.
  const ageSession = (tenantId: string, sessionId: string, byMs: number) =>
    withTenant(stack.deps.knex, tenantId, (trx) =>
      trx.raw(`UPDATE refresh_tokens SET created_at = created_at - make_interval(secs => ?) WHERE family_id = ?`, [byMs / 1000, sessionId]),
    );

  describe('absolute lifetime', () => {
    it('refuses to refresh a session older than SESSION_MAX_AGE_HOURS (30 days), however fresh its refresh token', async () => {
      const user = await addUser(stack, tenant, 'ATTENDANT');
      const s = await login(stack, user.email, user.password);
      const once = await refresh(s.refreshToken);
      assert.equal(once.status, 200, 'a fresh refresh token of a young session works');
      await ageSession(tenant.tenantId, sessionOf(s.accessToken), 30 * DAY_MS + 60_000);
      const res = await refresh(once.body.refreshToken);
      assert.equal(res.status, 401);
      assert.match(res.body.detail, /duração máxima/);
    });

    it('issues nothing that outlives the session: near its end, the new tokens expire with it', async () => {
      const user = await addUser(stack, tenant, 'ATTENDANT');
      const s = await login(stack, user.email, user.password);
      await ageSession(tenant.tenantId, sessionOf(s.accessToken), 30 * DAY_MS - 3_600_000);
      const res = await refresh(s.refreshToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      for (const field of ['refreshTokenExpiresAt', 'accessTokenExpiresAt']) {
        const leftMin = (Date.parse(res.body[field]) - Date.now()) / 60_000;
        assert.ok(leftMin > 55 && leftMin <= 60, `${field} in ${leftMin} min`);
      }
      assert.equal((await me(res.body.accessToken)).status, 200);
    });
  });

  it('suspending a tenant ends its sessions and stops its API keys; reactivating lets its staff log in again', async () => {
    const t = await provisionTenant(stack, root.token);
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const key = await addApiKey(stack, t, ['users:read']);
    assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 200);

    assert.equal((await stack.api.patch(`/api/tenants/${t.tenantId}`, { token: t.admin.token, body: { status: 'suspended' } })).status, 403);
    const bad = await stack.api.patch(`/api/tenants/${t.tenantId}`, { token: root.token, body: { status: 'failed' } });
    assert.equal(bad.status, 400);
    assert.equal((await me(attendant.token)).status, 200, 'a refused request changes nothing');

    const suspended = await stack.api.patch(`/api/tenants/${t.tenantId}`, { token: root.token, body: { status: 'suspended' } });
    assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
    assert.equal(suspended.body.status, 'suspended');
    for (const [who, s] of [['admin', t.admin], ['attendant', attendant]] as const) {
      assert.equal((await me(s.token)).status, 401, `${who}'s access token`);
      assert.equal((await refresh(s.refreshToken)).status, 401, `${who}'s refresh token`);
    }
    assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 401);
    assert.equal((await stack.api.post('/api/auth/login', { body: { email: attendant.email, password: attendant.password } })).status, 403);
    const audit = await withPlatform(stack.deps.knex, (trx) => trx('audit_events').where({ action: 'tenant.suspended', entity_id: t.tenantId }).first());
    assert.ok(audit.details.endedSessions >= 2, `ended ${audit.details.endedSessions}`);
    assert.equal(audit.actorId, root.id);

    const reactivated = await stack.api.patch(`/api/tenants/${t.tenantId}`, { token: root.token, body: { status: 'active' } });
    assert.equal(reactivated.body.status, 'active');
    assert.equal((await me(attendant.token)).status, 401, 'ended sessions stay ended');
    const again = await login(stack, attendant.email, attendant.password);
    assert.equal((await me(again.accessToken)).status, 200);
    assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 200);
    // Another tenant's staff never noticed.
    assert.equal((await me(tenant.admin.token)).status, 200);
  });

  describe('password change', () => {
    it('checks the current password and the policy, ends the other sessions and keeps this one', async () => {
      const user = await addUser(stack, tenant, 'MANAGER');
      const here = await login(stack, user.email, user.password);
      const newPassword = `nova-senha-${uid()}`;
      const change = (body: object) => stack.api.post('/api/auth/password', { token: here.accessToken, body });

      const wrong = await change({ currentPassword: 'nao-e-essa-senha', newPassword });
      assert.equal(wrong.status, 400);
      assert.match(wrong.body.detail, /senha atual está incorreta/);
      const short = await change({ currentPassword: user.password, newPassword: 'curta' });
      assert.equal(short.status, 400);
      assert.equal(short.body.errors[0].path, 'body.newPassword');
      assert.equal((await change({ currentPassword: user.password, newPassword: user.password })).status, 400);
      assert.equal((await me(user.token)).status, 200, 'refusals change nothing');

      assert.equal((await change({ currentPassword: user.password, newPassword })).status, 204);
      assert.equal((await me(here.accessToken)).status, 200, 'the session that changed it goes on');
      assert.equal((await refresh(here.refreshToken)).status, 200);
      assert.equal((await me(user.token)).status, 401, 'the other session ended');
      assert.equal((await refresh(user.refreshToken)).status, 401);
      assert.equal((await stack.api.post('/api/auth/login', { body: { email: user.email, password: user.password } })).status, 401);
      await login(stack, user.email, newPassword);
      const audit = await withTenant(stack.deps.knex, tenant.tenantId, (trx) => trx('audit_events').where({ action: 'auth.password_changed', entity_id: user.id }).first());
      assert.equal(audit.details.endedSessions, 1);
    });

    it('is for people: an API key cannot change a password', async () => {
      const key = await addApiKey(stack, tenant, ['users:read']);
      const res = await stack.api.post('/api/auth/password', { apiKey: key.key, body: { currentPassword: 'x', newPassword: 'nova-senha-123' } });
      assert.equal(res.status, 403);
    });
  });

  it('a role change ends the user’s sessions', async () => {
    const user = await addUser(stack, tenant, 'ATTENDANT');
    assert.equal((await stack.api.patch(`/api/users/${user.id}`, { token: tenant.admin.token, body: { role: 'SALES' } })).status, 200);
    assert.equal((await me(user.token)).status, 401);
    assert.equal((await refresh(user.refreshToken)).status, 401);
    const again = await login(stack, user.email, user.password);
    assert.equal((await me(again.accessToken)).body.role, 'SALES');
  });

  it('keeps api_keys.last_used_at, written at most once a minute', async () => {
    const key = await addApiKey(stack, tenant, ['users:read']);
    const lastUsed = async () =>
      withTenant(stack.deps.knex, tenant.tenantId, async (trx) => {
        const row: { lastUsedAt: Date | null } = await trx('api_keys').where({ id: key.id }).first();
        return row.lastUsedAt?.toISOString() ?? null;
      });
    assert.equal(await lastUsed(), null);
    assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 200);
    const first = await lastUsed();
    assert.ok(first && Math.abs(Date.parse(first) - Date.now()) < 10_000, `lastUsedAt ${first}`);
    assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 200);
    assert.equal(await lastUsed(), first, 'within the minute nothing is written');

    await withTenant(stack.deps.knex, tenant.tenantId, (trx) => trx.raw(`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = ?`, [key.id]));
    const aged = await lastUsed();
    assert.equal((await stack.api.get('/api/users', { apiKey: key.key })).status, 200);
    const later = await lastUsed();
    assert.ok(later && aged && Date.parse(later) > Date.parse(aged) + 100_000, `${aged} → ${later}`);
  });

  describe('refresh reuse while Redis is down', () => {
    let redisPort: number;
    let redisUrl: string;
    let redisServer: ChildProcess | undefined;
    let api: TestStack;

    const startRedis = async () => {
      redisServer = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await until('the test redis-server', () => redisReachable(redisUrl), 20_000);
    };
    const stopRedis = async () => {
      const proc = redisServer;
      redisServer = undefined;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    };

    before(async () => {
      redisPort = await freePort();
      redisUrl = `redis://127.0.0.1:${redisPort}`;
      await startRedis();
      // An API whose Redis (revocations, rate limits, realtime) is this test's own redis-server.
      api = await startStack({ worker: false, env: { REDIS_URL: redisUrl } });
    });
    after(async () => {
      await api?.stop();
      await stopRedis();
    });

    it('still revokes the family: this instance refuses its access token at once, every instance once Redis is back', async () => {
      const user = await addUser(stack, tenant, 'ATTENDANT');
      const first = await login(api, user.email, user.password);
      const rotated = await api.api.post('/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
      assert.equal(rotated.status, 200);
      assert.equal((await api.api.get('/api/me', { token: rotated.body.accessToken })).status, 200);

      await stopRedis();
      await until('the API to notice Redis is gone', async () => api.deps.redis?.status !== 'ready', 20_000);
      const replay = await api.api.post('/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
      assert.equal(replay.status, 401, JSON.stringify(replay.body));
      assert.match(replay.body.detail, /já utilizado/);
      assert.equal((await api.api.get('/api/me', { token: rotated.body.accessToken })).status, 401, 'refused at once, Redis or not');
      assert.equal((await api.api.post('/api/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status, 401);

      await startRedis();
      // Another API instance knows only what Redis says: the revocation must have been written.
      const other = new Redis(redisUrl);
      try {
        const elsewhere = new SessionRevocations(other, api.config.REDIS_KEY_PREFIX, ACCESS_TOKEN_TTL_SECONDS);
        await until('the revocation to reach Redis', () => elsewhere.isRevoked(sessionOf(first.accessToken)), 20_000);
        const ttl = await other.ttl(`${api.config.REDIS_KEY_PREFIX}revoked-session:${sessionOf(first.accessToken)}`);
        assert.ok(ttl > ACCESS_TOKEN_TTL_SECONDS - 120 && ttl <= ACCESS_TOKEN_TTL_SECONDS, `kept as long as its access tokens live: ${ttl} s`);
      } finally {
        other.disconnect();
      }
      assert.equal(api.deps.revocations.pendingWrites, 0);
      assert.equal((await api.api.get('/api/me', { token: rotated.body.accessToken })).status, 401);
      assert.equal((await api.api.get('/api/me', { token: user.token })).status, 200, 'the user’s other session is untouched');
    });
  });
});
