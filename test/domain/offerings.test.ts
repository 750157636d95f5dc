import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOfferingAttributes } from '../../domain/offerings';
import type { OfferingKind } from '../../domain/sales-statuses';

const property = { purpose: 'sale', type: 'apartment', areaM2: 72.5, bedrooms: 2, bathrooms: 1, parkingSpaces: 1, neighborhood: 'Centro', city: 'Curitiba', state: 'PR' };
const vehicle = { make: 'Chevrolet', model: 'Onix', year: 2022, km: 35000, fuel: 'flex', transmission: 'manual', condition: 'used' };
const plan = { category: 'consorcio', termMonths: 80, monthlyCents: 45000, creditCents: 5_000_000 };
const service = { durationMinutes: 60 };

describe('offering attributes per kind', () => {
  // [why, kind, attributes, ok, the failing path when refused]
  const cases: [string, OfferingKind, unknown, boolean, string?][] = [
    ['a complete property', 'property', property, true],
    ['a property in an unknown UF', 'property', { ...property, state: 'XX' }, false, 'state'],
    ['a property with no area', 'property', { ...property, areaM2: 0 }, false, 'areaM2'],
    ['a property for lease (neither sale nor rent)', 'property', { ...property, purpose: 'lease' }, false, 'purpose'],
    ['a property with fractional bedrooms', 'property', { ...property, bedrooms: 1.5 }, false, 'bedrooms'],
    ['a property with a field it does not have', 'property', { ...property, plate: 'ABC1234' }, false, ''],
    ['a used vehicle without plate', 'vehicle', vehicle, true],
    ['an old-format plate', 'vehicle', { ...vehicle, plate: 'ABC-1234' }, true],
    ['a Mercosul plate in lower case', 'vehicle', { ...vehicle, plate: 'abc1d23' }, true],
    ['a plate with too many letters', 'vehicle', { ...vehicle, plate: 'ABCD123' }, false, 'plate'],
    ['a Mercosul plate with a letter in the wrong place', 'vehicle', { ...vehicle, plate: 'ABC12D3' }, false, 'plate'],
    ['a new vehicle with 35,000 km', 'vehicle', { ...vehicle, condition: 'new' }, false, 'km'],
    ['a new vehicle at delivery mileage', 'vehicle', { ...vehicle, condition: 'new', km: 12 }, true],
    ['a vehicle from 1850', 'vehicle', { ...vehicle, year: 1850 }, false, 'year'],
    ['an electric vehicle', 'vehicle', { ...vehicle, fuel: 'electric', transmission: 'automatic' }, true],
    ['a consortium quota', 'plan', plan, true],
    ['a consortium without its letter of credit', 'plan', { ...plan, creditCents: undefined }, false, 'creditCents'],
    ['a subscription needs no credit', 'plan', { category: 'subscription', termMonths: 12, monthlyCents: 9990 }, true],
    ['a plan with fractional centavos', 'plan', { ...plan, monthlyCents: 10.5 }, false, 'monthlyCents'],
    ['a service with its duration', 'service', service, true],
    ['a service without a duration', 'service', {}, false, 'durationMinutes'],
    ['a service with a negative duration', 'service', { durationMinutes: -5 }, false, 'durationMinutes'],
  ];
  for (const [why, kind, attributes, ok, path] of cases) {
    it(why, () => {
      const r = parseOfferingAttributes(kind, attributes);
      assert.equal(r.ok, ok, JSON.stringify(r));
      if (!r.ok && path !== undefined) assert.ok(r.issues.some((i) => i.path === path), JSON.stringify(r.issues));
    });
  }

  it('normalizes plates and fills defaults', () => {
    const v = parseOfferingAttributes('vehicle', { ...vehicle, plate: 'abc-1d23' });
    assert.ok(v.ok);
    assert.equal(v.attributes.plate, 'ABC1D23');
    const p = parseOfferingAttributes('property', { ...property, bedrooms: undefined, bathrooms: undefined, parkingSpaces: undefined });
    assert.ok(p.ok);
    assert.deepEqual([p.attributes.bedrooms, p.attributes.bathrooms, p.attributes.parkingSpaces], [0, 0, 0]);
    const s = parseOfferingAttributes('service', service);
    assert.ok(s.ok);
    assert.deepEqual(s.attributes, { durationMinutes: 60, location: 'on_site', recurrence: 'once' });
  });
});
