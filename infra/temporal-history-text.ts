import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';

// A workflow history as the text it carries: every payload (inputs, signals, updates, activity
// arguments and results, failures' encoded attributes) decoded through the client's own data
// converter (its codecs, then its payload converter), so a codec that seals payloads is read the
// same way the SDK reads it. Used to find the workflows that hold a person's data (an LGPD
// erasure) and by the tests that check none is left. A payload the codecs cannot open (a key
// destroyed) is unreadable, and reads as nothing.

type Decoded = unknown;

function isPayload(v: unknown): v is Payload {
  if (!v || typeof v !== 'object') return false;
  const o = v as { metadata?: unknown; data?: unknown };
  return o.metadata !== null && typeof o.metadata === 'object' && !Array.isArray(o.metadata) && (o.data === undefined || o.data === null || o.data instanceof Uint8Array) && 'encoding' in (o.metadata as object);
}

async function decodePayload(client: Client, payload: Payload): Promise<Decoded> {
  const { payloadCodecs, payloadConverter } = client.workflow.options.loadedDataConverter;
  let p = payload;
  try {
    for (const codec of [...payloadCodecs].reverse()) [p] = (await codec.decode([p])) as [Payload];
    return payloadConverter.fromPayload(p);
  } catch {
    return null;
  }
}

async function walk(client: Client, v: unknown, depth: number): Promise<unknown> {
  if (depth > 64 || v === null || v === undefined) return v;
  if (isPayload(v)) return { decoded: await decodePayload(client, v) };
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v)) return Promise.all(v.map((x) => walk(client, x, depth + 1)));
  if (typeof v === 'object') {
    // Long (protobuf int64) and other value objects print as their string.
    if (typeof (v as { toNumber?: unknown }).toNumber === 'function' && 'low' in (v as object)) return String(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = await walk(client, x, depth + 1);
    return out;
  }
  return v;
}

// The history of one run (the latest when runId is absent) as JSON text, payloads decoded.
export async function decodedHistoryText(client: Client, workflowId: string, runId?: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return JSON.stringify(await walk(client, history, 0));
}
