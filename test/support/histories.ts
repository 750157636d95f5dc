import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/worker';
import type { TestStack } from './stack';

export const HISTORIES_DIR = join(__dirname, '..', 'histories');

// A test that drives a workflow through a path worth keeping calls this at the end: the fresh
// history must replay against today's code, and `npm run record:histories` (which runs every test
// file that calls this) writes it to test/histories/ for the replay test. The CLI's JSON is the
// format operators export from production for replay, too.
export async function recordHistory(stack: TestStack, workflowId: string, name: string): Promise<void> {
  const history = await stack.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  if (!process.env.RECORD_HISTORIES) return;
  const cli = process.env.TEMPORAL_CLI ?? 'temporal';
  const json = execFileSync(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', stack.config.TEMPORAL_ADDRESS, '--output', 'json']);
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), json);
}
