import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withSettingsDefaults } from '../../db/tenant-settings';
import { DEFAULT_TENANT_SETTINGS as D } from '../../domain/tenant-settings';

// What a stored settings row reads as. Rows keep the shape of the day they were written, so the
// reader fills in what is missing and falls back, field by field, on what is no longer valid.
describe('stored tenant settings read with defaults', () => {
  const { conversation: _c, escalation: _e, ...withoutTwoSections } = D;
  const cases: [string, unknown, unknown, string[]][] = [
    ['no row content at all reads as the defaults', null, D, []],
    ['a row written before two sections existed gets those sections', { ...withoutTwoSections, timeZone: 'America/Recife' }, { ...D, timeZone: 'America/Recife' }, []],
    [
      'a section missing a newer field gets that field only',
      { ...D, rateLimits: { apiPerUserPerMinute: 250 } },
      { ...D, rateLimits: { apiPerUserPerMinute: 250, automationPerMinute: 5000 } },
      [],
    ],
    [
      'a day missing from the business hours gets its default hours, the others stay',
      { ...D, businessHours: { monday: { open: '09:00', close: '17:00' } } },
      { ...D, businessHours: { ...D.businessHours, monday: { open: '09:00', close: '17:00' } } },
      [],
    ],
    [
      'an invalid field falls back alone; its section keeps the valid ones',
      { ...D, conversation: { ...D.conversation, inactivityCloseHours: 12, outOfHoursMessage: '' } },
      { ...D, conversation: { ...D.conversation, inactivityCloseHours: 12 } },
      ['conversation.outOfHoursMessage'],
    ],
    [
      'a day whose hours close before they open falls back to that day’s default',
      { ...D, businessHours: { ...D.businessHours, friday: { open: '18:00', close: '08:00' }, sunday: { open: '10:00', close: '14:00' } } },
      { ...D, businessHours: { ...D.businessHours, sunday: { open: '10:00', close: '14:00' } } },
      ['businessHours.friday'],
    ],
    ['an unknown time zone falls back to São Paulo', { ...D, timeZone: 'America/Atlantida' }, D, ['timeZone']],
    ['a section stored as something else is replaced whole', { ...D, escalation: 'rápido' }, D, ['escalation']],
    ['keys no setting has any more are dropped', { ...D, legacyBotName: 'Robô' }, D, []],
  ];
  for (const [name, stored, settings, replaced] of cases) {
    it(name, () => assert.deepEqual(withSettingsDefaults(stored), { settings, replaced }));
  }
});
