import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, login, provisionTenant, superAdmin, uid, type TenantFixture } from '../support/fixtures';
import { withTenant } from '../../db/tenant-scope';
import { startStack, type TestStack } from '../support/stack';

describe('tenant administration', () => {
  let stack: TestStack;
  let tenant: TenantFixture;

  before(async () => {
    stack = await startStack();
    tenant = await provisionTenant(stack, (await superAdmin(stack)).token);
  });
  after(() => stack.stop());

  const admin = () => ({ token: tenant.admin.token });

  it('creates, finds, pages and edits users, and records each change in the audit log', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await addUser(stack, tenant, 'ATTENDANT')).id);

    const page1 = await stack.api.get('/api/users?limit=2&role=ATTENDANT', admin());
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.nextCursor);
    const page2 = await stack.api.get(`/api/users?limit=2&role=ATTENDANT&cursor=${page1.body.nextCursor}`, admin());
    const seen = [...page1.body.items, ...page2.body.items].map((u: { id: string }) => u.id);
    assert.deepEqual(seen.sort(), [...created].sort(), 'keyset pages cover every user exactly once');
    assert.equal(page2.body.nextCursor, null);

    const target = created[0] as string;
    const edited = await stack.api.patch(`/api/users/${target}`, { ...admin(), body: { name: 'Ana Recepção', role: 'MANAGER' } });
    assert.equal(edited.status, 200);
    assert.deepEqual([edited.body.name, edited.body.role], ['Ana Recepção', 'MANAGER']);
    const search = await stack.api.get('/api/users?q=recep', admin());
    assert.deepEqual(search.body.items.map((u: { id: string }) => u.id), [target]);

    const audit = await stack.api.get(`/api/audit-events?entityType=user&entityId=${target}`, admin());
    const actions = audit.body.items
      .filter((e: { action: string }) => !e.action.startsWith('auth.'))
      .map((e: { action: string; actor: { id: string } }) => [e.action, e.actor.id]);
    assert.deepEqual(actions, [['user.updated', tenant.admin.id], ['user.created', tenant.admin.id]]);
    assert.ok(audit.body.items.every((e: { requestId: string }) => e.requestId), 'audit rows carry the request id');
  });

  it('refuses a duplicate e-mail with 409 and changes nothing', async () => {
    const before = await stack.api.get('/api/users?limit=100', admin());
    const res = await stack.api.post('/api/users', {
      ...admin(),
      body: { name: 'Clone', email: tenant.admin.email, role: 'SALES', password: 'senha-segura-1' },
    });
    assert.equal(res.status, 409);
    const after = await stack.api.get('/api/users?limit=100', admin());
    assert.equal(after.body.items.length, before.body.items.length);
  });

  it('never leaves a tenant without an active admin', async () => {
    const self = await stack.api.patch(`/api/users/${tenant.admin.id}`, { ...admin(), body: { active: false } });
    assert.equal(self.status, 409);
    const demote = await stack.api.patch(`/api/users/${tenant.admin.id}`, { ...admin(), body: { role: 'SALES' } });
    assert.equal(demote.status, 409);
    const second = await addUser(stack, tenant, 'TENANT_ADMIN');
    const now = await stack.api.patch(`/api/users/${second.id}`, { token: tenant.admin.token, body: { role: 'MANAGER' } });
    assert.equal(now.status, 200);
  });

  it('changes the password: old sessions end, the new password works', async () => {
    const user = await addUser(stack, tenant, 'FINANCE');
    const newPassword = `nova-senha-${uid()}`;
    assert.equal((await stack.api.patch(`/api/users/${user.id}`, { ...admin(), body: { password: newPassword } })).status, 200);
    assert.equal((await stack.api.get('/api/me', { token: user.token })).status, 401);
    assert.equal((await stack.api.post('/api/auth/login', { body: { email: user.email, password: user.password } })).status, 401);
    await login(stack, user.email, newPassword);
  });

  it('merges partial settings changes and refuses invalid ones', async () => {
    const res = await stack.api.patch('/api/settings', {
      ...admin(),
      body: { businessHours: { saturday: null, sunday: { open: '09:00', close: '13:00' } }, escalation: { acceptanceSlaMinutes: 10 } },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.businessHours.saturday, null);
    assert.deepEqual(res.body.businessHours.monday, { open: '08:00', close: '18:00' }, 'untouched days are kept');
    assert.equal(res.body.escalation.acceptanceSlaMinutes, 10);
    assert.equal(res.body.timeZone, 'America/Sao_Paulo');

    for (const body of [
      { timeZone: 'Mars/Olympus' },
      { businessHours: { monday: { open: '18:00', close: '08:00' } } },
      { businessHours: { monday: { open: '8h', close: '18:00' } } },
      { rateLimits: { apiPerUserPerMinute: 0 } },
    ]) {
      const bad = await stack.api.patch('/api/settings', { ...admin(), body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    const unchanged = await stack.api.get('/api/settings', admin());
    assert.deepEqual(unchanged.body, res.body);
  });

  it('shows an API key once, lists it without the secret, revokes it idempotently', async () => {
    const created = await stack.api.post('/api/api-keys', { ...admin(), body: { name: 'n8n produção', scopes: ['users:read', 'audit:read'] } });
    assert.equal(created.status, 201);
    assert.ok(created.body.key);
    const list = await stack.api.get('/api/api-keys', admin());
    const listed = list.body.items.find((k: { id: string }) => k.id === created.body.id);
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes']);
    const stored = JSON.stringify(
      await withTenant(stack.deps.knex, tenant.tenantId, async (trx) => {
        const row: unknown = await trx('api_keys').where({ id: created.body.id }).first();
        return row;
      }),
    );
    // The secret is base64url and may itself hold '_': take everything after the id.
    const secret = (created.body.key as string).slice('orq_'.length + 32 + 1);
    assert.equal(secret.length, 43);
    assert.ok(!stored.includes(secret), 'the secret is stored only as a hash');
    assert.equal((await stack.api.delete(`/api/api-keys/${created.body.id}`, admin())).status, 204);
    assert.equal((await stack.api.delete(`/api/api-keys/${created.body.id}`, admin())).status, 204);
    const revoked = await stack.api.get(`/api/api-keys/${created.body.id}`, admin());
    assert.ok(revoked.body.revokedAt);
    const audit = await stack.api.get(`/api/audit-events?entityId=${created.body.id}`, admin());
    assert.deepEqual(audit.body.items.map((e: { action: string }) => e.action), ['api_key.revoked', 'api_key.created']);
  });

  it('refuses an API key that expires in the past', async () => {
    const res = await stack.api.post('/api/api-keys', { ...admin(), body: { name: 'old', scopes: ['users:read'], expiresAt: '2020-01-01T00:00:00Z' } });
    assert.equal(res.status, 400);
  });
});
