import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConsumerDocument, parseBillingTerms, type BillingTermsContext } from '../../domain/billing-terms';

const ctx = (over: Partial<BillingTermsContext> = {}): BillingTermsContext => ({
  totalCents: 1000_00,
  today: '2025-01-28',
  consumer: true,
  defaults: { finePercent: 2, monthlyInterestPercent: 1, billingType: 'UNDEFINED', firstDueInDays: 5, issueDaysBeforeDue: 10, agencyFeePercent: 10, payoutDay: 10 },
  ...over,
});

describe('billing terms of a contract', () => {
  it('no terms: one invoice of the total, due today + firstDueInDays, the tenant defaults', () => {
    assert.deepEqual(parseBillingTerms({}, ctx()), {
      ok: true,
      terms: { cycle: 'MONTHLY', firstDueDate: '2025-02-02', amountCents: 1000_00, firstAmountCents: 1000_00, maxInvoices: 1, billingType: 'UNDEFINED', finePercent: 2, monthlyInterestPercent: 1, issueDaysBeforeDue: 10, owner: null },
    });
  });
  it('3 installments of R$ 1.000,00: 333,34 + 333,33 + 333,33 (the remainder on the first)', () => {
    const r = parseBillingTerms({ installments: 3 }, ctx());
    assert.ok(r.ok);
    assert.equal(r.terms.amountCents, 333_33);
    assert.equal(r.terms.firstAmountCents, 333_34);
    assert.equal(r.terms.firstAmountCents + 2 * r.terms.amountCents, 1000_00);
    assert.equal(r.terms.maxInvoices, 3);
  });
  it('7 installments of R$ 100,00: 14,28 × 6 = 85,68, and 14,32 first', () => {
    const r = parseBillingTerms({ installments: 7 }, ctx({ totalCents: 100_00 }));
    assert.ok(r.ok);
    assert.equal(r.terms.amountCents, 14_28);
    assert.equal(r.terms.firstAmountCents, 14_32);
  });
  it('recurring rent with its owner: no end, the owner normalized, agency fee and payout day from settings', () => {
    const r = parseBillingTerms({ recurring: true, amountCents: 2500_00, ownerName: 'Pedro', ownerDocument: '529.982.247-25', ownerPixKey: 'pedro@x.com', firstDueDate: '2025-03-10' }, ctx());
    assert.ok(r.ok);
    assert.equal(r.terms.maxInvoices, null);
    assert.equal(r.terms.amountCents, 2500_00);
    assert.deepEqual(r.terms.owner, { name: 'Pedro', document: '52998224725', pixKey: 'pedro@x.com', agencyFeePercent: 10, payoutDay: 10 });
  });
  it('a fine above 2%: refused for a consumer (CDC art. 52 §1), accepted between companies', () => {
    const consumer = parseBillingTerms({ finePercent: 2.01 }, ctx());
    assert.equal(consumer.ok, false);
    assert.deepEqual(!consumer.ok && consumer.issues.map((i) => i.path), [['finePercent']]);
    assert.equal(parseBillingTerms({ finePercent: 10 }, ctx({ consumer: false })).ok, true);
    // The tenant's default counts too.
    assert.equal(parseBillingTerms({}, ctx({ defaults: { ...ctx().defaults, finePercent: 5 } })).ok, false);
  });
  const refused: [Record<string, unknown>, string][] = [
    [{ installments: 0 }, 'installments'],
    [{ installments: 1.5 }, 'installments'],
    [{ cycle: 'DAILY' }, 'cycle'],
    [{ firstDueDate: '2025-02-29' }, 'firstDueDate'],
    [{ recurring: true }, 'amountCents'],
    [{ amountCents: 0 }, 'amountCents'],
    [{ ownerName: 'Pedro' }, 'ownerDocument'],
    [{ ownerName: 'Pedro', ownerDocument: '11.222.333/0001-80' }, 'ownerDocument'],
    [{ payoutDay: 29, ownerName: 'Pedro', ownerDocument: '11222333000181' }, 'payoutDay'],
    [{ agencyFeePercent: 5 }, 'agencyFeePercent'],
    [{ installments: 200_001 }, 'installments'],
  ];
  for (const [terms, path] of refused) {
    it(`refuses ${JSON.stringify(terms)} at ${path}`, () => {
      const r = parseBillingTerms(terms, ctx());
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.issues.some((i) => i.path.join('.') === path), JSON.stringify(r));
    });
  }
  it('more installments than centavos: refused', () => {
    const r = parseBillingTerms({ installments: 3 }, ctx({ totalCents: 2 }));
    assert.ok(!r.ok && r.issues[0]?.path.join('.') === 'installments');
  });
  it('a consumer unless the document is a CNPJ', () => {
    assert.equal(isConsumerDocument(null), true);
    assert.equal(isConsumerDocument('52998224725'), true);
    assert.equal(isConsumerDocument('11222333000181'), false);
  });
});
