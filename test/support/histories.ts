import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { historyToJSON, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { isEncrypted, StaticDataKeys, TenantPayloadCodec, type DataKey } from '../../infra/payload-codec';
import { orquestraDataConverter } from '../../infra/temporal';
import { workflowBundle } from '../../workers/worker';
import type { TestStack } from './stack';

export const HISTORIES_DIR = join(__dirname, '..', 'histories');

// Recorded histories are sealed like production ones, under a key that is committed with them
// (it guards fake test data only): the replay test then exercises the codec too, and a history
// exported from production replays the same way with that deployment's codec.
export const RECORDED_HISTORIES_KEY: DataKey = {
  id: '0000000b-0000-4000-8000-000000000001',
  key: createHash('sha256').update('orquestra recorded histories: a test key, not a secret').digest(),
};
export const recordedHistoriesCodec = new TenantPayloadCodec(new StaticDataKeys([RECORDED_HISTORIES_KEY], () => RECORDED_HISTORIES_KEY));
export const replayDataConverter = orquestraDataConverter(recordedHistoriesCodec);

// A test that drives a workflow through a path worth keeping calls this at the end: the fresh
// history must replay against today's code, and `npm run record:histories` (which runs every test
// file that calls this) writes it to test/histories/ for the replay test, in the CLI's JSON (what
// operators export from production for replay), its sealed payloads moved to the committed key.
export async function recordHistory(stack: TestStack, workflowId: string, name: string): Promise<void> {
  const history = await stack.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: orquestraDataConverter(stack.deps.payloadCodec) }, history, workflowId);
  if (!process.env.RECORD_HISTORIES) return;
  const json: unknown = JSON.parse(historyToJSON(history));
  await resealPayloads(json, stack.deps.payloadCodec, recordedHistoriesCodec);
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
}

// Every sealed payload in a JSON history, opened with one codec and sealed again with another;
// plain ones (search attributes, headers) stay as they are.
async function resealPayloads(node: unknown, from: PayloadCodec, to: PayloadCodec): Promise<void> {
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (looksLikePayload(v)) {
      const payload = JSONToPayload(v as Parameters<typeof JSONToPayload>[0]);
      if (isEncrypted(payload)) obj[k] = payloadToJSON((await to.encode(await from.decode([payload])))[0]!);
    } else {
      await resealPayloads(v, from, to);
    }
  }
}

function looksLikePayload(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const m = (v as { metadata?: unknown }).metadata;
  return !!m && typeof m === 'object' && 'encoding' in (m as object);
}

// A workflow's history as an operator reads it through the codec server: the JSON with every
// sealed payload opened. For assertions that something is not in a history even decoded.
export async function decodedHistoryJson(stack: TestStack, workflowId: string): Promise<string> {
  const history = await stack.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const json: unknown = JSON.parse(historyToJSON(history));
  await openPayloads(json, stack.deps.payloadCodec);
  return JSON.stringify(json);
}

async function openPayloads(node: unknown, codec: PayloadCodec): Promise<void> {
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (looksLikePayload(v)) {
      const [opened] = await codec.decode([JSONToPayload(v as Parameters<typeof JSONToPayload>[0])]);
      obj[k] = { ...payloadToJSON(opened!), decoded: Buffer.from(opened!.data ?? new Uint8Array()).toString('utf8') };
    } else {
      await openPayloads(v, codec);
    }
  }
}
