import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AsaasClient, asaasBaseUrl, centsToReais, GatewayError, reaisToCents } from '../../infra/asaas-client';
import { FakeAsaas } from '../../scripts/sandbox/asaas';

// The gateway client against the loopback sandbox: Asaas's shapes on the wire, centavos exact,
// failures typed by whether a retry can help.

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

describe('reais ↔ centavos', () => {
  const table: [number, number][] = [[0, 0], [1, 0.01], [10, 0.1], [99, 0.99], [100, 1], [10_216, 102.16], [1_999, 19.99], [12_345_678_999, 123_456_789.99], [-250, -2.5]];
  for (const [cents, reais] of table) {
    it(`${cents} ↔ ${reais}`, () => {
      assert.equal(centsToReais(cents), reais);
      assert.equal(reaisToCents(reais), cents);
      assert.equal(JSON.stringify({ v: centsToReais(cents) }), `{"v":${reais}}`);
    });
  }
  it('reads strings and trailing zeros; refuses fractions of a centavo and junk', () => {
    assert.equal(reaisToCents('0.30'), 30);
    assert.equal(reaisToCents('7.100'), 710);
  });
  it('refuses what is not money', () => {
    assert.throws(() => reaisToCents(1.005), RangeError);
    assert.throws(() => reaisToCents(0.1 + 0.2), RangeError); // 0.30000000000000004
    assert.throws(() => reaisToCents('abc'), RangeError);
    assert.throws(() => centsToReais(1.5), RangeError);
  });
  it('the host comes from the deployment or the account environment', () => {
    assert.equal(asaasBaseUrl('production'), 'https://api.asaas.com/v3');
    assert.equal(asaasBaseUrl('sandbox'), 'https://api-sandbox.asaas.com/v3');
    assert.equal(asaasBaseUrl('production', 'http://127.0.0.1:9/v3/'), 'http://127.0.0.1:9/v3');
  });
});

describe('Asaas client against the sandbox', () => {
  const asaas = new FakeAsaas();
  const apiKey = '$aact_test_0123456789abcdef';
  let client: AsaasClient;
  before(async () => {
    await asaas.start();
    asaas.addAccount({ apiKey });
    client = new AsaasClient({ baseUrl: asaas.url, apiKey, timeoutMs: 2_000 });
  });
  after(() => asaas.stop());

  it('creates a customer and a charge with fine and interest in Asaas’s shape; boleto line and PIX code', async () => {
    const customer = await client.createCustomer({ name: 'Carla Devedora', cpfCnpj: '52998224725', mobilePhone: '11987654321', email: 'carla@example.com.br', externalReference: 'contact-1' });
    assert.match(customer.id, /^cus_/);
    const charge = await client.createCharge({
      customer: customer.id, billingType: 'UNDEFINED', valueCents: 10_216, dueDate: inDays(5), description: 'Fatura nº 1',
      externalReference: 'inv-1:1', finePercent: 2, monthlyInterestPercent: 1.5,
    });
    assert.match(charge.id, /^pay_/);
    assert.equal(charge.valueCents, 10_216);
    assert.equal(charge.status, 'PENDING');
    assert.equal(charge.externalReference, 'inv-1:1');
    const sent = asaas.requests.find((r) => r.method === 'POST' && r.path === '/payments')!;
    assert.equal(sent.accessToken, apiKey);
    assert.ok(sent.userAgent, 'User-Agent is sent');
    assert.deepEqual(sent.body, {
      customer: customer.id, billingType: 'UNDEFINED', value: 102.16, dueDate: inDays(5), description: 'Fatura nº 1', externalReference: 'inv-1:1',
      fine: { value: 2, type: 'PERCENTAGE' }, interest: { value: 1.5 },
    });
    const line = await client.identificationField(charge.id);
    assert.match(line.identificationField, /^\d{47}$/);
    const pix = await client.pixQrCode(charge.id);
    assert.match(pix.payload, /^000201/);
    assert.deepEqual((await client.findChargesByExternalReference('inv-1:1')).map((c) => c.id), [charge.id]);
    assert.deepEqual((await client.findCustomersByExternalReference('contact-1')).map((c) => c.id), [customer.id]);
    assert.equal(await client.deleteCharge(charge.id), true);
    assert.equal(await client.deleteCharge(charge.id), false, 'already gone is not an error');
  });

  it('a 5xx is retryable and the next attempt succeeds', async () => {
    const customer = await client.createCustomer({ name: 'Ana', cpfCnpj: '52998224725' });
    asaas.failNext(1, { status: 503, path: '/payments', method: 'POST' });
    const err = await client.createCharge({ customer: customer.id, billingType: 'BOLETO', valueCents: 500, dueDate: inDays(1) }).catch((e: unknown) => e);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
    const ok = await client.createCharge({ customer: customer.id, billingType: 'BOLETO', valueCents: 500, dueDate: inDays(1) });
    assert.equal(ok.valueCents, 500);
  });

  it('a 400 is not retryable and carries Asaas’s descriptions', async () => {
    const err = await client.createCharge({ customer: 'cus_nobody', billingType: 'BOLETO', valueCents: 500, dueDate: inDays(1) }).catch((e: unknown) => e);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.status, 400);
    assert.equal(err.retryable, false);
    assert.equal(err.errors[0]?.code, 'invalid_customer');
    assert.match(err.descriptions, /Cliente inexistente/);
    assert.match(err.message, /Cliente inexistente/);
  });

  it('a bad key is a 401, not retryable', async () => {
    const bad = new AsaasClient({ baseUrl: asaas.url, apiKey: '$aact_wrong_key_000000', timeoutMs: 2_000 });
    const err = await bad.getCharge('pay_x').catch((e: unknown) => e);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.status, 401);
    assert.equal(err.retryable, false);
  });

  it('a redirect is not followed; no answer (closed port, timeout) is retryable', async () => {
    const redirector = createServer((_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const port = (redirector.address() as AddressInfo).port;
    try {
      const err = await new AsaasClient({ baseUrl: `http://127.0.0.1:${port}/v3`, apiKey }).getCharge('pay_x').catch((e: unknown) => e);
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 302);
      assert.equal(err.retryable, false);
    } finally {
      redirector.closeAllConnections();
      await new Promise((r) => redirector.close(r));
    }
    const silent = createServer(() => {}); // never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const err = await new AsaasClient({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v3`, apiKey, timeoutMs: 200 }).getCharge('pay_x').catch((e: unknown) => e);
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, null);
      assert.equal(err.retryable, true);
      assert.match(err.message, /timed out/);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a create whose answer was lost is found by its externalReference: no second charge', async () => {
    const customer = await client.createCustomer({ name: 'Bia', cpfCnpj: '52998224725' });
    asaas.failNext(1, { status: 500, path: '/payments', method: 'POST', afterHandling: true });
    const request = { customer: customer.id, billingType: 'PIX' as const, valueCents: 1_000, dueDate: inDays(2), externalReference: 'inv-lost:1' };
    await assert.rejects(client.createCharge(request), (e: unknown) => e instanceof GatewayError && e.retryable);
    const found = await client.findChargesByExternalReference('inv-lost:1');
    assert.equal(found.length, 1, 'the lost create did happen, once');
    assert.equal(found[0]!.valueCents, 1_000);
  });
});

// What a person trying `npm start` uses: any key opens an account, and curl plays the customer.
describe('Asaas sandbox control surface', () => {
  const asaas = new FakeAsaas({ acceptAnyKey: true, deliveryAttempts: 1 });
  const received: { token: string | undefined; body: { event: string; payment: { id: string; value: number } } }[] = [];
  const hook = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({ token: req.headers['asaas-access-token'] as string | undefined, body: JSON.parse(raw) });
      res.writeHead(200).end('OK');
    });
  });
  before(async () => {
    await asaas.start();
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    await asaas.stop();
    hook.closeAllConnections();
    await new Promise((r) => hook.close(r));
  });

  it('registers a webhook, and pays a charge by curl: CONFIRMED then RECEIVED with the token', async () => {
    const control = asaas.url.replace(/\/v3$/, '/_sandbox');
    const client = new AsaasClient({ baseUrl: asaas.url, apiKey: '$aact_any_key_the_person_chose' });
    const customer = await client.createCustomer({ name: 'Demo', cpfCnpj: '52998224725' });
    const charge = await client.createCharge({ customer: customer.id, billingType: 'PIX', valueCents: 10_000, dueDate: inDays(3) });
    const webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhooks/asaas/x`;
    const reg = await fetch(`${control}/accounts`, { method: 'POST', body: JSON.stringify({ apiKey: '$aact_any_key_the_person_chose', webhookUrl, webhookToken: 'tok-0123456789abcdef0123456789abcdef' }) });
    assert.equal(reg.status, 200);
    const paid = await fetch(`${control}/payments/${charge.id}/pay`, { method: 'POST', body: JSON.stringify({ value: 100.5 }) });
    assert.equal(paid.status, 200);
    assert.deepEqual(received.map((r) => [r.body.event, r.body.payment.id, r.body.payment.value, r.token]), [
      ['PAYMENT_CONFIRMED', charge.id, 100.5, 'tok-0123456789abcdef0123456789abcdef'],
      ['PAYMENT_RECEIVED', charge.id, 100.5, 'tok-0123456789abcdef0123456789abcdef'],
    ]);
    assert.equal((await client.getCharge(charge.id)).status, 'RECEIVED');
    const unknown = await fetch(`${control}/payments/pay_nope/pay`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 400);
  });
});
