import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { asaasClientFor } from '../../activities/billing-gateway';
import { messagingActivities, type SendInput } from '../../activities/messaging';
import { whatsappActivities } from '../../activities/whatsapp';
import { MAX_JSON_DEPTH } from '../../api/middleware/json-body';
import { resolveDatabaseSettings } from '../../db/database-settings';
import type { GatewayAccount } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { AsaasClient } from '../../infra/asaas-client';
import { createLogger } from '../../infra/logger';
import { createRedis } from '../../infra/redis';
import { freePort } from '../../scripts/lib/temporal-cli';
import { activityDepsFromConfig } from '../../workers/activity-deps';
import { superAdmin } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, until, whatsappTenant } from '../support/whatsapp';
import { listeningAddresses } from '../support/listening';

// What an operator exposes and what a stop or a hung dependency does: metrics off the public
// port, readiness without internals, bounded waits on Redis and on outbound calls, a forced stop
// that says so in its exit code, bodies nested too deep refused, the resync query on its index.

const ROOT = join(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = createLogger('test', 'silent');

// Accepts connections and never answers: a hung Redis, a tarpit HTTP server.
async function tarpit(): Promise<{ port: number; sockets: Socket[]; closed: () => number; stop: () => Promise<void> }> {
  const sockets: Socket[] = [];
  let closed = 0;
  const server: TcpServer = createTcpServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.on('close', () => closed++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    closed: () => closed,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Child {
  proc: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnEntry(entry: string, env: Record<string, string | undefined>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, output: () => output, exit };
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// The activity's own cancellation, rethrown as it is (not a call failure to retry, not our bound).
const isCancellation = (err: Error) => {
  assert.match(err.name, /^(AbortError|CancelledFailure)$/, `${err.name}: ${err.message}`);
  return true;
};

describe('operations exposure', () => {
  let stack: TestStack;
  const children: ChildProcess[] = [];

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await stack.stop();
  });

  describe('metrics', () => {
    it('are not on the public API port', async () => {
      const res = await stack.api.get('/metrics');
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const internal = await stack.metrics.get('/metrics');
      assert.equal(internal.status, 200);
      assert.match(internal.body as string, /orquestra_http_requests_total/);
    });

    it('with METRICS_TOKEN, are on the public port for that bearer token only', async () => {
      const token = randomBytes(24).toString('hex');
      const withToken = await startStack({ worker: false, env: { METRICS_TOKEN: token } });
      try {
        const none = await withToken.api.get('/metrics');
        assert.equal(none.status, 401, JSON.stringify(none.body));
        assert.match(none.body.detail, /token de métricas/);
        assert.equal((await withToken.api.get('/metrics', { token: `${token}x` })).status, 401);
        const ok = await withToken.api.get('/metrics', { token });
        assert.equal(ok.status, 200);
        assert.match(ok.body as string, /orquestra_http_request_duration_seconds/);
      } finally {
        await withToken.stop();
      }
    });
  });

  describe('readiness', () => {
    it('names the dependency that is down, with no error text', async () => {
      const noRedis = await startStack({ worker: false, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
      try {
        const res = await noRedis.api.get('/ready');
        assert.equal(res.status, 503);
        assert.deepEqual(res.body.down, ['redis']);
        assert.equal(res.body.checks.redis.ok, false);
        assert.ok(['timeout', 'error'].includes(res.body.checks.redis.reason), JSON.stringify(res.body));
        assert.equal(res.body.checks.postgres.ok, true);
        assert.equal(res.body.checks.temporal.ok, true);
        const text = JSON.stringify(res.body);
        assert.doesNotMatch(text, /ECONNREFUSED|127\.0\.0\.1|retries|Connection|timed out|"error":/i, text);
      } finally {
        await noRedis.stop();
      }
    });
  });

  describe('Redis command timeout', () => {
    it('a Redis that accepts connections and never answers fails a command within REDIS_COMMAND_TIMEOUT_MS', async () => {
      const hung = await tarpit();
      const redis = createRedis(`redis://127.0.0.1:${hung.port}`, quiet, { commandTimeoutMs: 300 });
      try {
        const started = Date.now();
        await assert.rejects(within(5_000, 'PING', redis!.ping()), /Command timed out/);
        assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
      } finally {
        redis?.disconnect();
        await hung.stop();
      }
    });

    it('and an authenticated request then answers 503 instead of hanging', async () => {
      const root = await superAdmin(stack);
      const hung = await tarpit();
      const hungStack = await startStack({ worker: false, env: { REDIS_URL: `redis://127.0.0.1:${hung.port}`, REDIS_COMMAND_TIMEOUT_MS: '300' } });
      try {
        const res = await fetch(`${hungStack.baseUrl}/api/me`, { headers: { authorization: `Bearer ${root.token}` }, signal: AbortSignal.timeout(10_000) });
        assert.equal(res.status, 503, await res.text());
        assert.ok(res.headers.get('retry-after'));
      } finally {
        await hungStack.stop();
        await hung.stop();
      }
    });
  });

  describe('JSON nesting', () => {
    it(`refuses a body nested deeper than ${MAX_JSON_DEPTH} levels with a 400 in Portuguese`, async () => {
      const root = await superAdmin(stack);
      const deep = '['.repeat(10_000) + ']'.repeat(10_000);
      for (const [path, raw] of [
        ['/api/auth/login', deep],
        ['/api/tenants', JSON.stringify({ name: 'Pousada Funda', slug: 'funda' }).replace(/}$/, `,"x":${deep}}`)],
      ] as const) {
        const res = await stack.api.post(path, { raw, token: root.token });
        assert.equal(res.status, 400, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.match(res.body.detail, /aninhado demais/);
      }
      // Brackets inside strings are text, not nesting; 64 levels are fine.
      const text = await stack.api.post('/api/auth/login', { raw: JSON.stringify({ email: '['.repeat(500), password: '{'.repeat(500) }) });
      assert.doesNotMatch(String(text.body.detail), /aninhado/);
      const atLimit = await stack.api.post('/api/auth/login', { raw: '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH) });
      assert.equal(atLimit.status, 400);
      assert.doesNotMatch(String(atLimit.body.detail), /aninhado/);
    });
  });

  describe('resync after a seq', () => {
    it('GET /api/messages?afterSeq= reads the (tenant_id, seq) index', async () => {
      const busy = await whatsappTenant(stack);
      const quietTenant = await whatsappTenant(stack);
      const fill = (tenantId: string, n: number) =>
        withTenant(stack.deps.knex, tenantId, async (trx) => {
          const channel = await trx('whatsapp_channels').first('id');
          const contactId = randomUUID();
          const conversationId = randomUUID();
          await trx('contacts').insert({ id: contactId, tenantId, waId: guestPhone() });
          await trx('conversations').insert({ id: conversationId, tenantId, contactId, channelId: channel.id, workflowId: `test-${conversationId}`, status: 'ai' });
          await trx.raw(
            `INSERT INTO messages (id, tenant_id, conversation_id, contact_id, direction, sender_type, type, body, status, occurred_at)
             SELECT gen_random_uuid(), ?, ?, ?, 'inbound', 'contact', 'text', 'mensagem ' || g, 'received', now() FROM generate_series(1, ?) g`,
            [tenantId, conversationId, contactId, n],
          );
        });
      await fill(quietTenant.tenantId, 30);
      await fill(busy.tenantId, 20_000);
      const owner = new pg.Client({ connectionString: resolveDatabaseSettings(stack.env).ownerUrl });
      await owner.connect();
      try {
        const index = await owner.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'messages' AND indexname = 'messages_tenant_seq'`);
        assert.match(index.rows[0]?.indexdef ?? '', /\(tenant_id, seq\)/);
        await owner.query('ANALYZE messages');
      } finally {
        await owner.end();
      }

      // The route's own query, as it ran, explained as the app role runs it.
      const explain = async (t: typeof busy) => {
        const ran: { sql: string; bindings: unknown[] }[] = [];
        const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
          if (/from "messages"/i.test(q.sql) && /"seq" >/.test(q.sql)) ran.push({ sql: q.sql, bindings: q.bindings ?? [] });
        };
        stack.deps.knex.on('query', onQuery);
        try {
          const res = await stack.api.get('/api/messages?afterSeq=0', { token: t.admin.token });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.items.length, t === quietTenant ? 30 : 200);
        } finally {
          stack.deps.knex.off('query', onQuery);
        }
        assert.equal(ran.length, 1, JSON.stringify(ran));
        const { sql, bindings } = ran[0]!;
        return withTenant(stack.deps.knex, t.tenantId, async (trx) => {
          const out = await trx.raw(`EXPLAIN (FORMAT JSON) ${sql.replace(/\$\d+/g, '?')}`, bindings as never);
          return JSON.stringify(out.rows[0]['QUERY PLAN']);
        });
      };
      for (const t of [quietTenant, busy]) {
        const plan = await explain(t);
        // A tenant with few of the rows starts at its own; one with nearly all of them may as well
        // walk seq order. Neither sorts nor scans the table.
        if (t === quietTenant) assert.match(plan, /"Index Name":"messages_tenant_seq"/, plan);
        assert.match(plan, /"Node Type":"Index (Only )?Scan"/, plan);
        assert.doesNotMatch(plan, /"Node Type":"(Sort|Seq Scan)"/, plan);
      }
    });
  });

  describe('activities stop their calls when cancelled', () => {
    it('the WhatsApp credentials check aborts its Graph API request', async () => {
      const hung = await tarpit();
      try {
        const acts = whatsappActivities({
          ...activityDepsFromConfig(stack.config, { knex: stack.deps.knex, redis: stack.deps.redis, log: quiet, client: stack.deps.temporal.client }),
          whatsapp: { baseUrl: `http://127.0.0.1:${hung.port}`, apiVersion: 'v23.0', timeoutMs: 60_000 },
        });
        const env = new MockActivityEnvironment();
        const running = env.run(acts.verifyWhatsAppCredentials, { phoneNumberId: '1', wabaId: '2', accessTokenSealed: stack.deps.secrets.seal('EAAGtoken') });
        await until('the request reached the tarpit', async () => hung.sockets.length > 0, 5_000, 20);
        const started = Date.now();
        env.cancel();
        await assert.rejects(within(5_000, 'cancelled activity', running), isCancellation);
        assert.ok(Date.now() - started < 3_000);
      } finally {
        await hung.stop();
      }
    });

    it('a WhatsApp send aborts its Graph API request (and the message stays in doubt)', async () => {
      const t = await whatsappTenant(stack);
      // Only this tenant's number hangs (for longer than this test, not the 60 s call timeout).
      stack.graph.setLatency(15_000, t.number.phoneNumberId);
      const ids = await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
        const channel = await trx('whatsapp_channels').first('id');
        const contactId = randomUUID();
        const conversationId = randomUUID();
        const waId = guestPhone();
        await trx('contacts').insert({ id: contactId, tenantId: t.tenantId, waId });
        await trx('conversations').insert({ id: conversationId, tenantId: t.tenantId, contactId, channelId: channel.id, workflowId: `test-${conversationId}`, status: 'assigned' });
        return { tenantId: t.tenantId, conversationId, contactId, channelId: channel.id as string, waId };
      });
      const deps = activityDepsFromConfig(stack.config, { knex: stack.deps.knex, redis: stack.deps.redis, log: quiet, client: stack.deps.temporal.client });
      const acts = messagingActivities({ ...deps, whatsapp: { ...deps.whatsapp, timeoutMs: 60_000 } });
      const env = new MockActivityEnvironment();
      const messageId = randomUUID();
      const input: SendInput = {
        ...ids, messageId, to: ids.waId, content: { type: 'text', text: 'Olá!' }, sender: { type: 'system', id: null }, assigneeId: null,
      };
      const running = env.run(acts.sendWhatsAppMessage, input);
      running.catch(() => {});
      await until('the send was attempted', () =>
        withTenant(stack.deps.knex, t.tenantId, async (trx) => Boolean((await trx('messages').where({ id: messageId }).first('sendAttemptedAt'))?.sendAttemptedAt)),
      );
      await sleep(200);
      const started = Date.now();
      env.cancel();
      await assert.rejects(within(5_000, 'cancelled send', running), isCancellation);
      assert.ok(Date.now() - started < 3_000);
      const row = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('messages').where({ id: messageId }).first());
      assert.equal(row.wamid, null);
      assert.ok(row.sendAttemptedAt, 'Meta may have the message: the attempt stays recorded');
    });

    it('an Asaas call made by an activity aborts with it', async () => {
      const hung = createHttpServer((_req: IncomingMessage) => {
        // never answers
      });
      const seen: Socket[] = [];
      hung.on('connection', (s) => seen.push(s));
      await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
      const baseUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/v3`;
      try {
        const account = { environment: 'sandbox', apiKeySealed: stack.deps.secrets.seal('$aact_test_key') } as unknown as GatewayAccount;
        const env = new MockActivityEnvironment();
        const running = env.run(async () => asaasClientFor({ secrets: stack.deps.secrets, gateway: { asaasBaseUrl: baseUrl, timeoutMs: 60_000 } }, account).getCharge('pay_1'));
        await until('the request reached the server', async () => seen.length > 0, 5_000, 20);
        const started = Date.now();
        env.cancel();
        await assert.rejects(within(5_000, 'cancelled Asaas call', running), isCancellation);
        assert.ok(Date.now() - started < 3_000);
        // Outside an activity, the client's own option does the same.
        const controller = new AbortController();
        const call = new AsaasClient({ baseUrl, apiKey: '$aact_test_key', timeoutMs: 60_000, cancellation: controller.signal }).getCharge('pay_2');
        call.catch(() => {});
        await sleep(100);
        controller.abort();
        await assert.rejects(within(3_000, 'aborted Asaas call', call), isCancellation);
      } finally {
        hung.closeAllConnections();
        await new Promise((r) => hung.close(r));
      }
    });
  });

  describe('processes', () => {
    const processEnv = async (extra: Record<string, string>) => ({
      ...stack.env,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
      // Its own: a spawned worker must not take the in-process worker's tasks.
      TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
      LOG_LEVEL: 'info',
      ...extra,
    });

    async function startApi(extra: Record<string, string> = {}) {
      const env = await processEnv(extra);
      const api = spawnEntry('api/server.ts', env);
      children.push(api.proc);
      await until(
        'the API answers',
        async () => {
          if (api.proc.exitCode !== null) throw new Error(`the API exited:\n${api.output()}`);
          return fetch(`http://127.0.0.1:${env.PORT}/health`).then((r) => r.ok, () => false);
        },
        60_000,
        200,
      );
      return { ...api, port: Number(env.PORT), metricsPort: Number(env.METRICS_PORT) };
    }

    // A request whose body never finishes: the server cannot close while it is open.
    function hangingRequest(port: number): Socket {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write('POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":');
      return s;
    }

    it('the API serves /metrics on its loopback metrics port, not on its public port, and stops with 0', async () => {
      const api = await startApi();
      assert.equal((await fetch(`http://127.0.0.1:${api.port}/metrics`)).status, 404);
      const metrics = await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /orquestra_api_process_cpu/);
      assert.deepEqual(listeningAddresses(api.metricsPort), ['0100007F']);
      api.proc.kill('SIGTERM');
      assert.deepEqual(await within(15_000, 'orderly stop', api.exit), { code: 0, signal: null }, api.output());
    });

    it('the API exits 1 when its shutdown grace time runs out with a request still open', async () => {
      const api = await startApi({ API_SHUTDOWN_GRACE_MS: '1500' });
      const s = hangingRequest(api.port);
      await sleep(300);
      api.proc.kill('SIGTERM');
      const exit = await within(15_000, 'forced stop', api.exit);
      s.destroy();
      assert.deepEqual(exit, { code: 1, signal: null }, api.output());
      assert.match(api.output(), /shutdown grace time/);
    });

    it('the API exits 1 at a second stop signal', async () => {
      const api = await startApi({ API_SHUTDOWN_GRACE_MS: '120000' });
      const s = hangingRequest(api.port);
      await sleep(300);
      api.proc.kill('SIGTERM');
      await sleep(1_500);
      assert.equal(api.proc.exitCode, null, 'still draining');
      const t0 = Date.now();
      api.proc.kill('SIGTERM');
      const exit = await within(5_000, 'second signal', api.exit);
      s.destroy();
      assert.deepEqual(exit, { code: 1, signal: null }, api.output());
      assert.ok(Date.now() - t0 < 3_000);
    });

    it('the worker’s metrics listen on loopback only', async () => {
      const port = await freePort();
      const worker = spawnEntry('workers/main.ts', await processEnv({ WORKER_METRICS_PORT: String(port) }));
      children.push(worker.proc);
      await until(
        'the worker exports metrics',
        async () => {
          if (worker.proc.exitCode !== null) throw new Error(`the worker exited:\n${worker.output()}`);
          return fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.ok, () => false);
        },
        120_000,
        250,
      );
      assert.deepEqual(listeningAddresses(port), ['0100007F']);
      // Its stop handlers are installed once it runs (the exporter comes up before that).
      await until('the worker runs', async () => worker.output().includes('worker started'), 120_000, 250);
      worker.proc.kill('SIGTERM');
      assert.deepEqual(await within(30_000, 'worker stop', worker.exit), { code: 0, signal: null }, worker.output());
    });
  });
});
