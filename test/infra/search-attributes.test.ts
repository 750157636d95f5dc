import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../../infra/temporal';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';

// A cluster (or a reused dev-server file) that lacks our search attributes gets them at start-up.
describe('custom search attribute registration', () => {
  it('adds the missing attributes to a namespace, and is idempotent', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
    try {
      const namespace = `orq-sa-${randomBytes(4).toString('hex')}`;
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
      const names = async () =>
        Object.keys((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {});
      for (let i = 0; i < 50; i++) {
        try {
          await names();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const wanted = SEARCH_ATTRIBUTES.map((k) => k.name).sort();
      assert.deepEqual((await names()).filter((n) => wanted.includes(n)), [], 'a fresh namespace starts without them');

      await ensureSearchAttributes(connection, namespace);
      assert.deepEqual((await names()).filter((n) => wanted.includes(n)).sort(), wanted);
      await ensureSearchAttributes(connection, namespace);
      assert.deepEqual((await names()).filter((n) => wanted.includes(n)).sort(), wanted);
    } finally {
      await connection.close();
    }
  });
});
