import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectionNotice, conductProblems, creditorLine } from '../../domain/collection-notice';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';

const CREDITOR = { legalName: 'Imobiliária Sol Ltda', taxId: '11222333000181', address: 'Rua das Flores, 100, São Paulo/SP' };
const billing = { ...DEFAULT_TENANT_SETTINGS.billing, creditor: CREDITOR };
const facts = { customerName: 'Ana Souza', invoiceNumber: 42, amountDueCents: 102033, dueDate: '2026-12-10', paymentLink: 'https://pay.example/i/42' };

describe('collection notice', () => {
  it('names the creditor with its CNPJ and address (CDC art. 42-A)', () => {
    assert.equal(creditorLine(CREDITOR), 'Credor: Imobiliária Sol Ltda, CPF/CNPJ 11.222.333/0001-81, Rua das Flores, 100, São Paulo/SP');
  });

  it('every kind: the tenant template with name, number, amount in BRL, dd/mm/aaaa, link, creditor', () => {
    const cases = [
      ['reminder', 'cobranca_lembrete'],
      ['due', 'cobranca_vencimento'],
      ['notice', 'cobranca_atraso'],
      ['final_notice', 'cobranca_aviso_final'],
      ['payment_confirmed', 'cobranca_pagamento_confirmado'],
    ] as const;
    for (const [kind, name] of cases) {
      const r = collectionNotice(kind, facts, billing);
      assert.ok('content' in r, kind);
      assert.equal(r.content.type === 'template' && r.content.name, name);
      assert.deepEqual(r.parameters, [
        'Ana Souza',
        '42',
        'R$ 1.020,33',
        '10/12/2026',
        'https://pay.example/i/42',
        'Credor: Imobiliária Sol Ltda, CPF/CNPJ 11.222.333/0001-81, Rua das Flores, 100, São Paulo/SP',
      ]);
    }
  });

  it('no creditor configured (or part of it): not sent', () => {
    for (const creditor of [
      { legalName: null, taxId: null, address: null },
      { ...CREDITOR, taxId: null },
      { ...CREDITOR, address: '  ' },
    ]) {
      assert.deepEqual(collectionNotice('notice', facts, { ...billing, creditor }), { skipped: 'creditor_missing' });
    }
  });

  it('no name, no link: neutral words instead', () => {
    const r = collectionNotice('notice', { ...facts, customerName: null, paymentLink: null }, billing);
    assert.ok('content' in r);
    assert.equal(r.parameters[0], 'cliente');
    assert.equal(r.parameters[4], 'Fale conosco para receber o link de pagamento.');
  });

  it('threatening or exposing texts are refused (CDC art. 42)', () => {
    const refused: [string, string][] = [
      ['Pague ou chamaremos a polícia', 'ameaça policial'],
      ['Você pode ser preso', 'ameaça de prisão'],
      ['Abriremos um processo criminal', 'ameaça criminal'],
      ['Vamos expor sua dívida', 'exposição ou ridículo'],
      ['Seus vizinhos vão saber', 'terceiros (vizinhos)'],
      ['Ligaremos para o seu empregador', 'terceiros (trabalho)'],
      ['Avisaremos o seu chefe', 'terceiros (trabalho)'],
      ['Sua FAMÍLIA será informada', 'terceiros (família)'],
      ['Caloteiro!', 'ofensa'],
    ];
    for (const [text, what] of refused) assert.deepEqual(conductProblems(text), [what], text);
    const r = collectionNotice('notice', { ...facts, customerName: 'Avisaremos sua família' }, billing);
    assert.deepEqual(r, { skipped: 'conduct', problems: ['terceiros (família)'] });
  });

  it('our own notices pass', () => {
    for (const text of ['Ana Souza', 'R$ 1.020,33', '10/12/2026', 'Fale conosco para receber o link de pagamento.', creditorLine(CREDITOR)!, 'Processo de cobrança amigável']) {
      assert.deepEqual(conductProblems(text), [], text);
    }
  });
});
