import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import type { Config } from './config';
import type { Logger } from './logger';

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT_PATH'
  | 'TEMPORAL_TLS_KEY_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

// Shared by the client (API) and the native connection (worker): a local dev server needs none of
// the TLS or API key settings; Temporal Cloud or a secured cluster needs them.
export function temporalConnectionOptions(c: TemporalSettings): ConnectionOptions & NativeConnectionOptions {
  const mtls =
    c.TEMPORAL_TLS_CERT_PATH && c.TEMPORAL_TLS_KEY_PATH
      ? { crt: readFileSync(c.TEMPORAL_TLS_CERT_PATH), key: readFileSync(c.TEMPORAL_TLS_KEY_PATH) }
      : undefined;
  const tls =
    c.TEMPORAL_TLS || mtls || c.TEMPORAL_API_KEY
      ? { serverNameOverride: c.TEMPORAL_TLS_SERVER_NAME, clientCertPair: mtls }
      : undefined;
  return {
    address: c.TEMPORAL_ADDRESS,
    connectTimeout: '3 seconds',
    tls,
    apiKey: c.TEMPORAL_API_KEY,
    metadata: c.TEMPORAL_API_KEY ? { 'temporal-namespace': c.TEMPORAL_NAMESPACE } : undefined,
  };
}

// Lazy: the API must start (and report /ready 503) even while Temporal is still coming up.
export function createTemporalClient(c: TemporalSettings, codec: PayloadCodec): { client: Client; connection: Connection } {
  const connection = Connection.lazy(temporalConnectionOptions(c));
  const client = new Client({ connection, namespace: c.TEMPORAL_NAMESPACE, dataConverter: orquestraDataConverter(codec) });
  return { client, connection };
}

// Every payload through the codec, and failure messages and stack traces too (they can quote
// what a guest wrote): as a payload, they are sealed like the rest. Loaded by path because the
// workflow sandbox converts failures too (workers/worker.ts bundles the same file).
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function orquestraDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}

// The dev server registers them from its flags when the namespace is first created; an existing
// cluster (or a reused dev-server file) needs them added. ALREADY_EXISTS is success.
// Takes a client Connection or the worker's NativeConnection: both expose the operator service.
export async function ensureSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
  }
}

// Every process that talks to Temporal (API, worker, the test runner) makes sure the attributes
// exist: a start that carries one the namespace lacks is refused. Temporal still coming up is
// waited for; a cluster where this process may not add them (Temporal Cloud without admin
// rights) is reported, not fatal.
export async function registerSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
  log: Pick<Logger, 'warn' | 'info'>,
  o: { attempts?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  const attempts = o.attempts ?? Infinity;
  for (let attempt = 1; !o.signal?.aborted; attempt++) {
    try {
      await ensureSearchAttributes(connection, namespace);
      return true;
    } catch (err) {
      const code = (err as { code?: number }).code;
      const refused = code === 7 /* PERMISSION_DENIED */ || code === 16 /* UNAUTHENTICATED */ || code === 12 /* UNIMPLEMENTED */;
      if (refused || attempt >= attempts) {
        log.warn({ err: (err as Error).message }, 'could not register the custom search attributes; register them with `temporal operator search-attribute create`');
        return false;
      }
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)).unref());
    }
  }
  return false;
}
