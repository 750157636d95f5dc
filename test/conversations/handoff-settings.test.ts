import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TENANT_SETTINGS, mergeTenantSettings, storedTenantSettingsSchema, tenantSettingsPatchSchema } from '../../domain/tenant-settings';

// The handoff notice's tenant settings: on by default with the standard text, editable, and
// present even in settings stored before they existed.
describe('handoff notice settings', () => {
  it('is on by default, with the standard pt-BR text', () => {
    assert.equal(DEFAULT_TENANT_SETTINGS.conversation.handoffNoticeEnabled, true);
    assert.equal(DEFAULT_TENANT_SETTINGS.conversation.handoffMessage, 'Vou chamar alguém da nossa equipe para continuar o atendimento.');
  });

  it('settings stored before the fields existed read as the defaults, keeping the rest', () => {
    const { handoffNoticeEnabled: _on, handoffMessage: _text, ...older } = DEFAULT_TENANT_SETTINGS.conversation;
    const stored = { ...DEFAULT_TENANT_SETTINGS, conversation: { ...older, inactivityCloseHours: 12 } };
    const parsed = storedTenantSettingsSchema.parse(stored);
    assert.deepEqual(parsed.conversation, { ...DEFAULT_TENANT_SETTINGS.conversation, inactivityCloseHours: 12 });
  });

  it('a tenant admin may turn it off or change the text, keeping the other conversation settings', () => {
    const off = mergeTenantSettings(DEFAULT_TENANT_SETTINGS, { conversation: { handoffNoticeEnabled: false } });
    assert.deepEqual(off.conversation, { ...DEFAULT_TENANT_SETTINGS.conversation, handoffNoticeEnabled: false });
    const text = mergeTenantSettings(DEFAULT_TENANT_SETTINGS, { conversation: { handoffMessage: '  Já chamo a recepção!  ' } });
    assert.equal(text.conversation.handoffMessage, 'Já chamo a recepção!');
  });

  const refused: [string, unknown][] = [
    ['an empty text', { conversation: { handoffMessage: '' } }],
    ['a text of blanks', { conversation: { handoffMessage: '   ' } }],
    ['a text over 1024 characters', { conversation: { handoffMessage: 'a'.repeat(1025) } }],
    ['a non-boolean switch', { conversation: { handoffNoticeEnabled: 'sim' } }],
  ];
  for (const [name, patch] of refused) it(`refuses ${name}`, () => assert.equal(tenantSettingsPatchSchema.safeParse(patch).success, false));
});
