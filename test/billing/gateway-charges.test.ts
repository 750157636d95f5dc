import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { recordPayment } from '../../db/payment-recording';
import { addCalendarDays } from '../../domain/late-charges';
import { startStack, type TestStack } from '../support/stack';
import { debtor, gatewayActivities, isCharge, gatewayTenant, invoice, rows, today, type GatewayTenant } from './gateway-support';

// ensureInvoiceCharge / cancelInvoiceCharge against the loopback Asaas: one customer per contact,
// a charge for the open principal with the invoice's fine and interest, found again on a retry
// instead of created twice, replaced after a partial payment, removed on cancel.

describe('invoice charges at the gateway', () => {
  let stack: TestStack;
  let t: GatewayTenant;
  let acts: ReturnType<typeof gatewayActivities>;

  before(async () => {
    stack = await startStack();
    t = await gatewayTenant(stack);
    acts = gatewayActivities(stack);
  });
  after(() => stack.stop());

  const posts = (path: string) => stack.asaas.requests.filter((r) => r.method === 'POST' && r.path === path && r.accessToken === t.apiKey).length;

  it('creates the customer once and a charge in Asaas’s shape; a second call returns the same charge', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId, { amountCents: 12_345, finePercent: 2, monthlyInterestPercent: 1.5, billingType: 'UNDEFINED' });
    const charge = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(charge), JSON.stringify(charge));
    assert.equal(charge.valueCents, 12_345);
    assert.match(charge.externalId, /^pay_/);
    assert.match(charge.boletoLine ?? '', /^\d{47}$/);
    assert.match(charge.pixPayload ?? '', /^000201/);
    assert.ok(charge.invoiceUrl);
    const atGateway = stack.asaas.payments.get(charge.externalId)!;
    assert.equal(atGateway.externalReference, `${inv.id}:1`);
    assert.deepEqual(atGateway.fine, { value: 2, type: 'PERCENTAGE' });
    assert.deepEqual(atGateway.interest, { value: 1.5, type: 'PERCENTAGE' });
    assert.equal(atGateway.dueDate, inv.dueDate);
    const customer = stack.asaas.customers.get(atGateway.customer)!;
    assert.equal(customer.cpfCnpj, '52998224725');
    assert.equal(customer.externalReference, contactId);

    const again = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.deepEqual(again, charge);
    const { charges } = await rows(stack, t.tenantId, inv.id);
    assert.equal(charges.length, 1);
    assert.equal(charges[0]!.current, true);

    // The same contact's next invoice reuses the customer.
    const customersBefore = posts('/customers');
    const inv2 = await invoice(stack, t.tenantId, contactId);
    await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv2.id });
    assert.equal(posts('/customers'), customersBefore);
  });

  it('a past due date is charged for today (a boleto cannot be due in the past)', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId, { dueDate: addCalendarDays(today(), -20) });
    const charge = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(charge));
    assert.equal(charge.dueDate, today());
    assert.equal(charge.valueCents, 10_000, 'the principal still open; fine and interest are the gateway’s from its due date');
  });

  it('a retry after a lost answer finds the charge it created: one charge at the gateway', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId);
    stack.asaas.failNext(1, { status: 502, path: '/payments', method: 'POST', afterHandling: true });
    await assert.rejects(acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }), /502/);
    assert.equal((await rows(stack, t.tenantId, inv.id)).charges.length, 0, 'nothing stored for the failed attempt');
    const charge = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(charge));
    const atGateway = stack.asaas.paymentsOf(t.apiKey).filter((p) => p.externalReference === `${inv.id}:1`);
    assert.equal(atGateway.length, 1);
    assert.equal(atGateway[0]!.id, charge.externalId);
  });

  it('two calls at once (the run and a retried attempt) leave one current charge and one payable charge at the gateway', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId);
    const [a, b] = await Promise.all([
      acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }),
      acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }),
    ]);
    assert.ok(isCharge(a) && isCharge(b));
    assert.equal(a.externalId, b.externalId);
    const { charges } = await rows(stack, t.tenantId, inv.id);
    assert.deepEqual(charges.filter((c) => c.current).map((c) => c.externalId), [a.externalId]);
    const payable = stack.asaas.paymentsOf(t.apiKey).filter((p) => p.externalReference?.startsWith(inv.id) && !p.deleted);
    assert.deepEqual(payable.map((p) => p.id), [a.externalId]);
  });

  it('a 400 from the gateway fails the activity without retries, with Asaas’s words', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId);
    stack.asaas.failNext(1, { status: 400, path: '/payments', method: 'POST', body: { errors: [{ code: 'invalid_billingType', description: 'Forma de pagamento inválida.' }] } });
    await assert.rejects(acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }), (err: Error & { nonRetryable?: boolean; type?: string }) => {
      assert.equal(err.nonRetryable, true);
      assert.equal(err.type, 'GatewayRefused');
      assert.match(err.message, /Forma de pagamento inválida/);
      return true;
    });
  });

  it('after a partial payment the old charge is replaced by one for what is left', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId, { amountCents: 30_000 });
    const first = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(first));
    await withTenant(stack.deps.knex, t.tenantId, (trx) =>
      recordPayment(trx, { tenantId: t.tenantId, invoiceId: inv.id, amountCents: 10_000, paidOn: today(), method: 'cash', source: 'manual', today: today() }),
    );
    const second = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(second));
    assert.notEqual(second.externalId, first.externalId);
    assert.equal(second.valueCents, 20_000);
    assert.equal(stack.asaas.payments.get(second.externalId)!.externalReference, `${inv.id}:2`);
    assert.equal(stack.asaas.payments.get(first.externalId)!.deleted, true, 'the old amount can no longer be paid');
    const { charges } = await rows(stack, t.tenantId, inv.id);
    assert.deepEqual(charges.map((c) => [c.externalId, c.current, c.status]), [[first.externalId, false, 'deleted'], [second.externalId, true, 'pending']]);
  });

  it('cancelInvoiceCharge deletes the current charge; already gone is fine', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId);
    const charge = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(charge));
    assert.deepEqual(await acts.cancelInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }), { cancelled: true });
    assert.equal(stack.asaas.payments.get(charge.externalId)!.deleted, true);
    const { charges } = await rows(stack, t.tenantId, inv.id);
    assert.deepEqual(charges.map((c) => [c.current, c.status]), [[false, 'deleted']]);
    assert.deepEqual(await acts.cancelInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }), { cancelled: false });
  });

  it('no CPF/CNPJ: skipped and nothing written; no gateway account or a settled invoice: null', async () => {
    const noDoc = await debtor(stack, t.tenantId, { document: null });
    const inv = await invoice(stack, t.tenantId, noDoc);
    const before = stack.asaas.requests.length;
    assert.deepEqual(await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id }), { skipped: 'customer_document_missing' });
    assert.equal(stack.asaas.requests.length, before);
    assert.equal((await rows(stack, t.tenantId, inv.id)).charges.length, 0);

    const paid = await invoice(stack, t.tenantId, await debtor(stack, t.tenantId));
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      await trx('invoices').where({ id: paid.id }).update({ status: 'cancelled', cancelledAt: new Date() });
    });
    assert.equal(await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: paid.id }), null);

    const other = await gatewayTenant(stack, { connect: false });
    const inv3 = await invoice(stack, other.tenantId, await debtor(stack, other.tenantId));
    assert.equal(await acts.ensureInvoiceCharge({ tenantId: other.tenantId, invoiceId: inv3.id }), null);
  });
});
