import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, guestSays, until, whatsappTenant } from '../support/whatsapp';

// The worker dies (SIGKILL, no goodbye) in the middle of a burst of guest messages and comes
// back: every message is stored once and every reply goes out once. The fake Graph API posts
// status webhooks as Meta does; that is how a send whose answer died with the worker is known.
describe('worker killed mid-burst', () => {
  let stack: TestStack;
  let worker: ChildProcess | undefined;
  const root = join(__dirname, '..', '..');

  const startWorker = () => {
    worker = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      cwd: root,
      env: { ...stack.env, WORKER_METRICS_PORT: '0', LOG_LEVEL: 'error' } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  };

  before(async () => {
    stack = await startStack({ worker: false, ai: true, statusWebhooks: true, env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '200' } });
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await stack.stop();
  });

  it('processes every message once and sends every reply once', async () => {
    startWorker();
    const t = await whatsappTenant(stack);
    const guests = Array.from({ length: 12 }, () => guestPhone());
    const texts = new Map<string, string[]>();
    const burst = guests.flatMap((g, i) => [0, 1, 2].map((k) => ({ g, text: `pergunta-${i}-${k}` })));
    let sent = 0;
    const sending = (async () => {
      for (const { g, text } of burst) {
        await guestSays(stack, t, g, text);
        texts.set(g, [...(texts.get(g) ?? []), text]);
        sent += 1;
      }
    })();
    await until('some replies before the crash', async () => stack.graph.sent.length >= 3, 60_000);
    worker?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_000));
    startWorker();
    await sending;
    assert.equal(sent, burst.length);

    // Every question shows up in some reply (consecutive replies to a guest may be merged).
    const unanswered = () => {
      const all = stack.graph.sent.map((m) => m.text ?? '').join('\n');
      return burst.filter(({ text }) => !all.includes(text));
    };
    await until('every question answered', async () => unanswered().length === 0, 90_000, 250).catch(async (err) => {
      const { conversationWorkflowId, conversationStateQuery } = await import('../../workflows/conversation');
      const missing = unanswered();
      const states = await Promise.all(
        [...new Set(missing.map((m) => m.g))].map(async (g) => {
          const contact = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ waId: g }).first());
          const h = stack.deps.temporal.client.workflow.getHandle(conversationWorkflowId(t.tenantId, contact.id));
          return { g, state: await h.query(conversationStateQuery).catch((e) => String(e)), desc: (await h.describe()).status.name };
        }),
      );
      throw new Error(`${(err as Error).message}: ${JSON.stringify(missing.map((m) => m.text))} ${JSON.stringify(states)}`);
    });
    await new Promise((r) => setTimeout(r, 1_500));

    for (const { text } of burst) {
      const carrying = stack.graph.sent.filter((m) => (m.text ?? '').split(/\n/).some((line) => line.endsWith(text)));
      assert.equal(carrying.length, 1, `the answer to ${text} went out ${carrying.length} times: ${JSON.stringify(carrying.map((m) => ({ text: m.text, wamid: m.wamid, cb: m.bizOpaqueCallbackData, at: m.receivedAt })))}`);
    }
    const stored = await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('messages').where({ direction: 'inbound' }).select('body'),
    );
    assert.equal(stored.length, burst.length, 'each inbound message stored once');
    // A send whose answer died with the worker gets its wamid from Meta's status webhook, which
    // may come after the reply itself: wait for it rather than for a fixed time.
    const recorded = async () => Number((await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('messages').where({ direction: 'outbound' }).whereNotNull('wamid').count('* as n').first()))?.n);
    await until('every send recorded with its wamid', async () => (await recorded()) >= stack.graph.sent.length, 30_000, 250).catch(() => undefined);
    assert.equal(await recorded(), stack.graph.sent.length, 'every send is recorded with its wamid');
  });
});
