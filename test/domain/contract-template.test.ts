import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillTemplate, formatBrl, itemsTable, localDate, unknownPlaceholders, type PlaceholderValues } from '../../domain/contract-template';
import { isSignersTurn, signersOnTurn, signingProgress } from '../../domain/contract-signing';

describe('contract templates', () => {
  it('formats centavos as reais', () => {
    for (const [cents, text] of [[0, 'R$ 0,00'], [5, 'R$ 0,05'], [100, 'R$ 1,00'], [123_456, 'R$ 1.234,56'], [12_999_000, 'R$ 129.990,00'], [100_000_000_000, 'R$ 1.000.000.000,00']] as const) {
      assert.equal(formatBrl(cents), text);
    }
  });

  it('names the placeholders no contract fills', () => {
    const cases: [string, string[]][] = [
      ['Olá {{contact.name}}, total {{ proposal.total }}', []],
      ['{{contact.nome}} e {{tenant.name}}', ['contact.nome']],
      ['{{a}} {{a}} {{b.c}}', ['a', 'b.c']],
      ['sem marcadores', []],
    ];
    for (const [text, unknown] of cases) assert.deepEqual(unknownPlaceholders(text), unknown, text);
  });

  it('fills every placeholder, spaces inside the braces allowed', () => {
    const values = { 'contact.name': 'Ana', 'proposal.total': 'R$ 10,00', 'tenant.name': 'Imobiliária Sol', date: '02/12/2026' } as PlaceholderValues;
    assert.equal(fillTemplate('{{contact.name}} paga {{ proposal.total }} a {{tenant.name}} em {{date}}.', values), 'Ana paga R$ 10,00 a Imobiliária Sol em 02/12/2026.');
  });

  it('lists items as text', () => {
    assert.equal(
      itemsTable([{ description: 'Apartamento 101', quantity: 1, unitPriceCents: 50_000_000, discountCents: 1_000_000, totalCents: 49_000_000 }, { description: 'Vaga', quantity: 2, unitPriceCents: 2_000_000, discountCents: 0, totalCents: 4_000_000 }]),
      '1. Apartamento 101 — 1 x R$ 500.000,00 − desconto R$ 10.000,00 = R$ 490.000,00\n2. Vaga — 2 x R$ 20.000,00 = R$ 40.000,00',
    );
  });

  it('dates in the tenant zone: 02:30 UTC is still the previous day in São Paulo', () => {
    assert.equal(localDate(new Date('2026-12-02T02:30:00Z'), 'America/Sao_Paulo'), '01/12/2026');
    assert.equal(localDate(new Date('2026-12-02T03:30:00Z'), 'America/Sao_Paulo'), '02/12/2026');
  });
});

describe('signing turns', () => {
  const s = (id: string, position: number, status: 'waiting' | 'notified' | 'viewed' | 'signed' | 'declined') => ({ id, position, status });
  const cases: [string, 'sequential' | 'parallel', ReturnType<typeof s>[], string[], string][] = [
    ['sequential: only the first', 'sequential', [s('a', 1, 'waiting'), s('b', 2, 'waiting')], ['a'], 'pending'],
    ['sequential: the second once the first signed', 'sequential', [s('a', 1, 'signed'), s('b', 2, 'waiting')], ['b'], 'pending'],
    ['sequential: a shared position signs together', 'sequential', [s('a', 1, 'notified'), s('b', 1, 'waiting'), s('c', 2, 'waiting')], ['a', 'b'], 'pending'],
    ['parallel: everyone not signed', 'parallel', [s('a', 1, 'signed'), s('b', 2, 'waiting'), s('c', 3, 'viewed')], ['b', 'c'], 'pending'],
    ['all signed', 'sequential', [s('a', 1, 'signed'), s('b', 2, 'signed')], [], 'all_signed'],
    ['one decline ends it', 'parallel', [s('a', 1, 'signed'), s('b', 2, 'declined')], ['b'], 'declined'],
  ];
  for (const [name, order, signers, turn, progress] of cases) {
    it(name, () => {
      assert.deepEqual(signersOnTurn(order, signers).map((x) => x.id), turn);
      assert.equal(signingProgress(signers), progress);
      for (const x of signers) assert.equal(isSignersTurn(order, signers, x.id), turn.includes(x.id), `${name}: ${x.id}`);
    });
  }
});
