import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { PostgresDataKeys } from '../../db/payload-data-keys';
import { isEncrypted, keyIdOf, PayloadKeyUnavailable, TenantPayloadCodec } from '../../infra/payload-codec';
import { SecretBox } from '../../infra/secret-box';
import { superAdmin } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

const CODEC_TOKEN = `codec-${randomUUID()}`;
const UI_ORIGIN = 'http://localhost:8233';

type JsonPayload = { metadata?: Record<string, string>; data?: string };

// Every payload of a JSON history (an object whose metadata has an encoding).
function payloadsOf(node: unknown, out: JsonPayload[] = []): JsonPayload[] {
  if (!node || typeof node !== 'object') return out;
  const meta = (node as { metadata?: unknown }).metadata;
  if (!Array.isArray(node) && meta && typeof meta === 'object' && 'encoding' in meta) out.push(node as JsonPayload);
  else for (const v of Object.values(node)) payloadsOf(v, out);
  return out;
}

const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

describe('personal data in Temporal: payloads sealed per tenant, read through the codec server', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  let root: { token: string };
  const guest = guestPhone();
  const guestName = `Ana Cifrada ${randomUUID().slice(0, 6)}`;
  const guestText = `Meu e-mail é ana.${randomUUID().slice(0, 8)}@exemplo.com.br, quarto 512`;
  let histories: { workflowId: string; json: string; payloads: JsonPayload[] }[] = [];

  before(async () => {
    stack = await startStack({ ai: true, env: { TEMPORAL_CODEC_TOKEN: CODEC_TOKEN, TEMPORAL_UI_ORIGINS: UI_ORIGIN } });
    root = await superAdmin(stack);
    t = await whatsappTenant(stack);
    await guestSays(stack, t, guest, guestText, guestName);
    await until('the assistant answered', async () => stack.graph.sentTo(guest).length > 0, 20_000);
    const conv = await conversationOf(stack, t.tenantId, guest);
    const ids = [t.workflowId, `conversation:${t.tenantId}:${conv.contactId}`];
    histories = await Promise.all(
      ids.map(async (workflowId) => {
        const history = await stack.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
        const json = historyToJSON(history);
        return { workflowId, json, payloads: payloadsOf(JSON.parse(json)) };
      }),
    );
    await recordHistory(stack, ids[1] as string, 'conversation-sealed');
  });
  after(() => stack?.stop());

  it('histories hold no clear text of the guest’s message, phone or name, nor of the admin’s e-mail', async () => {
    const known = [guestText, guestText.split(' ')[3] as string, guest, guestName, t.admin.email];
    for (const h of histories) {
      assert.ok(h.payloads.length > 3, `${h.workflowId} has payloads`);
      // The JSON as stored and every payload's bytes, decoded from base64 as a reader would.
      const visible = [h.json, ...h.payloads.map((p) => b64(p.data)), ...h.payloads.flatMap((p) => Object.values(p.metadata ?? {}).map(b64))].join('\n');
      for (const k of known) assert.ok(!visible.includes(k), `${h.workflowId} shows ${k} in clear`);
    }
  });

  it('every payload but search attributes and patch markers is sealed, under the tenant’s own key', async () => {
    const [row] = (await stack.deps.knex.select('*').from(stack.deps.knex.raw('codec_active_data_key(?)', [t.tenantId]))) as { id: string }[];
    assert.ok(row, 'the tenant has a data key');
    for (const h of histories) {
      const sealed = h.payloads.map((p) => JSONToPayload(p as never)).filter(isEncrypted);
      const plain = h.payloads.filter((p) => !isEncrypted(JSONToPayload(p as never)));
      assert.ok(sealed.length > 0);
      // Search attributes stay readable for the Web UI's filters (ids only: domain/search-attributes.ts),
      // and the SDK's own marker fields (a patch's id, a local activity's attempt and type) carry
      // no data of ours: the local activity's result beside them is sealed.
      for (const p of plain) {
        const value: unknown = JSON.parse(b64(p.data));
        const searchAttribute = typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
        const keys = value && typeof value === 'object' ? Object.keys(value).sort().join() : '';
        const marker = keys === 'deprecated,id' || keys === 'activity_id,activity_type,attempt,backoff,complete_time,original_schedule_time,seq';
        assert.ok(searchAttribute || marker, `an unsealed payload that is neither: ${b64(p.data)}`);
      }
      assert.deepEqual([...new Set(sealed.map(keyIdOf))], [row.id], `${h.workflowId} is sealed under the tenant's key only`);
    }
  });

  it('the sealed payloads do hold the data: the tenant’s key opens them', async () => {
    const conversation = histories[1]!;
    const opened = await stack.deps.payloadCodec.decode(conversation.payloads.map((p) => JSONToPayload(p as never)));
    const textOf = opened.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
    assert.ok(textOf.includes(guestText), 'the message is in the history, sealed');
    const provisioning = await stack.deps.payloadCodec.decode(histories[0]!.payloads.map((p) => JSONToPayload(p as never)));
    assert.ok(provisioning.some((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8').includes(t.admin.email)));
  });

  describe('the codec server', () => {
    const sealedMessage = () => histories[1]!.payloads.find((p) => isEncrypted(JSONToPayload(p as never))) as JsonPayload;
    const decode = (opts: { token?: string; path?: string; origin?: string; body?: unknown } = {}) =>
      fetch(`${stack.api.baseUrl}${opts.path ?? '/codec/decode'}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.origin ? { origin: opts.origin } : {}),
        },
        body: JSON.stringify(opts.body ?? { payloads: histories[1]!.payloads }),
      });

    it('refuses unauthenticated requests, wrong tokens and tenant staff', async () => {
      const none = await decode();
      assert.equal(none.status, 401);
      assert.match(none.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match(((await none.json()) as { detail: string }).detail, /token de operador/);
      assert.equal((await decode({ token: 'not-the-token' })).status, 401);
      assert.equal((await decode({ path: `/codec/not-the-token/decode` })).status, 401);
      const staff = await decode({ token: t.admin.token });
      assert.equal(staff.status, 403);
      const body = JSON.stringify(await staff.json());
      assert.ok(!body.includes(guestText));
    });

    it('opens payloads for the ops token, a platform administrator, and the UI’s path token', async () => {
      for (const res of [await decode({ token: CODEC_TOKEN }), await decode({ token: root.token }), await decode({ path: `/codec/${CODEC_TOKEN}/decode` })]) {
        assert.equal(res.status, 200);
        const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
        assert.equal(payloads.length, histories[1]!.payloads.length);
        assert.ok(payloads.some((p) => b64(p.data).includes(guestText)));
        assert.ok(payloads.every((p) => b64(p.metadata?.encoding) !== 'binary/encrypted'));
      }
    });

    it('answers the Web UI’s origin with CORS, preflight included, and refuses other origins', async () => {
      const pre = await fetch(`${stack.api.baseUrl}/codec/${CODEC_TOKEN}/decode`, {
        method: 'OPTIONS',
        headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), UI_ORIGIN);
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-namespace/);
      const ok = await decode({ path: `/codec/${CODEC_TOKEN}/decode`, origin: UI_ORIGIN });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), UI_ORIGIN);
      const unauthenticated = await decode({ origin: UI_ORIGIN });
      assert.equal(unauthenticated.status, 401);
      assert.equal(unauthenticated.headers.get('access-control-allow-origin'), UI_ORIGIN, 'the UI can read the refusal');
      const evil = await decode({ path: `/codec/${CODEC_TOKEN}/decode`, origin: 'https://evil.example' });
      assert.equal(evil.status, 403);
      assert.equal(evil.headers.get('access-control-allow-origin'), null);
    });

    it('encodes and decodes round trip, and answers 400 to a malformed body', async () => {
      const plain = payloadToJSON(defaultPayloadConverter.toPayload({ hello: 'mundo' }) as Payload);
      const enc = await fetch(`${stack.api.baseUrl}/codec/encode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${CODEC_TOKEN}` },
        body: JSON.stringify({ payloads: [plain] }),
      });
      assert.equal(enc.status, 200);
      const sealed = ((await enc.json()) as { payloads: JsonPayload[] }).payloads;
      assert.equal(b64(sealed[0]?.metadata?.encoding), 'binary/encrypted');
      const dec = await decode({ token: CODEC_TOKEN, body: { payloads: sealed } });
      assert.deepEqual(((await dec.json()) as { payloads: JsonPayload[] }).payloads, [plain]);
      for (const body of [{}, { payloads: 'x' }, { payloads: [{ data: '%%%' }] }, { payloads: [{ ...sealedMessage(), data: Buffer.from('short').toString('base64') }] }]) {
        const res = await decode({ token: CODEC_TOKEN, body });
        assert.equal(res.status, 400, JSON.stringify(body));
      }
    });
  });

  describe('data keys', () => {
    const ctx = (tenantId: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId: `conversation:${tenantId}:c` });

    it('a rotation seals new payloads under a new key and still opens the old ones', async () => {
      const tenantId = randomUUID();
      const keys = new PostgresDataKeys(stack.deps.knex, new SecretBox(stack.config.ENCRYPTION_KEY));
      const codec = new TenantPayloadCodec(keys);
      const payload = defaultPayloadConverter.toPayload('texto do hóspede') as Payload;
      const [before] = await codec.encode([payload], ctx(tenantId));
      await keys.rotate(tenantId);
      const [afterRotation] = await codec.encode([payload], ctx(tenantId));
      assert.notEqual(keyIdOf(before as Payload), keyIdOf(afterRotation as Payload));
      // Another process (a fresh cache) opens both.
      const other = new TenantPayloadCodec(new PostgresDataKeys(stack.deps.knex, new SecretBox(stack.config.ENCRYPTION_KEY)));
      for (const p of await other.decode([before as Payload, afterRotation as Payload])) assert.equal(defaultPayloadConverter.fromPayload(p), 'texto do hóspede');
    });

    it('concurrent first payloads of a tenant create one key', async () => {
      const tenantId = randomUUID();
      const codecs = [0, 1, 2].map(() => new TenantPayloadCodec(new PostgresDataKeys(stack.deps.knex, new SecretBox(stack.config.ENCRYPTION_KEY))));
      const sealed = await Promise.all(codecs.flatMap((c) => [1, 2, 3].map(() => c.encode([defaultPayloadConverter.toPayload(1) as Payload], ctx(tenantId)))));
      assert.equal(new Set(sealed.map(([p]) => keyIdOf(p as Payload))).size, 1);
    });

    it('destroying a tenant’s keys leaves its payloads unreadable to everyone, the codec server included', async () => {
      const tenantId = randomUUID();
      const keys = new PostgresDataKeys(stack.deps.knex, new SecretBox(stack.config.ENCRYPTION_KEY));
      const [sealed] = await new TenantPayloadCodec(keys).encode([defaultPayloadConverter.toPayload('apagar') as Payload], ctx(tenantId));
      assert.equal(await keys.destroy(tenantId), 1);
      const fresh = new TenantPayloadCodec(new PostgresDataKeys(stack.deps.knex, new SecretBox(stack.config.ENCRYPTION_KEY)));
      await assert.rejects(fresh.decode([sealed as Payload]), PayloadKeyUnavailable);
      const res = await fetch(`${stack.api.baseUrl}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${CODEC_TOKEN}` },
        body: JSON.stringify({ payloads: [payloadToJSON(sealed as Payload)] }),
      });
      assert.equal(res.status, 200);
      const [out] = ((await res.json()) as { payloads: JsonPayload[] }).payloads;
      assert.equal(b64(out?.metadata?.encoding), 'binary/encrypted', 'left sealed');
    });
  });
});
