import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/worker';
import { RECORDED_HISTORIES_KEY, replayDataConverter } from '../support/histories';
import * as workflows from '../../workflows';

// Histories recorded from real runs (`npm run record:histories`, see test/support/histories.ts) and committed. Today's workflow
// code must replay every one of them: a change that would break a running workflow fails here
// and needs `patched()`. No server is involved.
const dir = join(__dirname, '..', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('replay of recorded workflow histories', () => {
  it('has recorded histories for every workflow type', () => {
    const types = new Set(files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name));
    // Every workflow the worker runs, a new process's included: record one with recordHistory().
    assert.deepEqual([...types].sort(), Object.keys(workflows).sort());
    // Completed, retried and compensated runs all exist; a conversation handed to people and back, and one closed by inactivity.
    for (const f of ['provisioning-completed.json', 'provisioning-compensated.json', 'conversation-escalated-resolved.json', 'conversation-auto-closed.json', 'automation-delivery-retried.json']) {
      assert.ok(files.includes(f), `missing ${f}`);
    }
  });

  // Histories recorded since the payload codec are sealed under the committed test key (older ones
  // are plain, as running workflows from before it are): the replay opens them with that key.
  it('replays sealed histories with the recorded-histories key, and not without it', async () => {
    const keyId = Buffer.from(RECORDED_HISTORIES_KEY.id).toString('base64');
    const sealed = files.filter((f) => readFileSync(join(dir, f), 'utf8').includes(keyId));
    assert.ok(sealed.includes('conversation-sealed.json'), `sealed histories: ${sealed.join(', ')}`);
    const history = JSON.parse(readFileSync(join(dir, 'conversation-sealed.json'), 'utf8'));
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'conversation-sealed.json'));
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: replayDataConverter }, history, file);
    });
  }
});
