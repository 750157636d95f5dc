import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OwnerPayout } from '../../db/models';
import { recordRefund } from '../../db/payment-recording';
import { withTenant } from '../../db/tenant-scope';
import { addCalendarDays } from '../../domain/late-charges';
import { payoutDueDate } from '../../domain/owner-payout';
import { addUser } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { until } from '../support/whatsapp';
import { billingSnapshot, debtor, gatewayTenant, invoice, rows, startDunning, today, type GatewayTenant } from './gateway-support';

// The manual payment (baixa manual) through the API: validated, idempotent by key, recorded like
// the gateway's, the dunning workflow told; and the owner payout a paid rent makes due.

describe('manual payments and owner payouts', () => {
  let stack: TestStack;
  let t: GatewayTenant;

  before(async () => {
    stack = await startStack();
    t = await gatewayTenant(stack);
  });
  after(() => stack.stop());

  const pay = (invoiceId: string, body: unknown, o: { token?: string; key?: string } = {}) =>
    stack.api.post(`/api/invoices/${invoiceId}/payments`, { token: o.token ?? t.admin.token, body, headers: o.key ? { 'idempotency-key': o.key } : {} });

  it('refuses bad input with 4xx and changes nothing', async () => {
    const inv = await invoice(stack, t.tenantId, await debtor(stack, t.tenantId));
    const before = await billingSnapshot(stack, t.tenantId);
    const good = { amountCents: 1_000, paidOn: today(), method: 'pix' };
    const cases: [unknown, string][] = [
      [{ ...good, amountCents: -1 }, 'body.amountCents'],
      [{ ...good, amountCents: 0 }, 'body.amountCents'],
      [{ ...good, amountCents: 10.5 }, 'body.amountCents'],
      [{ ...good, paidOn: '2026-02-30' }, 'body.paidOn'],
      [{ ...good, paidOn: '02/03/2026' }, 'body.paidOn'],
      [{ ...good, paidOn: addCalendarDays(today(), 2) }, 'body.paidOn'],
      [{ ...good, method: 'credit_card' }, 'body.method'],
      [{ ...good, extra: true }, 'body'],
    ];
    for (const [body, path] of cases) {
      const res = await pay(inv.id, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors.some((e: { path: string }) => e.path === path || e.path.startsWith(`${path}.`) || (path === 'body' && e.path === 'body')), JSON.stringify(res.body.errors));
    }
    assert.equal((await pay(randomUUID(), good)).status, 404);
    assert.equal((await pay(inv.id, good, { key: 'bad key with spaces' })).status, 400);
    const attendant = await addUser(stack, t, 'ATTENDANT');
    assert.equal((await pay(inv.id, good, { token: attendant.token })).status, 403);
    assert.deepEqual(await billingSnapshot(stack, t.tenantId), before);
  });

  it('records once per Idempotency-Key, tells the dunning workflow, and lists the payments', async () => {
    const inv = await invoice(stack, t.tenantId, await debtor(stack, t.tenantId), { amountCents: 10_000 });
    const workflowId = await startDunning(stack, t.tenantId, inv.id);
    const finance = await addUser(stack, t, 'FINANCE');
    const body = { amountCents: 4_000, paidOn: today(), method: 'transfer', note: 'TED recebida' };
    const first = await pay(inv.id, body, { token: finance.token, key: 'ted-123' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.duplicate, false);
    assert.deepEqual(first.body.invoice, { id: inv.id, status: 'open', paidCents: 4_000, amountDueTodayCents: 6_000, wasSettled: false });
    const again = await pay(inv.id, body, { token: finance.token, key: 'ted-123' });
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.payment.id, first.body.payment.id);
    const r = await rows(stack, t.tenantId, inv.id);
    assert.equal(r.payments.length, 1);
    assert.equal(r.payments[0]!.recordedBy, finance.id);
    assert.equal(r.invoice.paidCents, 4_000);
    // The run heard of the partial payment (it writes it on the invoice's timeline) and goes on.
    await until('dunning run signalled', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('dunning_events').where({ invoiceId: inv.id, type: 'payment', stepKey: `payment:${first.body.payment.id}` }).first()),
    );
    assert.equal((await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');

    const list = await stack.api.get(`/api/invoices/${inv.id}/payments`, { token: finance.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((p: { amountCents: number; method: string; source: string; note: string }) => [p.amountCents, p.method, p.source, p.note]), [[4_000, 'transfer', 'manual', 'TED recebida']]);

    // The rest, without a key: paid.
    const rest = await pay(inv.id, { amountCents: 6_000, paidOn: today(), method: 'cash' });
    assert.equal(rest.status, 201);
    assert.equal(rest.body.invoice.status, 'paid');
    await until('the paid invoice ends its run', async () => (await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED');
  });

  it('a paid rent makes its owner payout due; a refund cancels a payout still due', async () => {
    const contactId = await debtor(stack, t.tenantId);
    const subscriptionId = randomUUID();
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      await trx('subscriptions').insert({
        id: subscriptionId, tenantId: t.tenantId, contactId, description: 'Aluguel Rua das Flores, 10', amountCents: 250_000, cycle: 'MONTHLY', billingType: 'BOLETO',
        finePercent: 2, monthlyInterestPercent: 1, firstDueDate: today(), nextDueDate: today(), scheduleId: `subscription:${subscriptionId}`,
        ownerName: 'Olavo Proprietário', ownerDocument: '11144477735', ownerPixKey: 'olavo@example.com.br', agencyFeePercent: 8.5, payoutDay: 10,
      });
    });
    const inv = await invoice(stack, t.tenantId, contactId, { origin: 'subscription', subscriptionId, sequence: 1, amountCents: 250_000, dueDate: addCalendarDays(today(), 3) });
    const res = await pay(inv.id, { amountCents: 250_000, paidOn: today(), method: 'pix' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const payout = await withTenant(stack.deps.knex, t.tenantId, async (trx) => await OwnerPayout.query(trx).findOne({ invoiceId: inv.id }));
    assert.ok(payout);
    // 250 000 × 8.5% = 21 250.
    assert.deepEqual(
      [payout.grossCents, payout.feeCents, payout.netCents, payout.referenceMonth, payout.dueDate, payout.status, payout.ownerDocument],
      [250_000, 21_250, 228_750, inv.dueDate.slice(0, 7), payoutDueDate(today(), 10), 'due', '11144477735'],
    );
    // Paid again (a duplicate key would be deduped; a second manual payment is an overpayment): still one payout.
    await pay(inv.id, { amountCents: 100, paidOn: today(), method: 'pix' });
    assert.equal((await withTenant(stack.deps.knex, t.tenantId, async (trx) => await OwnerPayout.query(trx).where({ invoiceId: inv.id }))).length, 1);

    const refund = await withTenant(stack.deps.knex, t.tenantId, (trx) =>
      recordRefund(trx, { tenantId: t.tenantId, invoiceId: inv.id, amountCents: 250_100, paidOn: today(), method: 'pix', source: 'manual', today: today() }),
    );
    assert.ok(!refund.duplicate && refund.reopened);
    assert.deepEqual(refund.payout, { payoutId: payout.id, change: 'cancelled' });
    const after = await withTenant(stack.deps.knex, t.tenantId, async (trx) => await OwnerPayout.query(trx).findById(payout.id));
    assert.equal(after?.status, 'cancelled');
    assert.equal((await rows(stack, t.tenantId, inv.id)).invoice.status, 'open');
  });
});
