import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

// Every payload Temporal stores (workflow inputs, signals, updates, activity arguments and
// results, queries, memos, encoded failure texts) is sealed with AES-256-GCM under its tenant's
// data key before it leaves the process, so histories hold no guest's name, phone or message in
// clear. The payload's metadata names the key (`encryption-key-id`), never the tenant's data.
//
// Which tenant: the SDK passes the serialization context (the workflow, or the activity's
// workflow), and every workflow id is `<process>:<tenantId>:<business key>`. Payloads without a
// tenant (no context, or a platform workflow) go under the platform's own data key. Decoding
// needs no context: the key id is in the metadata.

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

export interface DataKey {
  id: string;
  key: Buffer; // 32 bytes
}

// Where the keys live (db/payload-data-keys.ts in the API and the worker; a fixed test key for
// recorded histories). `keyById` answers null for a destroyed or unknown key.
export interface DataKeys {
  activeKey(tenantId: string | null): Promise<DataKey>;
  keyById(id: string): Promise<DataKey | null>;
}

// A payload sealed under a key that was destroyed (a tenant removed for good) or never existed
// here (a history from another deployment).
export class PayloadKeyUnavailable extends Error {
  constructor(readonly keyId: string) {
    super(`payload data key ${keyId} is not available`);
    this.name = 'PayloadKeyUnavailable';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The tenant a payload belongs to, from the workflow id of its context: the second segment of
// `<process>:<tenantId>:…` when it is a UUID.
export function tenantOfContext(context: SerializationContext | undefined): string | null {
  const workflowId = context?.workflowId;
  if (!workflowId) return null;
  const second = workflowId.split(':')[1];
  return second && UUID.test(second) ? second.toLowerCase() : null;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

export function isEncrypted(p: Payload): boolean {
  return text(p.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export function keyIdOf(p: Payload): string | null {
  return isEncrypted(p) ? text(p.metadata?.[KEY_ID_METADATA]) || null : null;
}

// The whole payload (its metadata too: `json/plain` says nothing, but a converter's hints might)
// is serialized and sealed; the key id is the additional data, so a payload moved under another
// key id fails to open.
export function sealPayload(p: Payload, key: DataKey): Payload {
  const plain = temporal.api.common.v1.Payload.encode(p).finish();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(utf8(key.id));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(key.id) },
    data: Buffer.concat([iv, body, cipher.getAuthTag()]),
  };
}

export function openPayload(p: Payload, key: DataKey): Payload {
  const data = Buffer.from(p.data ?? new Uint8Array());
  if (data.length < 28) throw new Error('encrypted payload too short');
  const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, 12));
  decipher.setAAD(utf8(key.id));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
  const decoded = temporal.api.common.v1.Payload.decode(plain);
  return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
}

export class TenantPayloadCodec implements PayloadCodec {
  constructor(private readonly keys: DataKeys) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    const key = await this.keys.activeKey(tenantOfContext(context));
    return payloads.map((p) => (isEncrypted(p) ? p : sealPayload(p, key)));
  }

  // Payloads written before the codec (running workflows, older recorded histories) are plain
  // and pass through.
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) => {
        const keyId = keyIdOf(p);
        if (!keyId) return p;
        const key = await this.keys.keyById(keyId);
        if (!key) throw new PayloadKeyUnavailable(keyId);
        return openPayload(p, key);
      }),
    );
  }
}

// Keys held in memory: a fixed test key for recorded histories, or a process's own.
export class StaticDataKeys implements DataKeys {
  private readonly byId = new Map<string, DataKey>();
  constructor(
    keys: DataKey[],
    private readonly active: (tenantId: string | null) => DataKey,
  ) {
    for (const k of keys) this.byId.set(k.id, k);
  }
  async activeKey(tenantId: string | null): Promise<DataKey> {
    return this.active(tenantId);
  }
  async keyById(id: string): Promise<DataKey | null> {
    return this.byId.get(id) ?? null;
  }
}
