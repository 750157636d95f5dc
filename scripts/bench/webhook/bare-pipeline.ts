import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { BareMessage, BarePipelineActivities } from './bare-pipeline-workflow';
import { summarize } from './stats';

// The ceiling of item 3: a bare Temporal pipeline (bare-pipeline-workflow/) on the same server,
// with a worker of its own in this process. `concurrency` guests each send a message, wait for its
// "reply" (the activity) and send the next, for `seconds`. What it reaches is the most a message
// path with these round trips could do here; the webhook's sustained rate is read against it.

const REPLY_TIMEOUT_MS = 30_000;

export async function barePipeline(sealing: Client, o: { address: string; namespace: string; seconds: number; concurrency: number; runId: string }) {
  // Plain payloads both ways: the product's codec is part of what the pipeline leaves out.
  const client = new Client({ connection: sealing.connection, namespace: o.namespace });
  const taskQueue = `bench-pipeline-${o.runId}`;
  const waiting = new Map<string, () => void>();
  const activities: BarePipelineActivities = {
    async bareRecord() {},
    async bareSend(m: BareMessage) {
      waiting.get(m.id)?.();
      waiting.delete(m.id);
    },
  };
  const connection = await NativeConnection.connect({ address: o.address });
  const worker = await Worker.create({
    connection,
    namespace: o.namespace,
    taskQueue,
    workflowsPath: require.resolve('./bare-pipeline-workflow'),
    activities,
  });
  let workerError: unknown;
  const running = worker.run().catch((err: unknown) => {
    workerError = err;
  });
  const latencies: number[] = [];
  let replied = 0;
  let timedOut = 0;
  let failed = 0;
  const ids: string[] = [];
  try {
    const started = Date.now();
    const end = started + o.seconds * 1000;
    await Promise.all(
      Array.from({ length: o.concurrency }, async (_, guest) => {
        const workflowId = `bench-pipeline-${o.runId}-${guest}`;
        ids.push(workflowId);
        for (let k = 0; Date.now() < end; k++) {
          const id = `${guest}-${k}`;
          const t0 = Date.now();
          // One timer per message in flight, cleared by the reply (not thousands left pending).
          const reply = new Promise<boolean>((resolve) => {
            const timeout = setTimeout(() => resolve(false), REPLY_TIMEOUT_MS);
            waiting.set(id, () => {
              clearTimeout(timeout);
              resolve(true);
            });
          });
          try {
            await client.workflow.signalWithStart('benchBarePipeline', { workflowId, taskQueue, args: [], signal: 'message', signalArgs: [{ id }] });
          } catch {
            failed++;
            waiting.delete(id);
            continue;
          }
          if (await reply) {
            replied++;
            latencies.push(Date.now() - t0);
          } else {
            timedOut++;
            waiting.delete(id);
          }
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    if (workerError) throw new Error(`the bare pipeline's worker failed: ${(workerError as Error).message}`);
    return { perSec: replied / elapsed, replied, timedOut, failed, seconds: elapsed, concurrency: o.concurrency, latency: summarize(latencies) };
  } finally {
    await Promise.all(ids.map((id) => client.workflow.getHandle(id).terminate('benchmark over').catch(() => {})));
    worker.shutdown();
    await running;
    await connection.close().catch(() => {});
  }
}
