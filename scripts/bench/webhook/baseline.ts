import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { sleep, summarize } from './stats';

// What Temporal and Postgres alone can do on this machine, for comparison with the webhook path.

// Bare ceiling: signal-with-start of a workflow type no worker polls, on a task queue of its own,
// to a pool of ids (so most calls signal a running workflow, as the webhook mostly does), at a
// fixed concurrency for a fixed time. The workflows are terminated afterwards.

export async function bareSignalWithStart(client: Client, seconds: number, concurrency: number, runId: string) {
  const taskQueue = `bench-bare-${runId}`;
  const pool = 1024;
  const used = new Set<string>();
  let ok = 0;
  let failed = 0;
  let i = 0;
  const started = Date.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const workflowId = `bench-bare-${runId}-${i++ % pool}`;
        used.add(workflowId);
        try {
          await client.workflow.signalWithStart('benchBareNoop', { workflowId, taskQueue, args: [], signal: 'bump', signalArgs: [i] });
          ok++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const ids = [...used];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let k = w; k < ids.length; k += concurrency) {
        await client.workflow.getHandle(ids[k] as string).terminate('benchmark over').catch(() => {});
      }
    }),
  );
  return { perSec: ok / elapsed, ok, failed, seconds: elapsed };
}

// Probes: while the load runs, one bare signal-with-start (same server, the bare measurement's
// task queue, no worker) and one `SELECT 1` (same Postgres, this script's own small pool) every
// 250 ms, so the acknowledgement latency can be set against what Temporal and Postgres alone
// take at that moment.

export class Probes {
  private readonly temporal: number[] = [];
  private readonly postgres: number[] = [];
  private temporalFailed = 0;
  private postgresFailed = 0;
  private timer?: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<void>>();
  private k = 0;

  constructor(
    private readonly client: Client,
    private readonly knex: Knex,
    private readonly taskQueue: string,
    private readonly runId: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      const k = this.k++;
      this.track(async () => {
        const t0 = Date.now();
        try {
          await this.client.workflow.signalWithStart('benchBareNoop', {
            workflowId: `bench-probe-${this.runId}-${k % 16}`,
            taskQueue: this.taskQueue,
            args: [],
            signal: 'bump',
            signalArgs: [k],
          });
          this.temporal.push(Date.now() - t0);
        } catch {
          this.temporalFailed++;
        }
      });
      this.track(async () => {
        const t0 = Date.now();
        try {
          await this.knex.raw('SELECT 1');
          this.postgres.push(Date.now() - t0);
        } catch {
          this.postgresFailed++;
        }
      });
    }, 250);
  }

  private track(fn: () => Promise<void>): void {
    const p = fn().finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.race([Promise.all(this.inflight), sleep(15_000)]);
  }

  result() {
    return { temporal: summarize(this.temporal), postgres: summarize(this.postgres), temporalFailed: this.temporalFailed, postgresFailed: this.postgresFailed };
  }
}
