import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadKeyUnavailable,
  StaticDataKeys,
  TenantPayloadCodec,
  keyIdOf,
  openPayload,
  sealPayload,
  tenantOfContext,
  type DataKey,
} from '../../infra/payload-codec';

const T1 = '6f1c2b7e-3d4a-4b5c-9e8f-0a1b2c3d4e5f';
const T2 = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
const key = (id: string): DataKey => ({ id, key: randomBytes(32) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

describe('tenantOfContext: the tenant is the second segment of the workflow id', () => {
  const cases: [string, Parameters<typeof tenantOfContext>[0], string | null][] = [
    ['a conversation', { type: 'workflow', namespace: 'default', workflowId: `conversation:${T1}:c-1` }, T1],
    ['an activity of a dunning run', { type: 'activity', namespace: 'default', workflowId: `dunning:${T2}:inv`, isLocal: false }, T2],
    ['an upper-case id is the same tenant', { type: 'workflow', namespace: 'default', workflowId: `lead:${T1.toUpperCase()}:x` }, T1],
    ['a provisioning run (no third segment)', { type: 'workflow', namespace: 'default', workflowId: `tenant-provisioning:${T1}` }, T1],
    ['an id without a tenant', { type: 'workflow', namespace: 'default', workflowId: 'bench-bare-1' }, null],
    ['a second segment that is no UUID', { type: 'workflow', namespace: 'default', workflowId: 'x:not-a-uuid:y' }, null],
    ['an activity whose workflow is unknown', { type: 'activity', namespace: 'default', isLocal: true }, null],
    ['no context', undefined, null],
  ];
  for (const [name, context, expected] of cases) {
    it(name, () => assert.equal(tenantOfContext(context), expected));
  }
});

describe('TenantPayloadCodec', () => {
  const k1 = key('k1-tenant-1');
  const k2 = key('k2-tenant-2');
  const kp = key('kp-platform');
  const keys = new StaticDataKeys([k1, k2, kp], (tenant) => (tenant === T1 ? k1 : tenant === T2 ? k2 : kp));
  const codec = new TenantPayloadCodec(keys);
  const guest = { phone: '5511988887777', text: 'Meu quarto é o 512' };
  const plain = defaultPayloadConverter.toPayload(guest) as Payload;

  it('seals under the tenant of the context, names the key, and opens again to the same payload', async () => {
    const [sealed] = await codec.encode([plain], { type: 'workflow', namespace: 'default', workflowId: `conversation:${T1}:c` });
    assert.ok(sealed);
    assert.equal(text(sealed.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(sealed.metadata?.[KEY_ID_METADATA]), 'k1-tenant-1');
    assert.ok(!text(sealed.data).includes('5511988887777') && !text(sealed.data).includes('quarto'));
    const [opened] = await codec.decode([sealed]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened as Payload), guest);
  });

  it('uses the platform key when the context names no tenant', async () => {
    const [sealed] = await codec.encode([plain]);
    assert.equal(keyIdOf(sealed as Payload), 'kp-platform');
  });

  it('two seals of the same payload differ (a fresh IV each time)', async () => {
    const ctx = { type: 'workflow' as const, namespace: 'default', workflowId: `conversation:${T1}:c` };
    const [a] = await codec.encode([plain], ctx);
    const [b] = await codec.encode([plain], ctx);
    assert.notDeepEqual(a?.data, b?.data);
  });

  it('passes plain payloads (written before the codec) through decode, and never seals twice', async () => {
    assert.deepEqual(await codec.decode([plain]), [plain]);
    const [sealed] = await codec.encode([plain]);
    assert.deepEqual(await codec.encode([sealed as Payload]), [sealed]);
  });

  it('refuses a payload whose key id was swapped for another tenant’s, and one with altered bytes', async () => {
    const sealed = sealPayload(plain, k1);
    const moved: Payload = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k2-tenant-2') } };
    await assert.rejects(codec.decode([moved]), /unable to authenticate|auth/i);
    const data = Buffer.from(sealed.data as Uint8Array);
    data[20] = (data[20] as number) ^ 1;
    assert.throws(() => openPayload({ ...sealed, data }, k1), /unable to authenticate|auth/i);
  });

  it('reports a key it does not hold (destroyed, or another deployment’s)', async () => {
    const sealed = sealPayload(plain, key('gone'));
    await assert.rejects(codec.decode([sealed]), (err: unknown) => err instanceof PayloadKeyUnavailable && err.keyId === 'gone');
  });
});
