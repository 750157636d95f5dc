import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTaxId, isValidCnpj, isValidCpf, normalizeTaxId } from '../../domain/tax-id';

// 529.982.247-25: 5·10+2·9+9·8+9·7+8·6+2·5+2·4+4·3+7·2 = 295, 295 mod 11 = 9 → 2;
// then 5·11+2·10+9·9+9·8+8·7+2·6+2·5+4·4+7·3+2·2 = 347, 347 mod 11 = 6 → 5.
// 11.222.333/0001-81: weights 5432 98765432 → sum 102, 102 mod 11 = 3 → 8; then 6543 298765432 → 120 mod 11 = 10 → 1.
describe('tax ids', () => {
  const cpfs: [string, boolean][] = [
    ['529.982.247-25', true],
    ['52998224725', true],
    ['529.982.247-24', false],
    ['111.111.111-11', false],
    ['5299822472', false],
    // 987.654.321: both remainders are below 2, so both check digits are 0.
    ['987.654.321-00', true],
    ['987.654.321-01', false],
    ['123.456.789-09', true],
    ['123.456.789-19', false], // the first check digit wrong
    ['123.456.789-08', false], // the second wrong
    ['000.000.001-91', true],
    ['999.999.999-99', false], // repeated digits, though the check digits would fit the rule
    ['123 456 789 09', true], // spaces are formatting too
    ['123.456.789-0a', false],
    ['123456789090', false], // 12 digits
    ['', false],
  ];
  for (const [cpf, ok] of cpfs) it(`CPF ${cpf} → ${ok}`, () => assert.equal(isValidCpf(cpf), ok));
  const cnpjs: [string, boolean][] = [
    ['11.222.333/0001-81', true],
    ['11222333000181', true],
    ['11.222.333/0001-80', false],
    ['00.000.000/0000-00', false],
    ['00.000.000/0001-91', true], // leading zeros are digits
    ['12.345.678/0001-95', true],
    ['12.345.678/0001-05', false], // the first check digit wrong
    ['12.345.678/0001-94', false], // the second wrong
    ['11.111.111/1111-11', false], // repeated digits
    ['12345678000195', true],
    ['12.345.678/0001-9', false], // 13 digits
    ['529.982.247-25', false], // a CPF is no CNPJ
  ];
  for (const [cnpj, ok] of cnpjs) it(`CNPJ ${cnpj} → ${ok}`, () => assert.equal(isValidCnpj(cnpj), ok));
  it('normalizes and formats', () => {
    assert.deepEqual(normalizeTaxId('529.982.247-25'), { kind: 'cpf', digits: '52998224725' });
    assert.deepEqual(normalizeTaxId('11.222.333/0001-81'), { kind: 'cnpj', digits: '11222333000181' });
    assert.equal(normalizeTaxId('123'), null);
    assert.equal(formatTaxId('11222333000181'), '11.222.333/0001-81');
    assert.equal(formatTaxId('52998224725'), '529.982.247-25');
    // The right length with a wrong check digit is still refused.
    assert.equal(normalizeTaxId('529.982.247-24'), null);
    assert.equal(normalizeTaxId('11.222.333/0001-80'), null);
  });
});
