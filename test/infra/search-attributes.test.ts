import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { HttpProblem } from '../../api/problem';
import { startWorkflow, TemporalRefused } from '../../api/workflow-calls';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { ensureSearchAttributes, registerSearchAttributes } from '../../infra/temporal';
import { provisioningStart } from '../../workflows/provisioning';

const silent = { warn() {}, info() {} };

// A cluster (or a reused dev-server file) that lacks our search attributes gets them at start-up.
describe('custom search attribute registration', () => {
  async function freshNamespace(connection: Connection) {
    const namespace = `orq-sa-${randomBytes(4).toString('hex')}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const names = async () => Object.keys((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {});
    for (let i = 0; i < 50; i++) {
      try {
        await names();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const wanted = SEARCH_ATTRIBUTES.map((k) => k.name).sort();
    const ours = async () => (await names()).filter((n) => wanted.includes(n)).sort();
    return { namespace, wanted, ours };
  }

  it('adds the missing attributes to a namespace, and is idempotent', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
    try {
      const { namespace, wanted, ours } = await freshNamespace(connection);
      assert.deepEqual(await ours(), [], 'a fresh namespace starts without them');
      await ensureSearchAttributes(connection, namespace);
      assert.deepEqual(await ours(), wanted);
      await ensureSearchAttributes(connection, namespace);
      assert.deepEqual(await ours(), wanted);
    } finally {
      await connection.close();
    }
  });

  it('a start Temporal refuses for a missing attribute is a configuration fault, not an outage; registering fixes it', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
    try {
      const { namespace } = await freshNamespace(connection);
      const deps = { temporal: { client: new Client({ connection, namespace }), connection, namespace, taskQueue: `sa-${randomUUID()}` } };
      const tenantId = randomUUID();
      const start = provisioningStart({
        tenantId,
        slug: `sa-${tenantId.slice(0, 8)}`,
        name: 'Sem atributos',
        plan: 'trial',
        admin: { name: 'Ana', email: `ana-${tenantId}@example.com.br`, passwordHash: 'x' },
        requestedBy: { type: 'system', id: null },
      });
      const refused = await startWorkflow(deps as never, start).then(
        () => assert.fail('the start should have been refused'),
        (err: unknown) => err,
      );
      assert.ok(refused instanceof TemporalRefused, String(refused));
      assert.equal((refused as HttpProblem).status, 500);
      assert.equal(refused.grpcCode, 3 /* INVALID_ARGUMENT */);
      assert.match(refused.temporalMessage, /Orquestra/);

      assert.equal(await registerSearchAttributes(connection, namespace, silent, { attempts: 3 }), true);
      // The dev server's visibility cache picks new attributes up within a few seconds.
      let started: unknown;
      for (let i = 0; i < 50 && !started; i++) {
        started = await startWorkflow(deps as never, start).catch(async (err: unknown) => {
          if (!(err instanceof TemporalRefused)) throw err;
          await new Promise((r) => setTimeout(r, 200));
          return undefined;
        });
      }
      assert.ok(started, 'the start goes through once the attributes exist');
      await deps.temporal.client.workflow.getHandle(start.workflowId).terminate('test over');
    } finally {
      await connection.close();
    }
  });
});
