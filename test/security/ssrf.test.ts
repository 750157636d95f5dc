import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startAutomationEvent } from '../../activities/automation-events';
import type { DecideReplyResult } from '../../activities/ai';
import type { ActivityDeps } from '../../activities/deps';
import { META_MEDIA_HOSTS, mediaActivities } from '../../activities/media';
import { triageActivities } from '../../activities/triage';
import { withTenant } from '../../db/tenant-scope';
import { createLogger } from '../../infra/logger';
import { OUTBOUND_REFUSAL_DETAIL } from '../../infra/outbound-guard';
import { activityDepsFromConfig } from '../../workers/activity-deps';
import { automationEventWorkflowId } from '../../workflows/automation-delivery';
import { login } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// A tenant chooses its automation endpoint and its AI base URL, and the worker calls them from
// inside our network. None of these may reach an internal address: not when saved, not when
// called (the name may resolve elsewhere by then), not through a redirect. This stack runs
// WITHOUT the test suite's loopback allowance; only 127.0.0.2 is operator-allowed.

interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

// A loopback HTTP server that records every request it gets.
function listener(host: string, handle: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_q, r) => r.writeHead(200).end('ok')) {
  const hits: Hit[] = [];
  let server: Server | undefined;
  let port = 0;
  return {
    hits,
    get port() {
      return port;
    },
    url: (path: string) => `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
          handle(req, res, body);
        });
      });
      await new Promise<void>((r) => server!.listen(0, host, r));
      port = (server.address() as AddressInfo).port;
    },
    async close() {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    },
  };
}

const completion = (content: Record<string, unknown>) => ({
  id: 'chatcmpl-allowed',
  object: 'chat.completion',
  created: Math.floor(Date.now() / 1000),
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(content), refusal: null }, finish_reason: 'stop', logprobs: null }],
});

describe('SSRF: URLs a tenant chooses never reach internal addresses', () => {
  let stack: TestStack;
  let deps: ActivityDeps;
  let t: WhatsAppTenant;
  const TENANT_AI_KEY = `sk-tenant-own-${randomBytes(6).toString('hex')}`;

  // What must receive nothing: the same process on IPv4 and IPv6 loopback.
  const loop = listener('127.0.0.1');
  const loop6 = listener('::1');
  // The operator-allowed host (OUTBOUND_ALLOWED_HOSTS=127.0.0.2): /redirect… bounces to `loop`,
  // /v1/chat/completions answers as OpenAI would, anything else 200.
  const allowed = listener('127.0.0.2', (req, res) => {
    if (req.url?.startsWith('/redirect')) return void res.writeHead(302, { location: loop.url('/hook') }).end();
    if (req.url === '/v1/chat/completions') {
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(completion({ action: 'reply', reply: 'Sim, aceitamos pets!', intent: 'faq', confidence: 0.9, reason: null })));
    }
    res.writeHead(200).end('ok');
  });

  const refusedTargets = () => [
    { name: '127.0.0.1', url: loop.url('/hook') },
    { name: 'a 10.x address', url: 'http://10.0.0.7:5678/hook' },
    { name: 'the cloud metadata address 169.254.169.254', url: 'http://169.254.169.254/latest/meta-data/' },
    { name: 'IPv6 loopback [::1]', url: loop6.url('/hook') },
    { name: 'IPv4-mapped IPv6 loopback', url: `http://[::ffff:127.0.0.1]:${loop.port}/hook` },
    { name: 'a name that resolves to loopback (localhost)', url: `http://localhost:${loop.port}/hook` },
  ];

  before(async () => {
    await Promise.all([loop.start(), loop6.start(), allowed.start()]);
    stack = await startStack({ ai: true, env: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.2' } });
    stack.openai!.apiKeys.add(TENANT_AI_KEY);
    deps = activityDepsFromConfig(stack.config, { knex: stack.deps.knex, redis: stack.deps.redis, log: createLogger('test', 'silent'), client: stack.deps.temporal.client });
    t = await whatsappTenant(stack);
  });
  after(async () => {
    await stack.stop();
    await Promise.all([loop.close(), loop6.close(), allowed.close()]);
  });

  const nothingReachedLoopback = () => {
    assert.deepEqual(loop.hits, [], 'the IPv4 loopback listener received nothing');
    assert.deepEqual(loop6.hits, [], 'the IPv6 loopback listener received nothing');
  };

  // As if saved before the name pointed inward (DNS rebinding), or by an older release.
  async function storeEndpoint(tenantId: string, url: string) {
    await withTenant(stack.deps.knex, tenantId, async (trx) =>
      trx('automation_endpoints')
        .insert({ tenantId, url, events: ['message.received'], active: true, secretSealed: stack.deps.secrets.seal('segredo-do-n8n-0123456789'), updatedAt: new Date() })
        .onConflict('tenantId')
        .merge(),
    );
  }
  async function storeAi(tenantId: string, row: { baseUrl?: string | null; model?: string | null; apiKey?: string | null }) {
    await withTenant(stack.deps.knex, tenantId, async (trx) =>
      trx('ai_settings')
        .insert({
          tenantId, enabled: true, baseUrl: row.baseUrl ?? null, model: row.model ?? null, systemPrompt: null,
          apiKeySealed: row.apiKey ? stack.deps.secrets.seal(row.apiKey) : null, updatedAt: new Date(),
        })
        .onConflict('tenantId')
        .merge(),
    );
  }

  // One event through the production path (startAutomationEvent → its delivery workflow on the
  // real worker); resolves to 'completed' or the workflow's failure.
  async function deliverEvent(tenantId: string): Promise<'completed' | WorkflowFailedError> {
    const key = `ssrf:${randomUUID()}`;
    await startAutomationEvent(deps, tenantId, key, 'message.received', { text: 'Oi' });
    const handle = stack.deps.temporal.client.workflow.getHandle(automationEventWorkflowId(tenantId, key));
    // A delivery that is not refused keeps retrying (a 10.x address times out): bounded here, so
    // the test fails instead of waiting for a day of retries.
    let timer: NodeJS.Timeout | undefined;
    const stillRetrying = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void handle.terminate('ssrf test: still retrying').catch(() => {});
        reject(new Error('the delivery was not refused: still retrying after 30 s'));
      }, 30_000);
    });
    return Promise.race([handle.result(), stillRetrying]).finally(() => clearTimeout(timer)).then(
      () => 'completed' as const,
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError, `expected the delivery to fail, got ${String(err)}`);
        return err;
      },
    );
  }
  const refusal = (outcome: 'completed' | WorkflowFailedError): ApplicationFailure => {
    assert.notEqual(outcome, 'completed', 'the delivery was refused');
    const cause = (outcome as WorkflowFailedError).cause;
    assert.ok(cause instanceof ActivityFailure);
    assert.ok(cause.cause instanceof ApplicationFailure);
    return cause.cause;
  };

  describe('saving the URL', () => {
    let fresh: WhatsAppTenant;
    before(async () => {
      fresh = await whatsappTenant(stack);
    });

    it('the automation endpoint: 400 in pt-BR for each internal address, and nothing is saved', async () => {
      for (const target of refusedTargets()) {
        const res = await stack.api.request('put', '/api/automation-endpoint', { token: fresh.admin.token, body: { url: target.url, events: ['message.received'] } });
        assert.equal(res.status, 400, `${target.name}: ${JSON.stringify(res.body)}`);
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.equal(res.body.detail, OUTBOUND_REFUSAL_DETAIL.address, target.name);
        assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ['body.url']);
      }
      const dns = await stack.api.request('put', '/api/automation-endpoint', { token: fresh.admin.token, body: { url: 'https://n8n.nao-existe.invalid/hook', events: ['message.received'] } });
      assert.equal(dns.status, 400, JSON.stringify(dns.body));
      assert.equal(dns.body.detail, 'Não foi possível resolver o nome do host deste endereço. Confira a URL e tente novamente.');
      assert.equal((await stack.api.get('/api/automation-endpoint', { token: fresh.admin.token })).status, 404, 'nothing saved');
      // The operator-allowed host is accepted.
      const ok = await stack.api.request('put', '/api/automation-endpoint', { token: fresh.admin.token, body: { url: allowed.url('/hook'), events: ['message.received'], active: false } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      nothingReachedLoopback();
    });

    it('the AI base URL: 400 in pt-BR for each internal address, and nothing is saved', async () => {
      for (const target of refusedTargets()) {
        const res = await stack.api.request('put', '/api/assistant/ai', { token: fresh.admin.token, body: { enabled: true, baseUrl: target.url, apiKey: TENANT_AI_KEY } });
        assert.equal(res.status, 400, `${target.name}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.detail, OUTBOUND_REFUSAL_DETAIL.address, target.name);
        assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ['body.baseUrl']);
      }
      const dns = await stack.api.request('put', '/api/assistant/ai', { token: fresh.admin.token, body: { enabled: true, baseUrl: 'https://ia.nao-existe.invalid/v1' } });
      assert.equal(dns.status, 400);
      assert.equal(dns.body.detail, OUTBOUND_REFUSAL_DETAIL.dns);
      const read = await stack.api.get('/api/assistant/ai', { token: fresh.admin.token });
      assert.deepEqual([read.body.baseUrl, read.body.hasApiKey], [null, false], 'nothing saved');
      nothingReachedLoopback();
    });

    it('in production (https only) an http URL is refused', async () => {
      const prod = await startStack({ worker: false, env: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.2', OUTBOUND_HTTPS_ONLY: 'true' } });
      try {
        const session = await login(prod, fresh.admin.email, fresh.admin.password);
        const endpoint = await prod.api.request('put', '/api/automation-endpoint', { token: session.accessToken, body: { url: allowed.url('/hook'), events: ['message.received'] } });
        assert.equal(endpoint.status, 400, JSON.stringify(endpoint.body));
        assert.equal(endpoint.body.detail, 'O endereço precisa usar https.');
        const ai = await prod.api.request('put', '/api/assistant/ai', { token: session.accessToken, body: { enabled: true, baseUrl: allowed.url('/v1'), apiKey: TENANT_AI_KEY } });
        assert.equal(ai.status, 400);
        assert.equal(ai.body.detail, 'O endereço precisa usar https.');
      } finally {
        await prod.stop();
      }
    });

    it('without its own key, a tenant may only pick a model the platform allows', async () => {
      const refused = await stack.api.request('put', '/api/assistant/ai', { token: fresh.admin.token, body: { enabled: true, model: 'o1-pro' } });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.detail, /^O modelo o1-pro só pode ser usado com a chave de API da sua empresa\. Com a chave da plataforma, use um destes: gpt-4o-mini/);
      assert.deepEqual(refused.body.errors.map((e: { path: string }) => e.path), ['body.model']);
      const allowedModel = await stack.api.request('put', '/api/assistant/ai', { token: fresh.admin.token, body: { enabled: true, model: 'gpt-4.1-mini' } });
      assert.equal(allowedModel.status, 200, JSON.stringify(allowedModel.body));
      const ownKey = await stack.api.request('put', '/api/assistant/ai', { token: fresh.admin.token, body: { enabled: true, model: 'o1-pro', apiKey: TENANT_AI_KEY } });
      assert.equal(ownKey.status, 200, JSON.stringify(ownKey.body));
    });
  });

  describe('calling the automation endpoint', () => {
    for (const i of [0, 1, 2, 3, 4, 5]) {
      it(`refuses ${['127.0.0.1', 'a 10.x address', '169.254.169.254', '[::1]', 'IPv4-mapped loopback', 'localhost'][i]} at once, without retrying`, async () => {
        const target = refusedTargets()[i]!;
        await storeEndpoint(t.tenantId, target.url);
        const failure = refusal(await deliverEvent(t.tenantId));
        assert.equal(failure.type, 'OutboundRefused', failure.message);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, /loopback|private|linkLocal/);
        nothingReachedLoopback();
      });
    }

    it('a public-looking endpoint that redirects to loopback: the redirect is refused, not followed', async () => {
      await storeEndpoint(t.tenantId, allowed.url('/redirect/hook'));
      const before = allowed.hits.length;
      const failure = refusal(await deliverEvent(t.tenantId));
      assert.equal(failure.type, 'OutboundRefused');
      assert.match(failure.message, /answered 302 .*redirects are not followed/);
      assert.equal(allowed.hits.length, before + 1, 'the allowed host got the one request');
      nothingReachedLoopback();
    });

    it('an operator-allowed host is reached', async () => {
      await storeEndpoint(t.tenantId, allowed.url('/hook'));
      assert.equal(await deliverEvent(t.tenantId), 'completed');
      const hit = allowed.hits.at(-1)!;
      assert.equal(hit.url, '/hook');
      assert.equal(hit.headers['x-orquestra-event'], 'message.received');
      assert.equal(JSON.parse(hit.body).tenantId, t.tenantId);
    });

    it('a guest’s message posts no event to loopback either (the whole path, through the conversation)', async () => {
      await storeEndpoint(t.tenantId, `http://localhost:${loop.port}/hook`);
      const guest = guestPhone();
      await guestSays(stack, t, guest, 'Bom dia!');
      await stack.graph.waitForSent((m) => m.to === guest);
      // The event's delivery starts once the message is stored; give it time to fail.
      const conversation = await until('the conversation', async () => conversationOf(stack, t.tenantId, guest));
      assert.ok(conversation);
      await new Promise((r) => setTimeout(r, 1_000));
      nothingReachedLoopback();
    });
  });

  describe("calling a tenant's own AI endpoint", () => {
    const env = new MockActivityEnvironment();
    const decide = () => env.run(triageActivities(deps).decideReply, { tenantId: t.tenantId, transcript: [], latestText: 'Vocês aceitam pets?' }) as Promise<DecideReplyResult>;

    it('refuses every internal address, the name resolving to loopback, and a redirect to loopback', async () => {
      const targets = [...refusedTargets().map((x) => ({ ...x, url: x.url.replace(/\/hook$/, '/v1') })), { name: 'a redirect to loopback', url: allowed.url('/redirect/v1') }];
      for (const target of targets) {
        await storeAi(t.tenantId, { baseUrl: target.url, apiKey: TENANT_AI_KEY });
        const err = await decide().then(
          () => assert.fail(`${target.name}: the call went through`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof ApplicationFailure, `${target.name}: ${String(err)}`);
        assert.equal(err.type, 'OutboundRefused', `${target.name}: ${err.message}`);
        assert.equal(err.nonRetryable, true);
        nothingReachedLoopback();
      }
    });

    it('an operator-allowed host is reached, with the tenant’s key', async () => {
      await storeAi(t.tenantId, { baseUrl: allowed.url('/v1'), apiKey: TENANT_AI_KEY });
      const d = await decide();
      assert.equal(d.source, 'openai');
      assert.equal(d.action === 'reply' && d.reply, 'Sim, aceitamos pets!');
      assert.equal(allowed.hits.at(-1)?.headers.authorization, `Bearer ${TENANT_AI_KEY}`);
    });

    it('in a real conversation, an AI URL pointing at loopback escalates and loopback hears nothing', async () => {
      await storeAi(t.tenantId, { baseUrl: `http://localhost:${loop.port}/v1`, apiKey: TENANT_AI_KEY });
      const guest = guestPhone();
      await guestSays(stack, t, guest, 'Vocês aceitam pets?');
      await until('escalated', async () => (await conversationOf(stack, t.tenantId, guest))?.status === 'escalated', 20_000);
      nothingReachedLoopback();
    });

    it('the platform key is never spent on a model outside the allow-list', async () => {
      stack.openai!.requests.length = 0;
      await storeAi(t.tenantId, { model: 'o1-pro' });
      await decide();
      assert.equal(stack.openai!.requests.at(-1)?.body.model, stack.config.OPENAI_MODEL, 'the platform model instead');
      await storeAi(t.tenantId, { model: 'gpt-4.1-mini' });
      await decide();
      assert.equal(stack.openai!.requests.at(-1)?.body.model, 'gpt-4.1-mini', 'an allowed model is used');
      await storeAi(t.tenantId, { model: 'o1-pro', apiKey: TENANT_AI_KEY });
      await decide();
      const last = stack.openai!.requests.at(-1);
      assert.deepEqual([last?.body.model, last?.authorization], ['o1-pro', `Bearer ${TENANT_AI_KEY}`], 'with its own key, any model');
    });
  });

  describe('downloading WhatsApp media', () => {
    const env = new MockActivityEnvironment();
    let channelId: string;
    before(async () => {
      channelId = await withTenant(stack.deps.knex, t.tenantId, async (trx) => (await trx('whatsapp_channels').first('id')).id as string);
    });
    const download = (acts: ReturnType<typeof mediaActivities>, mediaId: string) =>
      env.run(acts.downloadMedia, { tenantId: t.tenantId, channelId, messageId: randomUUID(), media: { mediaId, mimeType: 'image/jpeg' } } as Parameters<typeof acts.downloadMedia>[0]);
    const failureOf = async (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('the download went through'),
        (e: unknown) => {
          assert.ok(e instanceof ApplicationFailure, String(e));
          return e;
        },
      );
    const downloadsFromGraph = () => stack.graph.requests.filter((r) => r.path.startsWith('/media-download/')).length;
    const partials = async () => (await readdir(join(stack.config.MEDIA_DIR, t.tenantId)).catch(() => [] as string[])).filter((f) => f.endsWith('.part'));

    it('from the configured Graph API origin: downloaded and kept', async () => {
      const bytes = randomBytes(2_000);
      const mediaId = String(Date.now());
      stack.graph.addMedia({ mediaId, bytes, mimeType: 'image/jpeg' });
      await download(mediaActivities({ ...deps, media: { hosts: META_MEDIA_HOSTS, maxBytes: 4_096 } }), mediaId);
      const row = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('media').where({ metaMediaId: mediaId }).first());
      assert.equal(row?.sha256, createHash('sha256').update(bytes).digest('hex'));
    });

    it('a download URL on another host is refused, and the token never goes there', async () => {
      const mediaId = String(Date.now() + 1);
      stack.graph.addMedia({ mediaId, bytes: randomBytes(500), mimeType: 'image/jpeg' });
      const graphUrl = stack.graph.url;
      const before = downloadsFromGraph();
      // The same server under another name: it would serve the file if asked.
      stack.graph.url = graphUrl.replace('127.0.0.1', 'localhost');
      try {
        const err = await failureOf(download(mediaActivities(deps), mediaId));
        assert.equal(err.type, 'MediaRefused');
        assert.equal(err.nonRetryable, true);
      } finally {
        stack.graph.url = graphUrl;
      }
      assert.equal(downloadsFromGraph(), before, 'nothing was downloaded');
    });

    it('a file bigger than the cap is refused from its announced size, before downloading', async () => {
      const mediaId = String(Date.now() + 2);
      stack.graph.addMedia({ mediaId, bytes: randomBytes(8_192), mimeType: 'image/jpeg' });
      const before = downloadsFromGraph();
      const err = await failureOf(download(mediaActivities({ ...deps, media: { hosts: META_MEDIA_HOSTS, maxBytes: 4_096 } }), mediaId));
      assert.equal(err.type, 'MediaTooLarge');
      assert.equal(downloadsFromGraph(), before);
    });

    describe('from a media server that does not announce the size, or redirects', () => {
      const TOTAL = 1024 * 1024;
      let written = 0;
      let finished = false;
      // How much had been written when the client closed the connection.
      let cutAt: number | undefined;
      const meta = listener('127.0.0.1', (req, res) => {
        if (req.url?.startsWith('/v') && req.url !== '/moved') {
          const id = req.url.split('/').at(-1);
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: meta.url(id === 'moved' ? '/moved' : '/endless'), mime_type: 'image/jpeg' }));
        }
        if (req.url === '/moved') return void res.writeHead(302, { location: `${stack.graph.url}/media-download/x` }).end();
        // Chunked, no content-length: only counting what arrives can stop it.
        written = 0;
        finished = false;
        cutAt = undefined;
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const chunk = randomBytes(1_024);
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          if (written >= TOTAL) {
            clearInterval(timer);
            finished = true;
            return void res.end();
          }
          written += chunk.length;
          res.write(chunk);
        }, 5);
        res.on('close', () => {
          clearInterval(timer);
          if (!finished) cutAt = written;
        });
      });
      let acts: ReturnType<typeof mediaActivities>;
      before(async () => {
        await meta.start();
        acts = mediaActivities({ ...deps, whatsapp: { ...deps.whatsapp, baseUrl: meta.url('') }, media: { hosts: META_MEDIA_HOSTS, maxBytes: 16 * 1024 } });
      });
      after(() => meta.close());

      it('an oversize body is cut off while streaming, and nothing is kept', async () => {
        const err = await failureOf(download(acts, `endless-${Date.now()}`));
        assert.equal(err.type, 'MediaTooLarge');
        const { cut } = await until('the server sees the connection closed', async () => (cutAt === undefined ? undefined : { cut: cutAt }), 10_000);
        assert.ok(!finished && cut < TOTAL, `cut off after ${cut} of ${TOTAL} bytes`);
        assert.deepEqual(await partials(), [], 'no partial file left');
      });

      it('a redirect is not followed', async () => {
        const before = downloadsFromGraph();
        const err = await failureOf(download(acts, 'moved'));
        assert.equal(err.type, 'MediaRefused');
        assert.match(err.message, /302; redirects are not followed/);
        assert.equal(downloadsFromGraph(), before);
      });
    });
  });
});
