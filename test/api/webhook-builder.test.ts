import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { z } from 'zod';
import { jsonBody } from '../../api/middleware/json-body';
import { problemHandler } from '../../api/middleware/problem-handler';
import { requestContext } from '../../api/middleware/request-context';
import { buildWebhook, sameSecret, type BuiltWebhook } from '../../api/webhooks/webhook-builder';
import { formatIssuePath } from '../../api/webhooks/whatsapp-payload';
import { uid } from '../support/fixtures';
import { ApiClient } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

// The webhook builder through a webhook declared the way the payment gateway's will be: a shared
// token header (Asaas sends `asaas-access-token`), one token per gateway account looked up by a
// path param. Real Redis (rate limits) and real Temporal (the failing delivery); the look-up is
// the test's own table so the test can count how often it is reached.

const TOKENS = new Map([
  ['acme', 'token-acme-0123456789abcdef'],
  ['beta', 'token-beta-0123456789abcdef'],
  ['gama', 'token-gama-0123456789abcdef'],
]);

const paymentEvent = z.object({
  id: z.string().min(1),
  event: z.enum(['PAYMENT_RECEIVED', 'PAYMENT_OVERDUE']),
  payment: z.object({ id: z.string().min(1), value: z.number().int() }),
});
type PaymentEvent = z.output<typeof paymentEvent>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhook builder: a shared-token webhook', () => {
  let stack: TestStack;
  let server: Server;
  let api: ApiClient;
  let lookups: string[] = [];
  const delivered: string[] = [];
  const routes: string[] = [];
  let gateway: BuiltWebhook;
  let limited: BuiltWebhook;

  const declare = (name: string, path: string, invalidPerMinute: number, cache: { max: number; ttlMs: number }) =>
    buildWebhook<{ token: string }, PaymentEvent>(
      {
        name,
        paths: [path],
        verification: { kind: 'token', header: 'asaas-access-token' },
        secret: {
          param: 'account',
          validKey: (k) => /^[a-z]{1,20}$/.test(k),
          lookup: async (account) => {
            lookups.push(account);
            const token = TOKENS.get(account);
            return token ? { token } : null;
          },
          cache,
          key: (s) => s.token,
        },
        unknownAppDetail: 'Conta do gateway desconhecida.',
        parse: (json) => {
          const r = paymentEvent.safeParse(json);
          return r.success
            ? { ok: true, value: r.data }
            : { ok: false, detail: 'Evento de pagamento inválido.', issues: r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })) };
        },
        // The slow delivery finishes after the failing one: the answer must still wait for it.
        accept: async ({ payload }) => ({
          deliveries: [
            async () => {
              await sleep(payload.payment.id.startsWith('sem-fatura') ? 300 : 50);
              delivered.push(payload.id);
            },
            ...(payload.payment.id.startsWith('sem-fatura')
              ? [() => stack.deps.temporal.client.workflow.getHandle(`dunning:test:${payload.payment.id}`).signal('paymentReceived', payload.id)]
              : []),
          ],
          ack: `recebido ${payload.id}`,
        }),
      },
      { rateLimits: stack.deps.rateLimits, invalidPerMinute, log: stack.deps.log },
    );

  before(async () => {
    stack = await startStack({ worker: false });
    const run = uid();
    gateway = declare(`gateway-${run}`, '/webhooks/gateway/:account', 1_000, { max: 2, ttlMs: 1_000 });
    limited = declare(`limited-${run}`, '/webhooks/limited/:account', 2, { max: 10, ttlMs: 60_000 });
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } finally {
        routes.push(ctx.state.routePath);
      }
    });
    app.use(requestContext(stack.deps.log, stack.deps.metrics));
    app.use(problemHandler());
    app.use(jsonBody(1_000_000));
    app.use(gateway.router.routes());
    app.use(limited.router.routes());
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    await new Promise((r) => server?.close(r));
    await stack?.stop();
  });

  const event = (paymentId = `pay_${uid()}`) => ({ id: `evt_${uid()}`, event: 'PAYMENT_RECEIVED', payment: { id: paymentId, value: 15_000 } });
  const post = (path: string, body: unknown, token?: string) =>
    api.post(path, { raw: typeof body === 'string' ? body : JSON.stringify(body), headers: token === undefined ? {} : { 'asaas-access-token': token } });

  it('accepts the right token: 200 once every delivery has run, labelled by its route template', async () => {
    const e = event();
    const res = await post('/webhooks/gateway/acme', e, TOKENS.get('acme'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body, `recebido ${e.id}`);
    assert.ok(delivered.includes(e.id), 'the delivery had finished before the answer');
    assert.equal(routes.at(-1), '/webhooks/gateway/:account');
  });

  it('refuses a wrong, missing or other account’s token with 401, delivering nothing', async () => {
    const right = TOKENS.get('acme')!;
    const sameLength = `${right.slice(0, -1)}${right.endsWith('x') ? 'y' : 'x'}`;
    for (const token of [sameLength, `${right}-extra`, right.slice(0, 5), '', TOKENS.get('beta'), undefined]) {
      const e = event();
      const res = await post('/webhooks/gateway/acme', e, token);
      assert.equal(res.status, 401, `token ${JSON.stringify(token)}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match(res.body.detail, /asaas-access-token/);
      assert.ok(!delivered.includes(e.id));
    }
    const unknown = await post('/webhooks/gateway/zeta', event(), 'whatever');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.detail, 'Conta do gateway desconhecida.');
  });

  it('compares tokens in constant time whatever their lengths, and never matches an empty secret', () => {
    assert.equal(sameSecret('abc', 'abc'), true);
    assert.equal(sameSecret('abd', 'abc'), false);
    assert.equal(sameSecret('a', 'a much longer expected token'), false); // timingSafeEqual would throw on raw lengths
    assert.equal(sameSecret('', ''), false);
    assert.equal(sameSecret(undefined, 'abc'), false);
  });

  it('answers 400 with the offending paths to a verified body that is not the declared shape', async () => {
    const token = TOKENS.get('acme');
    const notJson = await post('/webhooks/gateway/acme', '{"id": "evt_1", ', token);
    assert.equal(notJson.status, 400);
    const res = await post('/webhooks/gateway/acme', { id: 'evt_2', event: 'PAYMENT_RECEIVED', payment: { id: 'pay_1', value: '150,00' } }, token);
    assert.equal(res.status, 400);
    assert.equal(res.body.detail, 'Evento de pagamento inválido.');
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ['body.payment.value']);
    assert.ok(!delivered.includes('evt_2'));
  });

  it('answers 503 when a delivery fails, after every delivery has settled', async () => {
    const e = event(`sem-fatura-${uid()}`); // signals a dunning workflow Temporal does not have
    const res = await post('/webhooks/gateway/acme', e, TOKENS.get('acme'));
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.ok(res.headers.get('retry-after'), 'Retry-After tells the gateway to come back');
    assert.ok(delivered.includes(e.id), 'the slower, successful delivery was awaited too');
  });

  it('keeps per-account secrets in a bounded LRU with a TTL', async () => {
    await sleep(1_100); // what earlier tests cached has expired
    lookups = [];
    const ok = async (account: string) => assert.equal((await post(`/webhooks/gateway/${account}`, event(), TOKENS.get(account))).status, 200);
    await ok('acme');
    await ok('beta');
    await ok('gama'); // the cache holds 2: acme, the least recently used, goes
    assert.equal(gateway.cachedSecrets(), 2);
    await ok('gama');
    await ok('beta');
    assert.deepEqual(lookups, ['acme', 'beta', 'gama'], 'cached accounts are not looked up again');
    await ok('acme');
    assert.deepEqual(lookups.slice(3), ['acme'], 'an evicted account is looked up again');
    assert.ok(gateway.cachedSecrets() <= 2);
    await sleep(1_100); // past the TTL
    await ok('acme');
    assert.deepEqual(lookups.slice(4), ['acme'], 'an expired entry is looked up again');
  });

  it('answers 429 to an IP over the invalid-token limit without reaching the look-up; cached valid deliveries still pass', async () => {
    lookups = [];
    const path = (account: string) => `/webhooks/limited/${account}`;
    assert.equal((await post(path('acme'), event(), TOKENS.get('acme'))).status, 200);
    assert.equal((await post(path('acme'), event(), 'wrong')).status, 401);
    assert.equal((await post(path('acme'), event(), 'wrong')).status, 401);
    const over = await post(path('acme'), event(), 'wrong');
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    // A look-up would be needed for beta: refused before it, even with beta's right token.
    assert.equal((await post(path('beta'), event(), TOKENS.get('beta'))).status, 429);
    assert.deepEqual(lookups, ['acme'], 'the look-up was never reached once over the limit');
    // acme's secret is at hand: its genuine delivery is not limited.
    assert.equal((await post(path('acme'), event(), TOKENS.get('acme'))).status, 200);
    // The other webhook keeps its own count.
    assert.equal((await post('/webhooks/gateway/acme', event(), TOKENS.get('acme'))).status, 200);
  });
});
