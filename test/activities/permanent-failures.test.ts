import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { permanentCause, withPermanentFailures } from '../../activities/permanent-failures';
import { createKnex } from '../../db/connection';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { Contact, Tenant } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';

// Which errors no retry can fix, as the real Postgres raises them (through knex and objection),
// and what every activity throws for them.
describe('permanent failures of activities', () => {
  let knex: Knex;
  const active = randomUUID();
  const suspended = randomUUID();
  const missing = randomUUID(); // never created: what a deleted tenant looks like

  before(async () => {
    knex = createKnex(resolveDatabaseSettings().appUrl, 2);
    for (const [id, status] of [[active, 'active'], [suspended, 'suspended']] as const) {
      await withTenant(knex, id, async (trx) => {
        await trx('tenants').insert({ id, slug: `perm-${id.slice(0, 8)}`, name: 'Pousada', status, provisioningWorkflowId: `test:${id}` });
      });
    }
  });
  after(async () => knex.destroy());

  // Runs `work` in the tenant's scope and returns what it threw.
  const thrown = async (tenantId: string, work: (trx: Knex.Transaction) => Promise<unknown>) =>
    withTenant(knex, tenantId, work).then(
      () => assert.fail('expected an error'),
      (err: unknown) => err,
    );

  const cases: [string, string, (trx: Knex.Transaction) => Promise<unknown>, string | null][] = [
    // what, tenant, statement, permanent reason (null: retried as before)
    ['a foreign-key violation (a row of a tenant that is gone)', missing, (trx) => trx('contacts').insert({ id: randomUUID(), tenantId: missing, waId: '5511999990000' }), 'foreign-key violation'],
    ['a not-null violation', active, (trx) => trx('tenants').insert({ id: active, slug: 'sem-nome', status: 'active', provisioningWorkflowId: 'x' }), 'not-null violation'],
    ['a check violation', active, (trx) => trx('contacts').insert({ id: randomUUID(), tenantId: active }), 'check violation'],
    ['an invalid text representation', active, (trx) => trx('contacts').where({ id: 'não-é-uuid' }).first(), 'invalid text representation'],
    ['a row throwIfNotFound() says is gone', active, async (trx) => Tenant.query(trx).findById(randomUUID()).throwIfNotFound(), 'required row not found'],
    ['a unique violation (a retry may find its own row)', active, (trx) => trx('tenants').insert({ id: active, slug: `perm-${active.slice(0, 8)}`, name: 'x', status: 'active', provisioningWorkflowId: 'x' }), null],
    ['an objection-wrapped check violation', active, async (trx) => Tenant.query(trx).insert({ id: active, slug: 'Não Vale', name: 'x', plan: 'standard', status: 'active', provisioningWorkflowId: 'x' } as Partial<Tenant>), 'check violation'],
  ];
  for (const [what, tenantId, work, reason] of cases) {
    it(`${reason ? 'permanent' : 'not permanent'}: ${what}`, async () => {
      const err = await thrown(tenantId, work);
      assert.equal(permanentCause(err)?.reason ?? null, reason, String(err));
    });
  }

  it('neither an outage nor a failure the activity already classified', () => {
    assert.equal(permanentCause(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), null);
    assert.equal(permanentCause(ApplicationFailure.create({ type: 'WhatsApp_throttled', message: 'slow down' })), null);
  });

  describe('every activity', () => {
    const make = () =>
      withPermanentFailures(knex, {
        async addContact(a: { tenantId: string; waId?: string }): Promise<string> {
          const id = randomUUID();
          await withTenant(knex, a.tenantId, async (trx) => trx('contacts').insert({ id, tenantId: a.tenantId, waId: a.waId ?? null }));
          return id;
        },
        async readContact(a: { tenantId: string; contactId: string }): Promise<string> {
          return withTenant(knex, a.tenantId, async (trx) => (await Contact.query(trx).findById(a.contactId).throwIfNotFound()).id);
        },
        async flaky(_a: { tenantId: string }): Promise<never> {
          throw new Error('socket hang up');
        },
      });
    let activities: ReturnType<typeof make>;
    before(() => {
      activities = make();
    });

    const failure = async (call: Promise<unknown>) => call.then(() => assert.fail('expected a failure'), (e: unknown) => e);

    it('returns what the activity returns', async () => {
      const id = await activities.addContact({ tenantId: active, waId: '5511999990001' });
      assert.equal(await activities.readContact({ tenantId: active, contactId: id }), id);
    });

    const cases: [string, () => Promise<unknown>, string][] = [
      ['a deleted tenant (foreign key)', () => activities.addContact({ tenantId: missing, waId: '5511999990002' }), 'TenantGone'],
      ['a deleted tenant (row not found)', () => activities.readContact({ tenantId: missing, contactId: randomUUID() }), 'TenantGone'],
      ['a suspended tenant (row not found)', () => activities.readContact({ tenantId: suspended, contactId: randomUUID() }), 'TenantGone'],
      ['an active tenant, a row not found', () => activities.readContact({ tenantId: active, contactId: randomUUID() }), 'PermanentFailure'],
      ['an active tenant, a check violation', () => activities.addContact({ tenantId: active }), 'PermanentFailure'],
      ['an active tenant, a malformed id', () => activities.readContact({ tenantId: active, contactId: 'contato-1' }), 'PermanentFailure'],
    ];
    for (const [what, call, type] of cases) {
      it(`fails non-retryable for ${what}: ${type}`, async () => {
        const err = await failure(call());
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.equal(err.type, type);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /^(addContact|readContact): /, 'names the activity');
        assert.ok(err.cause, 'the original error travels as the cause');
      });
    }

    it('passes a passing failure through untouched, for the retry policy', async () => {
      const err = await failure(activities.flaky({ tenantId: active }));
      assert.ok(!(err instanceof ApplicationFailure));
      assert.equal((err as Error).message, 'socket hang up');
    });

    it('passes a unique violation through (a retry may find its own row)', async () => {
      await activities.addContact({ tenantId: active, waId: '5511999990009' });
      const err = await failure(activities.addContact({ tenantId: active, waId: '5511999990009' }));
      assert.ok(!(err instanceof ApplicationFailure), String(err));
      assert.equal((err as { code?: string }).code, '23505');
    });
  });
});
