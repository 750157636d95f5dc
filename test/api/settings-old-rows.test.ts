import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

// A settings row written before a section (or a field) existed keeps working: the API shows the
// defaults for what is missing, and a tenant admin can change settings without a data migration.
describe('settings rows older than the settings', () => {
  let stack: TestStack;
  let tenant: TenantFixture;

  before(async () => {
    stack = await startStack();
    tenant = await provisionTenant(stack, (await superAdmin(stack)).token);
    // As an older release would have stored it: no conversation or escalation section, and
    // rate limits from before the automation limit existed.
    await withTenant(stack.deps.knex, tenant.tenantId, (trx) =>
      trx.raw(
        `UPDATE tenant_settings
         SET settings = jsonb_set(settings - 'conversation' - 'escalation', '{rateLimits}', '{"apiPerUserPerMinute": 250}')
         WHERE tenant_id = ?`,
        [tenant.tenantId],
      ),
    );
  });
  after(() => stack.stop());

  const stored = async () =>
    withTenant(stack.deps.knex, tenant.tenantId, async (trx) => (await trx('tenant_settings').where({ tenantId: tenant.tenantId }).first()).settings);

  it('reads the missing sections and fields as their defaults', async () => {
    const res = await stack.api.get('/api/settings', { token: tenant.admin.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.conversation, DEFAULT_TENANT_SETTINGS.conversation);
    assert.deepEqual(res.body.escalation, { acceptanceSlaMinutes: 5 });
    assert.deepEqual(res.body.rateLimits, { apiPerUserPerMinute: 250, automationPerMinute: 5000 });
    assert.equal((await stored()).conversation, undefined, 'reading does not write');
  });

  it('accepts a PATCH of a section the row never had, and stores the whole shape', async () => {
    const res = await stack.api.patch('/api/settings', { token: tenant.admin.token, body: { conversation: { inactivityCloseHours: 12 } } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.conversation, { ...DEFAULT_TENANT_SETTINGS.conversation, inactivityCloseHours: 12 });
    assert.equal(res.body.rateLimits.apiPerUserPerMinute, 250, 'what was stored is kept');

    const row = await stored();
    assert.equal(row.conversation.inactivityCloseHours, 12);
    assert.deepEqual(row.escalation, { acceptanceSlaMinutes: 5 });
    assert.equal(row.rateLimits.automationPerMinute, 5000);
    const again = await stack.api.get('/api/settings', { token: tenant.admin.token });
    assert.deepEqual(again.body, res.body);
  });
});
