import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interestKey } from '../../domain/lead-interest';

describe('interestKey', () => {
  const OFFERING = '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
  const cases: [string, Parameters<typeof interestKey>[0], string][] = [
    ['an offering wins over any text', { offeringId: OFFERING, interest: 'Apartamento' }, `offering:${OFFERING}`],
    ['an offering id in upper case is the same offering', { offeringId: OFFERING.toUpperCase() }, `offering:${OFFERING}`],
    ['accents folded, lower case', { interest: 'Casa em São José' }, 'text:casa em sao jose'],
    ['spaces collapsed and trimmed', { interest: '  Apartamento \t  Centro\n' }, 'text:apartamento centro'],
    ['ç and combining marks', { interest: 'Açaí Cônsórcio' }, 'text:acai consorcio'],
    ['punctuation kept: "2 quartos, 1 vaga" is not "2 quartos 1 vaga"', { interest: '2 quartos, 1 vaga' }, 'text:2 quartos, 1 vaga'],
    ['no offering and no text: the empty interest', { interest: '' }, 'text:'],
    ['null offering falls back to the text', { offeringId: null, interest: 'Onix' }, 'text:onix'],
  ];
  for (const [why, input, expected] of cases) {
    it(why, () => assert.equal(interestKey(input), expected));
  }

  it('two spellings of one interest are one key', () => {
    assert.equal(interestKey({ interest: 'APARTAMENTO  Jardim América' }), interestKey({ interest: 'apartamento jardim america' }));
  });
});
