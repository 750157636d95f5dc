import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_TENANT_SETTINGS,
  isValidTimeZone,
  mergeTenantSettings,
  tenantSettingsPatchSchema,
  tenantSettingsSchema,
} from '../../domain/tenant-settings';

describe('tenant settings', () => {
  it('defaults are valid and Brazilian: São Paulo time, pt-BR, 5 min SLA, 24 h inactivity, seed rate limits', () => {
    const s = tenantSettingsSchema.parse(DEFAULT_TENANT_SETTINGS);
    assert.equal(s.timeZone, 'America/Sao_Paulo');
    assert.equal(s.locale, 'pt-BR');
    assert.equal(s.escalation.acceptanceSlaMinutes, 5);
    assert.equal(s.conversation.inactivityCloseHours, 24);
    assert.deepEqual(s.rateLimits, { apiPerUserPerMinute: 100, automationPerMinute: 5000 });
    assert.equal(s.businessHours.sunday, null);
  });

  const merges: [string, Parameters<typeof mergeTenantSettings>[1], (s: ReturnType<typeof mergeTenantSettings>) => unknown, unknown][] = [
    ['changes one day, keeps the others', { businessHours: { monday: { open: '09:00', close: '17:00' } } }, (s) => [s.businessHours.monday, s.businessHours.tuesday], [{ open: '09:00', close: '17:00' }, { open: '08:00', close: '18:00' }]],
    ['closes a day', { businessHours: { saturday: null } }, (s) => s.businessHours.saturday, null],
    ['opens Sunday', { businessHours: { sunday: { open: '10:00', close: '14:00' } } }, (s) => s.businessHours.sunday, { open: '10:00', close: '14:00' }],
    ['changes one limit, keeps the other', { rateLimits: { automationPerMinute: 200 } }, (s) => s.rateLimits, { apiPerUserPerMinute: 100, automationPerMinute: 200 }],
    ['changes the time zone only', { timeZone: 'America/Recife' }, (s) => [s.timeZone, s.escalation.acceptanceSlaMinutes], ['America/Recife', 5]],
    ['empty patch changes nothing', {}, (s) => s, DEFAULT_TENANT_SETTINGS],
  ];
  for (const [name, patch, pick, expected] of merges) {
    it(`merge: ${name}`, () => assert.deepEqual(pick(mergeTenantSettings(DEFAULT_TENANT_SETTINGS, patch)), expected));
  }

  const invalidPatches: [string, unknown][] = [
    ['unknown time zone', { timeZone: 'America/Atlantida' }],
    ['close before open', { businessHours: { friday: { open: '18:00', close: '08:00' } } }],
    ['hour out of range', { businessHours: { friday: { open: '24:00', close: '25:00' } } }],
    ['not HH:MM', { businessHours: { friday: { open: '8:00', close: '18:00' } } }],
    ['unknown weekday', { businessHours: { funday: null } }],
    ['zero SLA', { escalation: { acceptanceSlaMinutes: 0 } }],
    ['limit below the floor', { rateLimits: { apiPerUserPerMinute: 5 } }],
    ['empty out-of-hours message', { conversation: { outOfHoursMessage: '' } }],
    ['locale is not editable', { locale: 'en-US' }],
    ['unknown top-level key', { colour: 'blue' }],
  ];
  for (const [name, patch] of invalidPatches) {
    it(`patch refused: ${name}`, () => assert.equal(tenantSettingsPatchSchema.safeParse(patch).success, false));
  }

  const zones: [string, boolean][] = [
    ['America/Sao_Paulo', true],
    ['America/Manaus', true],
    ['America/Noronha', true],
    ['UTC', true],
    ['Brazil/Nowhere', false],
    ['', false],
  ];
  for (const [tz, ok] of zones) it(`time zone ${JSON.stringify(tz)} valid: ${ok}`, () => assert.equal(isValidTimeZone(tz), ok));
});
