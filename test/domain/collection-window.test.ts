import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWithinCollectionWindow, nextCollectionMoment } from '../../domain/collection-window';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';

// São Paulo is UTC−3. 2026-12-06 is a Sunday, 2026-12-05 a Saturday, 2026-12-25 (Natal) a Friday.
const withPreset = (preset: TenantSettings['billing']['collectionWindow']['preset'], observeNationalHolidays = true): TenantSettings => ({
  ...DEFAULT_TENANT_SETTINGS,
  billing: { ...DEFAULT_TENANT_SETTINGS.billing, collectionWindow: { preset, hours: null, observeNationalHolidays } },
});
const PADRAO = withPreset('padrao');
const RJ = withPreset('RJ');

describe('collection window', () => {
  const cases: [string, TenantSettings, string, string | null][] = [
    // [why, settings, instant (UTC), next moment (UTC) — the same instant when inside]
    ['Tuesday 10:00 is inside', PADRAO, '2026-12-01T13:00:00Z', '2026-12-01T13:00:00Z'],
    ['Tuesday 07:59 waits for 08:00', PADRAO, '2026-12-01T10:59:00Z', '2026-12-01T11:00:00Z'],
    ['Tuesday 20:00 is after the window → Wednesday 08:00', PADRAO, '2026-12-01T23:00:00Z', '2026-12-02T11:00:00Z'],
    ['Tuesday 19:59 is inside', PADRAO, '2026-12-01T22:59:00Z', '2026-12-01T22:59:00Z'],
    ['Saturday 13:00 is inside', PADRAO, '2026-12-05T16:00:00Z', '2026-12-05T16:00:00Z'],
    ['Saturday 14:30 → Monday 08:00 (never Sundays)', PADRAO, '2026-12-05T17:30:00Z', '2026-12-07T11:00:00Z'],
    ['Sunday noon → Monday 08:00', PADRAO, '2026-12-06T15:00:00Z', '2026-12-07T11:00:00Z'],
    ['Natal 10:00 → Saturday 26/12 08:00', PADRAO, '2026-12-25T13:00:00Z', '2026-12-26T11:00:00Z'],
    ['RJ: Saturday 10:00 → Monday 09:00 (no weekends)', RJ, '2026-12-05T13:00:00Z', '2026-12-07T12:00:00Z'],
    ['RJ: Tuesday 19:00 is after its 19h close → Wednesday 09:00', RJ, '2026-12-01T22:00:00Z', '2026-12-02T12:00:00Z'],
  ];
  for (const [why, settings, instant, expected] of cases) {
    it(why, () => {
      const at = new Date(instant);
      assert.equal(nextCollectionMoment(settings, at)?.toISOString() ?? null, expected === null ? null : new Date(expected).toISOString());
      assert.equal(isWithinCollectionWindow(settings, at), expected === instant);
    });
  }

  it('a custom window is the tenant\'s own hours', () => {
    const hours = { ...DEFAULT_TENANT_SETTINGS.businessHours, sunday: { open: '10:00', close: '12:00' } };
    const custom: TenantSettings = { ...PADRAO, billing: { ...PADRAO.billing, collectionWindow: { preset: 'custom', hours, observeNationalHolidays: true } } };
    assert.equal(isWithinCollectionWindow(custom, new Date('2026-12-06T14:00:00Z')), true);
  });
});
