import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiRoutes, API_PREFIX } from '../../api/routes';
import { addApiKey, addUser, provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { withTenant } from '../../db/tenant-scope';
import { startStack, type TestStack } from '../support/stack';

// Every route that takes an id, called by tenant A with tenant B's id, answers 404 and changes
// nothing — while the same call with A's own id succeeds, so the 404 is the isolation at work.
// New routes join the matrix by themselves; one with an unknown id parameter fails it.

const BODIES: Record<string, unknown> = {
  'PATCH /users/:userId': { name: 'Nome Alterado' },
};

describe('cross-tenant isolation matrix', () => {
  let stack: TestStack;
  let a: TenantFixture;
  let b: TenantFixture;
  const ids: Record<'A' | 'B', Record<string, string>> = { A: {}, B: {} };

  before(async () => {
    stack = await startStack();
    const root = await superAdmin(stack);
    a = await provisionTenant(stack, root.token);
    b = await provisionTenant(stack, root.token);
    for (const [name, t] of [['A', a], ['B', b]] as const) {
      ids[name].tenantId = t.tenantId;
      ids[name].userId = (await addUser(stack, t, 'ATTENDANT')).id;
      ids[name].keyId = (await addApiKey(stack, t, ['users:read'])).id;
    }
  });
  after(() => stack.stop());

  const withIds = apiRoutes.filter((r) => r.path.includes(':'));

  it('covers every route with an id parameter', () => {
    assert.ok(withIds.length >= 6);
    for (const r of withIds) {
      for (const param of r.path.match(/:(\w+)/g) ?? []) {
        assert.ok(param.slice(1) in ids.B, `${r.method.toUpperCase()} ${r.path}: no fixture for ${param}; add one to this matrix`);
      }
    }
  });

  for (const r of withIds) {
    const name = `${r.method.toUpperCase()} ${r.path}`;
    it(`${name} with another tenant's id → 404`, async () => {
      const url = (owner: 'A' | 'B') => API_PREFIX + r.path.replace(/:(\w+)/g, (_, p: string) => ids[owner][p] as string);
      const body = BODIES[name];
      const before = await snapshot(b.tenantId);

      const foreign = await stack.api.request(r.method, url('B'), { token: a.admin.token, body });
      assert.equal(foreign.status, 404, `${name}: ${foreign.status} ${JSON.stringify(foreign.body)}`);
      assert.equal(foreign.headers.get('content-type'), 'application/problem+json');
      assert.ok(!JSON.stringify(foreign.body).includes(b.slug), 'the 404 reveals nothing of tenant B');
      assert.deepEqual(await snapshot(b.tenantId), before, `${name} changed tenant B's data`);

      const own = await stack.api.request(r.method, url('A'), { token: a.admin.token, body });
      assert.ok(own.status >= 200 && own.status < 300, `${name} with A's own id: ${own.status} ${JSON.stringify(own.body)}`);
    });
  }

  async function snapshot(tenantId: string) {
    return withTenant(stack.deps.knex, tenantId, async (trx) => {
      const users: unknown[] = await trx('users').select('id', 'name', 'role', 'active', 'updatedAt').orderBy('id');
      const keys: unknown[] = await trx('api_keys').select('id', 'revokedAt').orderBy('id');
      const tenant: unknown = await trx('tenants').select('status', 'name').first();
      return { users, keys, tenant };
    });
  }
});
