import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../api/app';
import { closeApiDeps, createApiDeps } from '../../api/create-deps';
import { GatewayEvent } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { createLogger } from '../../infra/logger';
import { loadConfig } from '../../infra/config';
import { dunningWorkflowId } from '../../workflows/dunning';
import { startStack, type TestStack } from '../support/stack';
import { until } from '../support/whatsapp';
import { billingSnapshot, debtor, gatewayActivities, isCharge, gatewayTenant, invoice, rows, startDunning, today, type GatewayTenant } from './gateway-support';

// Asaas's webhook end to end: the sandbox pays, refunds, lets a charge go overdue or deletes it,
// and posts the events to the real API, which records the money once, whatever the order or the
// number of deliveries, and tells the invoice's dunning workflow.

describe('Asaas webhook', () => {
  let stack: TestStack;
  let t: GatewayTenant;
  let acts: ReturnType<typeof gatewayActivities>;

  before(async () => {
    stack = await startStack();
    t = await gatewayTenant(stack);
    acts = gatewayActivities(stack);
  });
  after(() => stack.stop());

  const post = (body: unknown, token: string | null = t.webhookToken, path = t.webhookPath) =>
    stack.api.post(path, { raw: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token === null ? {} : { 'asaas-access-token': token }) } });

  // An invoice with its charge at the gateway (and, unless told otherwise, its dunning workflow).
  async function charged(o: { amountCents?: number; dunning?: boolean } = {}) {
    const contactId = await debtor(stack, t.tenantId);
    const inv = await invoice(stack, t.tenantId, contactId, { amountCents: o.amountCents ?? 10_000 });
    const workflowId = o.dunning === false ? dunningWorkflowId(t.tenantId, inv.id) : await startDunning(stack, t.tenantId, inv.id);
    const charge = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(charge));
    return { inv, charge, workflowId };
  }

  const status = async (workflowId: string) => (await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).status.name;

  it('a bad or missing token → 401, an unknown account → 404; nothing changed', async () => {
    const { charge } = await charged({ dunning: false });
    stack.asaas.autoDeliver = false;
    const [confirmed] = await stack.asaas.pay(charge.externalId);
    stack.asaas.autoDeliver = true;
    const before = await billingSnapshot(stack, t.tenantId);
    assert.equal((await post(confirmed!.body, 'not-the-token')).status, 401);
    assert.equal((await post(confirmed!.body, null)).status, 401);
    assert.equal((await post(confirmed!.body, '')).status, 401);
    assert.equal((await post(confirmed!.body, t.webhookToken, '/webhooks/asaas/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await post(confirmed!.body, t.webhookToken, '/webhooks/asaas/not-a-uuid')).status, 404);
    assert.deepEqual(await billingSnapshot(stack, t.tenantId), before);
  });

  it('malformed JSON or envelope → 400 with the body paths; nothing changed', async () => {
    const before = await billingSnapshot(stack, t.tenantId);
    const bad = await post('{"id": "evt_1", ');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    const noPayment = await post({ id: 'evt_x1', event: 'PAYMENT_RECEIVED' });
    assert.equal(noPayment.status, 400);
    assert.deepEqual(noPayment.body.errors.map((e: { path: string }) => e.path), ['body.payment']);
    const badFields = await post({ id: '', event: 'PAYMENT_RECEIVED', payment: { id: 'pay_1', status: 'RECEIVED', value: 'dez reais', paymentDate: 'ontem' } });
    assert.equal(badFields.status, 400);
    assert.deepEqual(badFields.body.errors.map((e: { path: string }) => e.path).sort(), ['body.id', 'body.payment.paymentDate', 'body.payment.value']);
    assert.deepEqual(await billingSnapshot(stack, t.tenantId), before);
  });

  it('paid in full: CONFIRMED then RECEIVED is one payment; a duplicate changes nothing; the workflow was signalled', async () => {
    const { inv, charge, workflowId } = await charged();
    const events = await stack.asaas.pay(charge.externalId, { date: today() });
    assert.deepEqual(events.map((e) => e.deliveries.map((d) => d.status)), [[200], [200]]);
    const r = await rows(stack, t.tenantId, inv.id);
    assert.equal(r.payments.length, 1);
    assert.equal(r.payments[0]!.amountCents, 10_000);
    assert.equal(r.payments[0]!.externalKey, `asaas:${charge.externalId}:payment`);
    assert.equal(r.payments[0]!.source, 'gateway');
    assert.equal(r.invoice.status, 'paid');
    assert.equal(r.invoice.paidCents, 10_000);
    assert.deepEqual(r.charges.map((c) => [c.status, c.current]), [['received', false]]);
    // A paid invoice ends its dunning run.
    await until('dunning run signalled', async () => (await status(workflowId)) === 'COMPLETED');

    assert.equal(await stack.asaas.redeliver(events[1]!), 200);
    assert.equal(await stack.asaas.redeliver(events[0]!), 200);
    const again = await rows(stack, t.tenantId, inv.id);
    assert.equal(again.payments.length, 1);
    assert.deepEqual(again.charges.map((c) => c.status), ['received'], 'a late CONFIRMED does not regress RECEIVED');
    const stored = await withTenant(stack.deps.knex, t.tenantId, async (trx) => await GatewayEvent.query(trx).whereIn('eventId', events.map((e) => e.id)));
    assert.equal(stored.length, 2);
    assert.ok(stored.every((e) => e.appliedAt));
  });

  it('RECEIVED before CONFIRMED: the same single payment', async () => {
    const { inv, charge } = await charged();
    stack.asaas.autoDeliver = false;
    const [confirmed, received] = await stack.asaas.pay(charge.externalId);
    stack.asaas.autoDeliver = true;
    assert.equal(await stack.asaas.deliver(received!), 200);
    assert.equal(await stack.asaas.deliver(confirmed!), 200);
    const r = await rows(stack, t.tenantId, inv.id);
    assert.equal(r.payments.length, 1);
    assert.equal(r.invoice.status, 'paid');
    assert.deepEqual(r.charges.map((c) => c.status), ['received']);
  });

  it('a partial payment: the invoice stays open with paid_cents; the next charge is for what is left', async () => {
    const { inv, charge } = await charged({ amountCents: 25_000 });
    await stack.asaas.pay(charge.externalId, { valueCents: 10_000 });
    const r = await rows(stack, t.tenantId, inv.id);
    assert.equal(r.invoice.status, 'open');
    assert.equal(r.invoice.paidCents, 10_000);
    assert.equal(r.payments.length, 1);
    assert.equal(r.charges[0]!.current, false, 'a consumed charge is no longer current');
    const next = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(next));
    assert.equal(next.valueCents, 15_000);
  });

  it('a full refund of a paid invoice reopens it and starts its dunning again', async () => {
    const { inv, charge, workflowId } = await charged();
    await stack.asaas.pay(charge.externalId);
    await until('first run ended with the payment', async () => (await status(workflowId)) === 'COMPLETED');
    const firstRun = (await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).runId;
    const refund = await stack.asaas.refund(charge.externalId);
    assert.equal(refund.body.event, 'PAYMENT_REFUNDED');
    assert.deepEqual(refund.deliveries.map((d) => d.status), [200]);
    const r = await rows(stack, t.tenantId, inv.id);
    assert.equal(r.invoice.status, 'open');
    assert.equal(r.invoice.paidCents, 0);
    assert.equal(r.invoice.paidAt, null);
    assert.deepEqual(r.payments.map((p) => [p.kind, p.amountCents]), [['payment', 10_000], ['refund', 10_000]]);
    // (The new run makes a new charge for the reopened amount: the refunded one is what counts here.)
    assert.deepEqual(r.charges.filter((c) => c.externalId === charge.externalId).map((c) => c.status), ['refunded']);
    const described = await stack.deps.temporal.client.workflow.getHandle(workflowId).describe();
    assert.notEqual(described.runId, firstRun, 'a new dunning run');
    assert.equal(described.status.name, 'RUNNING');
    // Redelivered: no second refund, no third run.
    assert.equal(await stack.asaas.redeliver(refund), 200);
    assert.equal((await rows(stack, t.tenantId, inv.id)).payments.length, 2);
    assert.equal((await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).runId, described.runId);
  });

  it('a partial refund is recorded per refund; the refund that overtook its payment records both', async () => {
    const { inv, charge } = await charged({ amountCents: 20_000 });
    stack.asaas.autoDeliver = false;
    const [confirmed, received] = await stack.asaas.pay(charge.externalId);
    const partial = await stack.asaas.refund(charge.externalId, 5_000);
    stack.asaas.autoDeliver = true;
    assert.equal(partial.body.event, 'PAYMENT_PARTIALLY_REFUNDED');
    assert.equal(await stack.asaas.deliver(partial), 200);
    let r = await rows(stack, t.tenantId, inv.id);
    assert.deepEqual(r.payments.map((p) => [p.kind, p.amountCents]).sort(), [['payment', 20_000], ['refund', 5_000]]);
    assert.equal(r.invoice.status, 'open');
    assert.equal(r.invoice.paidCents, 15_000);
    assert.equal(await stack.asaas.deliver(received!), 200);
    assert.equal(await stack.asaas.deliver(confirmed!), 200);
    r = await rows(stack, t.tenantId, inv.id);
    assert.equal(r.payments.length, 2);
    // (The dunning run may already have a new charge for the 5.000 left: only the refunded one counts here.)
    assert.deepEqual(r.charges.filter((c) => c.externalId === charge.externalId).map((c) => c.status), ['partially_refunded'], 'no regress to received');
  });

  it('PAYMENT_OVERDUE marks the charge only; PAYMENT_DELETED makes it not current and the invoice stays', async () => {
    const { inv, charge } = await charged();
    await stack.asaas.markOverdue(charge.externalId);
    let r = await rows(stack, t.tenantId, inv.id);
    assert.deepEqual(r.charges.map((c) => [c.status, c.current]), [['overdue', true]]);
    assert.equal(r.invoice.status, 'open', 'our own rule decides the invoice’s overdue status');
    await stack.asaas.delete(charge.externalId);
    r = await rows(stack, t.tenantId, inv.id);
    assert.deepEqual(r.charges.map((c) => [c.status, c.current]), [['deleted', false]]);
    assert.equal(r.invoice.status, 'open');
    const next = await acts.ensureInvoiceCharge({ tenantId: t.tenantId, invoiceId: inv.id });
    assert.ok(isCharge(next));
    assert.notEqual(next.externalId, charge.externalId);
  });

  it('an event for a charge we do not know, or of a kind we do not apply: 200 and stored', async () => {
    const unknown = await post({ id: 'evt_unknown_charge_1', event: 'PAYMENT_RECEIVED', dateCreated: '2026-01-01 10:00:00', payment: { id: 'pay_not_ours', status: 'RECEIVED', value: 10, paymentDate: today() } });
    assert.equal(unknown.status, 200);
    const other = await post({ id: 'evt_transfer_1', event: 'TRANSFER_DONE', transfer: { id: 'tra_1' } });
    assert.equal(other.status, 200);
    const stored = await withTenant(stack.deps.knex, t.tenantId, async (trx) => await GatewayEvent.query(trx).whereIn('eventId', ['evt_unknown_charge_1', 'evt_transfer_1']).orderBy('eventId'));
    assert.deepEqual(stored.map((e) => [e.eventId, e.result]), [['evt_transfer_1', 'ignored'], ['evt_unknown_charge_1', 'unknown_charge']]);
    assert.equal((await post({ id: 'evt_unknown_charge_1', event: 'PAYMENT_RECEIVED', payment: { id: 'pay_not_ours', status: 'RECEIVED', value: 10 } })).status, 200);
  });

  it('Temporal away: 503 with the money recorded once; the redelivery runs the deliveries and the event is applied', async () => {
    const { inv, charge, workflowId } = await charged();
    // A second API instance on the same database whose Temporal does not answer.
    const env = { ...stack.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const config = loadConfig(env);
    const deps = createApiDeps(config, createLogger('test', 'silent'), env);
    const server: Server = createServer(buildApp(deps).callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      stack.asaas.setWebhook(t.apiKey, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${t.webhookPath}`, token: t.webhookToken });
      stack.asaas.autoDeliver = false;
      const [confirmed] = await stack.asaas.pay(charge.externalId);
      stack.asaas.autoDeliver = true;
      assert.equal(await stack.asaas.deliver(confirmed!), 503);
      let r = await rows(stack, t.tenantId, inv.id);
      assert.equal(r.payments.length, 1, 'the money is recorded');
      assert.equal(r.invoice.status, 'paid');
      const stored = await withTenant(stack.deps.knex, t.tenantId, async (trx) => await GatewayEvent.query(trx).findOne({ eventId: confirmed!.id }));
      assert.equal(stored?.appliedAt, null, 'not applied until its deliveries got through');
      // (The run may still learn it on its own: each of its steps reads the invoice from the database.)

      stack.asaas.setWebhook(t.apiKey, { url: `${stack.baseUrl}${t.webhookPath}`, token: t.webhookToken });
      assert.equal(await stack.asaas.redeliver(confirmed!), 200);
      r = await rows(stack, t.tenantId, inv.id);
      assert.equal(r.payments.length, 1);
      await until('dunning run signalled by the redelivery', async () => (await status(workflowId)) === 'COMPLETED');
      const applied = await withTenant(stack.deps.knex, t.tenantId, async (trx) => await GatewayEvent.query(trx).findOne({ eventId: confirmed!.id }));
      assert.ok(applied?.appliedAt);
    } finally {
      stack.asaas.setWebhook(t.apiKey, { url: `${stack.baseUrl}${t.webhookPath}`, token: t.webhookToken });
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closeApiDeps(deps);
    }
  });
});
