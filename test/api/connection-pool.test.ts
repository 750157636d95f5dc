import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { callWorkflow } from '../../api/workflow-calls';
import { createKnex, type Knex } from '../../db/connection';
import { resolveContactId } from '../../db/contacts';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { ConnectionHeldError, withRequestTransaction } from '../../db/request-scope';
import { withTenant } from '../../db/tenant-scope';
import { createLogger } from '../../infra/logger';
import { addApiKey, addUser } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// Item 3 of the security issue: no pooled connection is held while a request waits on Temporal,
// a request holds one connection at a time, and the app role's sessions have statement and
// idle-in-transaction timeouts.

const POOL = 5;
const settings = resolveDatabaseSettings();

// The API's sessions (the app role, this database) that have sat inside a transaction, doing
// nothing, for over a second: a request waiting on Temporal with its transaction open.
async function connectionsHeldIdle(): Promise<number> {
  const c = new pg.Client({ connectionString: settings.appUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND usename = $1 AND pid <> pg_backend_pid()
          AND state LIKE 'idle in transaction%' AND now() - state_change > interval '1 second'`,
      [settings.roles.app],
    );
    return rows[0].n as number;
  } finally {
    await c.end();
  }
}

describe('connections while requests wait on Temporal', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack({ env: { DATABASE_POOL_MAX: String(POOL) } });
    t = await whatsappTenant(stack);
  });
  after(async () => stack?.stop());

  it(`50 requests waiting on workflow updates leave a pool of ${POOL} free: other routes answer 200 at once, and no connection sits in a transaction`, async () => {
    assert.equal(stack.config.DATABASE_POOL_MAX, POOL);
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const key = await addApiKey(stack, t, ['messages:send']);
    // Temporal admits 10 updates in flight per workflow: 8 replies to each of 5 conversations.
    const conversations: { id: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const guest = guestPhone();
      await guestSays(stack, t, guest, 'Olá, bom dia!');
      conversations.push(
        await until('the conversation', async () => {
          const c = await conversationOf(stack, t.tenantId, guest);
          return c && c.status !== 'closed' && c;
        }),
      );
    }
    // Without a worker every update waits for its whole deadline (10 s) for an answer.
    await stack.stopWorker();

    const startedAt = Date.now();
    const waiting = [
      ...Array.from({ length: 40 }, (_, i) =>
        stack.api.post(`/api/conversations/${conversations[i % 5]!.id}/reply`, { token: attendant.token, body: { text: `Resposta ${i}` } }),
      ),
      // Sending by phone resolves the contact and the channel first (a nested withTenant).
      ...Array.from({ length: 10 }, () =>
        stack.api.post('/api/automations/messages', { apiKey: key.key, body: { to: guestPhone(), message: { content: { type: 'template', name: 'retomar_contato', language: 'pt_BR' } } } }),
      ),
    ].map((p) => p.then((r) => ({ ...r, ms: Date.now() - startedAt })));

    // Well inside the updates' 10 s: each of them has read its rows and is waiting on Temporal.
    await new Promise((r) => setTimeout(r, 2_500));
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const res = await stack.api.get('/api/contacts', { token: t.admin.token });
      latencies.push(Date.now() - t0);
      assert.equal(res.status, 200, `GET /api/contacts while updates wait: ${res.status} ${JSON.stringify(res.body)}`);
    }
    assert.ok(Math.max(...latencies) < 3_000, `GET /api/contacts took ${latencies.join(', ')} ms while updates waited`);
    assert.equal(await connectionsHeldIdle(), 0, 'no API connection waits inside a transaction');

    const results = await Promise.all(waiting);
    const unanswered = results.filter((r) => r.status === 503);
    assert.equal(unanswered.length, 50, `every update waited for Temporal and got its 503: ${JSON.stringify(results.map((r) => r.status))}`);
    assert.ok(Math.min(...results.map((r) => r.ms)) > 5_000, 'they really waited for the workflow');
  });

  it("a request's reads and writes are committed before it calls Temporal, and it holds one connection at a time", async () => {
    // A pool of one: a second connection taken while the first is held would wait its 10 s out.
    const one = createKnex(settings.appUrl, 1);
    try {
      const waId = guestPhone();
      let seenFromOutside: unknown;
      const started = Date.now();
      await withRequestTransaction(one, { tenantId: t.tenantId }, async (db) => {
        await resolveContactId(db, t.tenantId, { waId });
        await withTenant(one, t.tenantId, async (trx) => trx('contacts').where({ waId }).first('id'));
        await db('contacts').where({ waId }).first('id');
        await callWorkflow(stack.deps, async () => {
          seenFromOutside = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ waId }).first('id'));
        });
        // A query after the call begins a transaction anew; a savepoint inside it still works.
        await db.transaction(async (sp) => sp('contacts').where({ waId }).update({ profileName: 'Depois da chamada' }));
      });
      assert.ok(seenFromOutside, 'the contact written before the Temporal call was committed by then');
      assert.ok(Date.now() - started < 5_000, 'no step waited for a second connection');
      const row = await withTenant(one, t.tenantId, async (trx) => trx('contacts').where({ waId }).first('profileName'));
      assert.equal(row.profileName, 'Depois da chamada');
    } finally {
      await one.destroy();
    }
  });

  it('a Temporal call made with a transaction open, or a scope inside a scope, fails in tests instead of holding a connection', async () => {
    const scope = { tenantId: t.tenantId };
    await assert.rejects(
      withRequestTransaction(stack.deps.knex, scope, async () =>
        withTenant(stack.deps.knex, t.tenantId, async () => callWorkflow(stack.deps, async () => 'never called')),
      ),
      ConnectionHeldError,
    );
    await assert.rejects(
      withRequestTransaction(stack.deps.knex, scope, async () => withTenant(stack.deps.knex, t.tenantId, async () => withTenant(stack.deps.knex, t.tenantId, async () => 1))),
      ConnectionHeldError,
    );
    await assert.rejects(
      withRequestTransaction(stack.deps.knex, scope, async (db) => withTenant(stack.deps.knex, t.tenantId, async () => db('contacts').first('id'))),
      ConnectionHeldError,
    );
  });

  it('a failed handler rolls back what it wrote since its last commit', async () => {
    const waId = guestPhone();
    await assert.rejects(
      withRequestTransaction(stack.deps.knex, { tenantId: t.tenantId }, async (db) => {
        await resolveContactId(db, t.tenantId, { waId });
        throw new Error('the handler fails');
      }),
      /the handler fails/,
    );
    const row = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ waId }).first('id'));
    assert.equal(row, undefined);
  });

  it("work a handler leaves running after its answer cannot begin a transaction nobody would end", async () => {
    let leftOver: Knex.Transaction | undefined;
    await withRequestTransaction(stack.deps.knex, { tenantId: t.tenantId }, async (db) => {
      leftOver = db;
      await db('contacts').first('id');
    });
    await assert.rejects(leftOver!('contacts').first('id'), /request has ended/);
  });
});

describe('database timeouts of the app role', () => {
  let knex: Knex | undefined;
  after(async () => knex?.destroy());

  it('every new session of the app role in this database starts with the configured timeouts', async () => {
    const bare = new URL(settings.appUrl);
    bare.search = '';
    const c = new pg.Client({ connectionString: bare.toString() });
    await c.connect();
    try {
      const statement = await c.query('SHOW statement_timeout');
      const idle = await c.query('SHOW idle_in_transaction_session_timeout');
      assert.equal(statement.rows[0].statement_timeout, '15s');
      assert.equal(idle.rows[0].idle_in_transaction_session_timeout, '30s');
    } finally {
      await c.end();
    }
  });

  it('a long statement is cancelled, and a transaction left idle is ended, at the configured timeouts', async () => {
    const short = resolveDatabaseSettings({ ...process.env, DATABASE_STATEMENT_TIMEOUT_MS: '300', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '500' });
    // The pool's warning about the connection Postgres ended is expected here.
    knex = createKnex(short.appUrl, 2, createLogger('test', 'silent'));
    const t0 = Date.now();
    await assert.rejects(knex.raw('SELECT pg_sleep(5)'), (err: { code?: string }) => err.code === '57014');
    assert.ok(Date.now() - t0 < 3_000, 'cancelled at its timeout, not after the 5 s');
    await assert.rejects(
      knex.transaction(async (trx) => {
        await trx.raw('SELECT 1');
        await new Promise((r) => setTimeout(r, 1_500));
        await trx.raw('SELECT 1');
      }),
    );
    assert.equal((await knex.raw('SELECT 1 AS ok')).rows[0].ok, 1, 'the pool recovers');
  });
});
