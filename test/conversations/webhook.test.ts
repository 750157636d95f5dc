import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Signature } from '../../infra/hmac-signature';
import { withTenant } from '../../db/tenant-scope';
import {
  audioMessage,
  buttonReply,
  contact,
  contactsMessage,
  documentMessage,
  flowReply,
  imageMessage,
  listReply,
  locationMessage,
  mediaId,
  metaEnvelope,
  reactionMessage,
  statusUpdate,
  stickerMessage,
  systemMessage,
  templateQuickReply,
  textMessage,
  unsupportedMessage,
  videoMessage,
  wamid,
  WEBHOOK_ERRORS,
  type MetaBatch,
  type MetaObject,
} from '../fakes/meta-payloads';
import { lastUserText } from '../fakes/openai';
import { conversationWorkflowId } from '../../workflows/conversation';
import { uid } from '../support/fixtures';
import { startStack, TEST_APP_SECRET, TEST_VERIFY_TOKEN, type TestStack } from '../support/stack';
import { guestPhone, guestSays, postWebhook, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// Meta's webhook end to end: real API, real Temporal, real Postgres; only Meta's Graph API and
// OpenAI are loopback fakes. Every test uses guests of its own, so tests sharing a stack do not
// see each other's messages.

// ---------------------------------------------------------------------------------------------
// Helpers

// One change for the tenant's number, in Meta's envelope.
const envelopeFor = (t: WhatsAppTenant, b: Omit<MetaBatch, 'wabaId' | 'phoneNumberId'>) =>
  metaEnvelope([{ wabaId: t.number.wabaId, phoneNumberId: t.number.phoneNumberId, ...b }]);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function messagesWithWamid(stack: TestStack, tenantId: string, id: string): Promise<any[]> {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('messages').where({ wamid: id }));
}

async function messageWithWamid(stack: TestStack, tenantId: string, id: string): Promise<any> {
  const rows = await messagesWithWamid(stack, tenantId, id);
  assert.ok(rows.length <= 1, `${rows.length} rows for wamid ${id}`);
  return rows[0];
}

// A guest's contacts, found by either identifier Meta may use.
async function contactsOf(stack: TestStack, tenantId: string, ids: { waId?: string; userId?: string }): Promise<any[]> {
  return withTenant(stack.deps.knex, tenantId, async (trx) =>
    trx('contacts').where((q) => {
      if (ids.waId) q.orWhere({ waId: ids.waId });
      if (ids.userId) q.orWhere({ userId: ids.userId });
    }),
  );
}

async function conversationsOfContact(stack: TestStack, tenantId: string, contactId: string): Promise<any[]> {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('conversations').where({ contactId }));
}

async function inboundOfContact(stack: TestStack, tenantId: string, contactId: string): Promise<any[]> {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('messages').where({ contactId, direction: 'inbound' }).orderBy('seq'));
}

async function statusEventsOf(stack: TestStack, tenantId: string, id: string): Promise<any[]> {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('message_status_events').where({ wamid: id }).orderBy('status'));
}

// Waits for the workflow to store an inbound message.
const stored = (stack: TestStack, t: WhatsAppTenant, id: string, timeoutMs?: number) =>
  until(`message ${id} stored`, () => messageWithWamid(stack, t.tenantId, id), timeoutMs);

// Posts a correctly signed delivery and insists on Meta's 200.
async function deliver(stack: TestStack, payload: unknown): Promise<void> {
  const res = await postWebhook(stack, payload);
  assert.equal(res.status, 200, `webhook refused: ${res.status} ${JSON.stringify(res.body)}`);
}

// A guest's AI answer, sent through the fake Graph API and stored with its wamid: what status
// webhooks refer to.
async function aiReplyTo(stack: TestStack, t: WhatsAppTenant, from: string, text: string) {
  await guestSays(stack, t, from, text);
  const sent = await stack.graph.waitForSent((m) => m.to === from, 15_000);
  const row = await until(`reply ${sent.wamid} stored`, () => messageWithWamid(stack, t.tenantId, sent.wamid));
  assert.equal(row.direction, 'outbound');
  return { wamid: sent.wamid as string, row };
}

// Every signal delivered before this call has been handled once the workflow has answered a
// later message: a conversation handles its signals in order. This replaces fixed sleeps when a
// test must show that something did NOT happen.
async function drainConversation(stack: TestStack, t: WhatsAppTenant, from: string): Promise<void> {
  const marker = `sentinela-${uid()}`;
  await guestSays(stack, t, from, `Obrigado! ${marker}`);
  await stack.graph.waitForSent((m) => m.to === from && (m.text ?? '').includes(marker), 15_000);
}

const isProblem = (res: { headers: Headers }) => /^application\/problem\+json/.test(res.headers.get('content-type') ?? '');

// ---------------------------------------------------------------------------------------------

describe('WhatsApp webhook: verification handshake', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: false });
  });
  after(async () => stack.stop());

  const verify = (query: Record<string, string>) => stack.api.get(`/webhooks/whatsapp?${new URLSearchParams(query)}`);

  it('echoes hub.challenge as plain text when the verify token matches', async () => {
    const res = await verify({ 'hub.mode': 'subscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '123' });
    assert.equal(res.status, 200);
    assert.equal(res.body, '123');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  });

  it('refuses a wrong verify token with 403 and never echoes the challenge', async () => {
    const sameLength = `${TEST_VERIFY_TOKEN.slice(0, -1)}${TEST_VERIFY_TOKEN.endsWith('x') ? 'y' : 'x'}`;
    for (const token of ['wrong-token', sameLength, `${TEST_VERIFY_TOKEN}-extra`, '']) {
      const res = await verify({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '123' });
      assert.equal(res.status, 403, `token ${JSON.stringify(token)}`);
      assert.notEqual(res.body, '123');
    }
    const noToken = await verify({ 'hub.mode': 'subscribe', 'hub.challenge': '123' });
    assert.equal(noToken.status, 403);
  });

  it('refuses a missing or different hub.mode with 403', async () => {
    const missing = await verify({ 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '123' });
    assert.equal(missing.status, 403);
    assert.notEqual(missing.body, '123');
    const other = await verify({ 'hub.mode': 'unsubscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '123' });
    assert.equal(other.status, 403);
  });
});

describe('WhatsApp webhook: signatures and payload validation', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    // With the AI on, a message that slipped through would be answered: that is observable.
    stack = await startStack({ ai: true });
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  it('refuses unsigned, mis-signed, tampered and malformed-signature deliveries with 401, storing and starting nothing', async () => {
    const from = guestPhone();
    const forged: string[] = [];
    const payload = (label: string) => {
      const msg = textMessage({ from, body: `Quero reservar por R$ 100 (${label})` });
      forged.push(msg.id as string);
      return JSON.stringify(envelopeFor(t, { messages: [msg] }));
    };

    const signedWith = (what: string, header: (raw: string) => string | undefined) => {
      const raw = payload(what);
      return { what, raw, signature: header(raw) };
    };
    const attempts = [
      signedWith('no header', () => undefined),
      signedWith('empty header', () => ''),
      signedWith('another app secret', (raw) => sha256Signature(raw, 'another-app-secret')),
      signedWith('malformed sha256=zz', () => 'sha256=zz'),
      signedWith('md5 header', (raw) => `md5=${createHash('md5').update(raw).digest('hex')}`),
      signedWith('hex without the sha256= prefix', (raw) => sha256Signature(raw, TEST_APP_SECRET).slice('sha256='.length)),
    ];
    // Signed correctly, then one byte changed in transit.
    const original = payload('adulterado');
    const tampered = original.replace('R$ 100', 'R$ 900');
    assert.notEqual(tampered, original);
    assert.equal(Buffer.byteLength(tampered), Buffer.byteLength(original));
    attempts.push({ what: 'body tampered after signing', raw: tampered, signature: sha256Signature(original, TEST_APP_SECRET) });

    for (const a of attempts) {
      const headers: Record<string, string> = a.signature === undefined ? {} : { 'x-hub-signature-256': a.signature };
      const res = await stack.api.post('/webhooks/whatsapp', { raw: a.raw, headers });
      assert.equal(res.status, 401, `${a.what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(isProblem(res), `${a.what}: problem+json expected`);
    }

    // Nothing was recorded: no contact (a conversation workflow id needs one), no message.
    assert.deepEqual(await contactsOf(stack, t.tenantId, { waId: from }), []);
    for (const id of forged) assert.deepEqual(await messagesWithWamid(stack, t.tenantId, id), [], `forged ${id} stored`);

    // The same guest's genuine message goes through, so the pipeline was live all along; by the
    // time it is answered, any signal sent before it would have been handled too.
    const genuine = textMessage({ from, body: 'Mensagem verdadeira' });
    await deliver(stack, envelopeFor(t, { messages: [genuine] }));
    await stack.graph.waitForSent((m) => m.to === from, 15_000);
    const [contact] = await contactsOf(stack, t.tenantId, { waId: from });
    assert.ok(contact);
    assert.deepEqual((await inboundOfContact(stack, t.tenantId, contact.id)).map((m) => m.wamid), [genuine.id]);
    for (const id of forged) assert.deepEqual(await messagesWithWamid(stack, t.tenantId, id), []);
    assert.equal(stack.graph.sentTo(from).length, 1, 'only the genuine message was answered');
    assert.ok(!stack.openai!.requests.some((r) => /R\$ [19]00/.test(lastUserText(r))), 'a forged message reached the AI');
  });

  it('answers 400 to a correctly signed body that is not JSON', async () => {
    const from = guestPhone();
    const raw = JSON.stringify(envelopeFor(t, { messages: [textMessage({ from, body: 'cortado' })] })).slice(0, -7);
    const res = await postWebhook(stack, raw);
    assert.equal(res.status, 400);
    assert.ok(isProblem(res));
    assert.deepEqual(await contactsOf(stack, t.tenantId, { waId: from }), []);
  });

  it("answers 400 problem+json naming the offending path when the signed envelope is not Meta's", async () => {
    const from = guestPhone();
    const good = textMessage({ from, body: 'esta está certa' });
    const change = { field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: t.number.phoneNumberId }, messages: [good] } };
    const cases: { what: string; payload: unknown; path: string }[] = [
      { what: 'not a WhatsApp object', payload: { object: 'page', entry: [{ id: t.number.wabaId, changes: [change] }] }, path: 'body.object' },
      { what: 'entry is not an array', payload: { object: 'whatsapp_business_account', entry: {} }, path: 'body.entry' },
      { what: 'changes is not an array', payload: { object: 'whatsapp_business_account', entry: [{ id: t.number.wabaId, changes: change }] }, path: 'body.entry[0].changes' },
    ];
    for (const c of cases) {
      const res = await postWebhook(stack, c.payload);
      assert.equal(res.status, 400, `${c.what}: ${res.status}`);
      assert.ok(isProblem(res), c.what);
      const paths = ((res.body.errors ?? []) as { path: string }[]).map((e) => e.path);
      assert.ok(paths.includes(c.path), `${c.what}: expected ${c.path} among ${JSON.stringify(paths)}`);
    }
    // A rejected delivery is rejected whole: its valid message was not taken either.
    assert.deepEqual(await contactsOf(stack, t.tenantId, { waId: from }), []);
    assert.deepEqual(await messagesWithWamid(stack, t.tenantId, good.id as string), []);
  });

  // Each change and message is judged on its own: one we cannot use must not make Meta redeliver
  // (forever) the guest messages next to it.
  it('inside a valid envelope, skips the messages and changes it cannot use and stores the rest', async () => {
    const from = guestPhone();
    const good = textMessage({ from, body: 'esta está certa' });
    const late = textMessage({ from, body: 'esta também' });
    const badTimestamp: MetaObject = { ...textMessage({ from, body: 'x' }), timestamp: 'ontem' };
    const noBody: MetaObject = { ...textMessage({ from, body: 'y' }), text: {} };
    const payload = envelopeFor(t, { messages: [good, badTimestamp, noBody] });
    payload.entry[0]!.changes.push(
      { field: 'messages', value: { messaging_product: 'whatsapp', metadata: {}, messages: [textMessage({ from, body: 'sem número' })] } },
      { field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } },
      { field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: t.number.phoneNumberId }, messages: [late] } },
    );
    await deliver(stack, payload);
    const [contact] = await until('contact', () => contactsOf(stack, t.tenantId, { waId: from }).then((c) => c.length > 0 && c));
    const rows = await until('2 inbound messages', async () => {
      const r = await inboundOfContact(stack, t.tenantId, contact.id);
      return r.length >= 2 && r;
    });
    assert.deepEqual(rows.map((r) => r.body), ['esta está certa', 'esta também']);
    for (const m of [badTimestamp, noBody]) assert.deepEqual(await messagesWithWamid(stack, t.tenantId, m.id as string), []);
  });

  it('acknowledges a delivery for an unknown phone_number_id with 200 and stores nothing', async () => {
    const from = guestPhone();
    const msg = textMessage({ from, body: 'Olá, número desconhecido' });
    const unknownNumber = { wabaId: '299999999999999', phoneNumberId: '199999999999999' };
    const status = statusUpdate({ id: wamid(), status: 'delivered', recipientId: from });
    const res = await postWebhook(stack, metaEnvelope([{ ...unknownNumber, messages: [msg], statuses: [status] }]));
    assert.equal(res.status, 200);
    assert.deepEqual(await contactsOf(stack, t.tenantId, { waId: from }), []);
    assert.deepEqual(await messagesWithWamid(stack, t.tenantId, msg.id as string), []);
    assert.deepEqual(await statusEventsOf(stack, t.tenantId, status.id as string), []);

    // Next to a known number in the same delivery, the known number's part is still processed.
    const known = textMessage({ from, body: 'Agora para o número certo' });
    await deliver(stack, metaEnvelope([
      { ...unknownNumber, messages: [textMessage({ from, body: 'perdida' })] },
      { wabaId: t.number.wabaId, phoneNumberId: t.number.phoneNumberId, messages: [known] },
    ]));
    const row = await stored(stack, t, known.id as string);
    assert.equal(row.body, 'Agora para o número certo');
    const [contact] = await contactsOf(stack, t.tenantId, { waId: from });
    await stack.graph.waitForSent((m) => m.to === from, 15_000);
    assert.deepEqual((await inboundOfContact(stack, t.tenantId, contact.id)).map((m) => m.body), ['Agora para o número certo']);
  });
});

describe('WhatsApp webhook: inbound message types', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack(); // rule-based AI: replies do not matter here
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  // Delivers one message from a new guest and returns its stored row, after checking it landed
  // as the guest's inbound message in the guest's only conversation.
  async function receiveOne(from: string, msg: MetaObject): Promise<any> {
    await deliver(stack, envelopeFor(t, { messages: [msg] }));
    const row = await stored(stack, t, msg.id as string);
    assert.equal(row.direction, 'inbound');
    assert.equal(row.senderType, 'contact');
    assert.equal(row.status, 'received');
    const contacts = await contactsOf(stack, t.tenantId, { waId: from });
    assert.equal(contacts.length, 1);
    assert.equal(row.contactId, contacts[0].id);
    const conversations = await conversationsOfContact(stack, t.tenantId, contacts[0].id);
    assert.deepEqual(conversations.map((c) => c.id), [row.conversationId], 'one conversation per guest');
    return row;
  }

  // Registers the file on the fake Graph API and returns what the payload builder needs.
  function media(mimeType: string) {
    const bytes = randomBytes(512 + Math.floor(Math.random() * 512));
    const id = mediaId();
    stack.graph.addMedia({ mediaId: id, bytes, mimeType });
    return { mediaId: id, bytes, mimeType };
  }

  // The file was downloaded, checked and kept: media row, link from the message, bytes on disk.
  async function assertMediaKept(row: any, m: { mediaId: string; bytes: Buffer; mimeType: string }, filename: string | null = null) {
    const linked = await until('media linked to the message', async () => {
      const r = await messageWithWamid(stack, t.tenantId, row.wamid);
      return r?.mediaId ? r : undefined;
    });
    const file = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('media').where({ id: linked.mediaId }).first());
    assert.ok(file, 'media row');
    assert.equal(file.metaMediaId, m.mediaId);
    assert.equal(file.sha256, sha256(m.bytes));
    assert.equal(Number(file.sizeBytes), m.bytes.length);
    assert.equal(file.mimeType, m.mimeType);
    assert.equal(file.filename, filename);
    const onDisk = await readFile(join(stack.config.MEDIA_DIR, t.tenantId, sha256(m.bytes)));
    assert.ok(onDisk.equals(m.bytes), 'stored file has the downloaded bytes');
  }

  it('text: stored with its body', async () => {
    const from = guestPhone();
    const row = await receiveOne(from, textMessage({ from, body: 'Vocês têm estacionamento? 🚗' }));
    assert.equal(row.type, 'text');
    assert.equal(row.body, 'Vocês têm estacionamento? 🚗');
  });

  it('image: stored with its caption, file downloaded', async () => {
    const from = guestPhone();
    const m = media('image/jpeg');
    const row = await receiveOne(from, imageMessage({ from, ...m, caption: 'Foto do quarto 12' }));
    assert.equal(row.type, 'image');
    assert.equal(row.body, 'Foto do quarto 12');
    await assertMediaKept(row, m);
  });

  it('audio (voice note): stored without body, file downloaded', async () => {
    const from = guestPhone();
    const m = media('audio/ogg; codecs=opus');
    const row = await receiveOne(from, audioMessage({ from, ...m, voice: true }));
    assert.equal(row.type, 'audio');
    assert.equal(row.body, '');
    assert.equal(row.payload.media.voice, true);
    await assertMediaKept(row, m);
  });

  it('video: stored with its caption, file downloaded', async () => {
    const from = guestPhone();
    const m = media('video/mp4');
    const row = await receiveOne(from, videoMessage({ from, ...m, caption: 'Vazamento no banheiro' }));
    assert.equal(row.type, 'video');
    assert.equal(row.body, 'Vazamento no banheiro');
    await assertMediaKept(row, m);
  });

  it('document: stored with its caption, file downloaded under its filename', async () => {
    const from = guestPhone();
    const m = media('application/pdf');
    const row = await receiveOne(from, documentMessage({ from, ...m, filename: 'comprovante-reserva.pdf', caption: 'Segue o comprovante' }));
    assert.equal(row.type, 'document');
    assert.equal(row.body, 'Segue o comprovante');
    await assertMediaKept(row, m, 'comprovante-reserva.pdf');
  });

  it('sticker: stored without body, file downloaded', async () => {
    const from = guestPhone();
    const m = media('image/webp');
    const row = await receiveOne(from, stickerMessage({ from, ...m }));
    assert.equal(row.type, 'sticker');
    assert.equal(row.body, '');
    await assertMediaKept(row, m);
  });

  it('location: stored with the place name and coordinates', async () => {
    const from = guestPhone();
    const row = await receiveOne(
      from,
      locationMessage({ from, latitude: -23.5614, longitude: -46.6559, name: 'Estação Trianon-Masp', address: 'Av. Paulista, 1578' }),
    );
    assert.equal(row.type, 'location');
    assert.equal(row.body, 'Estação Trianon-Masp');
    assert.equal(row.mediaId, null);
    assert.deepEqual(row.payload.location, { latitude: -23.5614, longitude: -46.6559, name: 'Estação Trianon-Masp', address: 'Av. Paulista, 1578' });
  });

  it('interactive button_reply: stored with the button title and the message it answers', async () => {
    const from = guestPhone();
    const contextId = wamid();
    const row = await receiveOne(from, buttonReply({ from, replyId: 'checkin', title: 'Fazer check-in', contextId }));
    assert.equal(row.type, 'interactive');
    assert.equal(row.body, 'Fazer check-in');
    assert.equal(row.contextWamid, contextId);
    assert.equal(row.payload.interactive.id, 'checkin');
  });

  it('interactive list_reply: stored with the row title and the message it answers', async () => {
    const from = guestPhone();
    const contextId = wamid();
    const row = await receiveOne(from, listReply({ from, replyId: 'quarto-duplo', title: 'Quarto duplo', description: 'Até 2 pessoas', contextId }));
    assert.equal(row.type, 'interactive');
    assert.equal(row.body, 'Quarto duplo');
    assert.equal(row.contextWamid, contextId);
    assert.equal(row.payload.interactive.id, 'quarto-duplo');
  });

  it('template quick reply (type button): stored with the button text', async () => {
    const from = guestPhone();
    const contextId = wamid();
    const row = await receiveOne(from, templateQuickReply({ from, payload: 'CONFIRMAR_RESERVA', text: 'Confirmar reserva', contextId }));
    assert.equal(row.type, 'button');
    assert.equal(row.body, 'Confirmar reserva');
    assert.equal(row.contextWamid, contextId);
    assert.equal(row.payload.interactive.id, 'CONFIRMAR_RESERVA');
  });

  it('reaction: stored with the emoji and the message reacted to', async () => {
    const from = guestPhone();
    const target = wamid();
    const row = await receiveOne(from, reactionMessage({ from, messageId: target, emoji: '👍' }));
    assert.equal(row.type, 'reaction');
    assert.equal(row.body, '👍');
    assert.equal(row.payload.reaction.messageId, target);
  });

  it('contacts card: stored as contacts', async () => {
    const from = guestPhone();
    const row = await receiveOne(from, contactsMessage({ from, contacts: [{ name: { formatted_name: 'João' }, phones: [{ phone: '+55 11 91234-5678' }] }] }));
    assert.equal(row.type, 'contacts');
  });

  it('unsupported: stored as unsupported, nothing lost', async () => {
    const from = guestPhone();
    const msg = unsupportedMessage({ from });
    const row = await receiveOne(from, msg);
    assert.equal(row.type, 'unsupported');
    assert.equal(row.body, '');
    assert.deepEqual(row.payload.unmodeled.errors, msg.errors);
  });

  it('one guest sending several types keeps one conversation holding them in arrival order', async () => {
    const from = guestPhone();
    const m = media('image/jpeg');
    const msgs = [
      textMessage({ from, body: 'Oi' }),
      imageMessage({ from, ...m, caption: 'a vista' }),
      locationMessage({ from, latitude: -22.9, longitude: -43.2, name: 'Copacabana' }),
      reactionMessage({ from, messageId: wamid(), emoji: '❤️' }),
    ];
    for (const msg of msgs) await deliver(stack, envelopeFor(t, { messages: [msg] }));
    const [contact] = await until('contact', () => contactsOf(stack, t.tenantId, { waId: from }).then((c) => c.length > 0 && c));
    const rows = await until('4 inbound messages', async () => {
      const r = await inboundOfContact(stack, t.tenantId, contact.id);
      return r.length >= 4 && r;
    });
    assert.deepEqual(rows.map((r) => [r.type, r.body]), [['text', 'Oi'], ['image', 'a vista'], ['location', 'Copacabana'], ['reaction', '❤️']]);
    assert.equal(new Set(rows.map((r) => r.conversationId)).size, 1);
    assert.equal((await conversationsOfContact(stack, t.tenantId, contact.id)).length, 1);
  });
});

describe('WhatsApp webhook: duplicate deliveries', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    // No per-customer pacing, so a second answer would go out at once rather than be merged.
    stack = await startStack({ ai: true, env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0' } });
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  // One stored message, one AI consultation and one answer for the duplicated message.
  async function assertHandledOnce(from: string, id: string, marker: string) {
    await stack.graph.waitForSent((m) => m.to === from && (m.text ?? '').includes(marker), 15_000);
    await drainConversation(stack, t, from);
    assert.equal((await messagesWithWamid(stack, t.tenantId, id)).length, 1, 'one row per wamid');
    const [contact] = await contactsOf(stack, t.tenantId, { waId: from });
    assert.equal((await conversationsOfContact(stack, t.tenantId, contact.id)).length, 1, 'one conversation');
    assert.equal(stack.openai!.requests.filter((r) => lastUserText(r).includes(marker)).length, 1, 'the AI was asked once');
    const answers = stack.graph.sentTo(from);
    assert.equal(answers.filter((m) => (m.text ?? '').includes(marker)).length, 1, 'one answer to the duplicated message');
    assert.equal(answers.length, 2, `answers: ${JSON.stringify(answers.map((m) => m.text))}`); // + the sentinel's
  }

  it('the same delivery posted three times in a row is stored and answered once', async () => {
    const from = guestPhone();
    const marker = `dup-${uid()}`;
    const msg = textMessage({ from, body: `Qual o valor da diária? ${marker}` });
    const raw = JSON.stringify(envelopeFor(t, { messages: [msg] }));
    for (let i = 0; i < 3; i++) {
      const res = await postWebhook(stack, raw);
      assert.equal(res.status, 200, `delivery ${i + 1}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await assertHandledOnce(from, msg.id as string, marker);
  });

  it('the same delivery posted three times at once is stored and answered once', async () => {
    const from = guestPhone();
    const marker = `dup-${uid()}`;
    const msg = textMessage({ from, body: `Aceitam pets? ${marker}` });
    const raw = JSON.stringify(envelopeFor(t, { messages: [msg] }));
    const responses = await Promise.all([1, 2, 3].map(() => postWebhook(stack, raw)));
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200], JSON.stringify(responses.map((r) => r.body)));
    await assertHandledOnce(from, msg.id as string, marker);
  });

  it('the same message twice inside one delivery is stored and answered once', async () => {
    const from = guestPhone();
    const marker = `dup-${uid()}`;
    const msg = textMessage({ from, body: `Tem café da manhã? ${marker}` });
    await deliver(stack, envelopeFor(t, { messages: [msg, msg] }));
    await assertHandledOnce(from, msg.id as string, marker);
  });
});

describe('WhatsApp webhook: batched deliveries', () => {
  let stack: TestStack;
  let a: WhatsAppTenant;
  let b: WhatsAppTenant;
  before(async () => {
    stack = await startStack({ ai: true });
    a = await whatsappTenant(stack);
    b = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  const bodiesOf = async (t: WhatsAppTenant, from: string, count: number) => {
    const [contact] = await until(`contact ${from}`, () => contactsOf(stack, t.tenantId, { waId: from }).then((c) => c.length > 0 && c));
    const rows = await until(`${count} messages from ${from}`, async () => {
      const r = await inboundOfContact(stack, t.tenantId, contact.id);
      return r.length >= count && r;
    });
    assert.equal(new Set(rows.map((r) => r.conversationId)).size, 1, 'one conversation per guest');
    return rows.map((r) => r.body as string);
  };

  it('processes every message and status of a two-entry delivery, keeping each guest’s order', async () => {
    const [a1, a2, b1, b2] = [guestPhone(), guestPhone(), guestPhone(), guestPhone()];
    // Earlier AI answers the statuses below refer to.
    const replyA = await aiReplyTo(stack, a, a1, 'Olá');
    const replyB = await aiReplyTo(stack, b, b1, 'Bom dia');

    const ts = nowSeconds();
    const say = (from: string, body: string) => textMessage({ from, body, timestamp: ts });
    const payload = metaEnvelope([
      {
        wabaId: a.number.wabaId,
        phoneNumberId: a.number.phoneNumberId,
        messages: [say(a1, 'a1-1'), say(a2, 'a2-1'), say(a1, 'a1-2'), say(a2, 'a2-2'), say(a1, 'a1-3'), say(a1, 'a1-4')],
        statuses: [statusUpdate({ id: replyA.wamid, status: 'delivered', recipientId: a1, timestamp: ts })],
      },
      {
        wabaId: b.number.wabaId,
        phoneNumberId: b.number.phoneNumberId,
        messages: [say(b2, 'b2-1'), say(b1, 'b1-1'), say(b2, 'b2-2'), say(b1, 'b1-2'), say(b2, 'b2-3')],
        statuses: [
          statusUpdate({ id: replyB.wamid, status: 'delivered', recipientId: b1, timestamp: ts }),
          statusUpdate({ id: replyB.wamid, status: 'read', recipientId: b1, timestamp: ts }),
        ],
      },
    ]);
    assert.equal(payload.entry.length, 2);
    await deliver(stack, payload);

    // Statuses are applied before the 200.
    assert.equal((await messageWithWamid(stack, a.tenantId, replyA.wamid)).status, 'delivered');
    assert.equal((await messageWithWamid(stack, b.tenantId, replyB.wamid)).status, 'read');

    assert.deepEqual(await bodiesOf(a, a1, 5), ['Olá', 'a1-1', 'a1-2', 'a1-3', 'a1-4']);
    assert.deepEqual(await bodiesOf(a, a2, 2), ['a2-1', 'a2-2']);
    assert.deepEqual(await bodiesOf(b, b1, 3), ['Bom dia', 'b1-1', 'b1-2']);
    assert.deepEqual(await bodiesOf(b, b2, 3), ['b2-1', 'b2-2', 'b2-3']);
    // Each number's guests belong to its tenant only.
    assert.deepEqual(await contactsOf(stack, b.tenantId, { waId: a1 }), []);
    assert.deepEqual(await contactsOf(stack, a.tenantId, { waId: b2 }), []);
  });

  // Meta batches at every level: one entry may carry several `messages` changes for the same
  // number. A guest's messages must reach the conversation in the order Meta sent them.
  it('keeps a guest’s order when their messages come in two changes of the same entry', async () => {
    const [g1, g2] = [guestPhone(), guestPhone()];
    const ts = nowSeconds();
    const say = (from: string, body: string) => textMessage({ from, body, timestamp: ts });
    const number = { wabaId: a.number.wabaId, phoneNumberId: a.number.phoneNumberId };
    const first = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const second = ['11', '12', '13'];
    const payload = metaEnvelope([
      { ...number, messages: [say(g2, 'x1'), ...first.map((b) => say(g1, b)), say(g2, 'x2')] },
      { ...number, messages: [say(g1, second[0]!), say(g2, 'x3'), ...second.slice(1).map((b) => say(g1, b))] },
    ]);
    assert.equal(payload.entry.length, 1);
    assert.equal(payload.entry[0]!.changes.length, 2);
    await deliver(stack, payload);
    assert.deepEqual(await bodiesOf(a, g1, 13), [...first, ...second]);
    assert.deepEqual(await bodiesOf(a, g2, 3), ['x1', 'x2', 'x3']);
  });
});

describe('WhatsApp webhook: delivery statuses', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack({ ai: true });
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  const postStatuses = (statuses: MetaObject[]) => postWebhook(stack, envelopeFor(t, { statuses }));

  it('a late delivered or sent never lowers a read status', async () => {
    const from = guestPhone();
    const reply = await aiReplyTo(stack, t, from, 'Qual o horário do check-out?');
    const ts = nowSeconds();
    const read = await postStatuses([statusUpdate({ id: reply.wamid, status: 'read', recipientId: from, timestamp: ts + 2 })]);
    assert.equal(read.status, 200);
    assert.equal((await messageWithWamid(stack, t.tenantId, reply.wamid)).status, 'read');

    for (const [status, at] of [['delivered', ts + 1], ['sent', ts]] as const) {
      const res = await postStatuses([statusUpdate({ id: reply.wamid, status, recipientId: from, timestamp: at })]);
      assert.equal(res.status, 200, status);
      const row = await messageWithWamid(stack, t.tenantId, reply.wamid);
      assert.equal(row.status, 'read', `after a late ${status}`);
      assert.equal(new Date(row.statusAt).getTime(), (ts + 2) * 1000, 'status time is the read time');
    }
    // Every report is kept, once each.
    assert.deepEqual((await statusEventsOf(stack, t.tenantId, reply.wamid)).map((e) => e.status), ['delivered', 'read', 'sent']);
  });

  it('a failed status marks that message failed with Meta’s error, leaving other messages alone', async () => {
    const [ok, bad] = [guestPhone(), guestPhone()];
    const delivered = await aiReplyTo(stack, t, ok, 'Tem wi-fi?');
    const failing = await aiReplyTo(stack, t, bad, 'Tem piscina?');
    const res = await postStatuses([
      statusUpdate({ id: delivered.wamid, status: 'delivered', recipientId: ok }),
      statusUpdate({ id: failing.wamid, status: 'failed', recipientId: bad, errors: [WEBHOOK_ERRORS.undeliverable] }),
    ]);
    assert.equal(res.status, 200);

    const failed = await messageWithWamid(stack, t.tenantId, failing.wamid);
    assert.equal(failed.status, 'failed');
    const [error] = failed.error.errors;
    assert.equal(error.code, 131026);
    assert.equal(error.title, WEBHOOK_ERRORS.undeliverable.title);
    assert.equal(error.details, WEBHOOK_ERRORS.undeliverable.details);

    const other = await messageWithWamid(stack, t.tenantId, delivered.wamid);
    assert.equal(other.status, 'delivered');
    assert.equal(other.error, null);
  });

  it('the same status delivered twice is acknowledged both times and recorded once', async () => {
    const from = guestPhone();
    const reply = await aiReplyTo(stack, t, from, 'Aceitam cartão?');
    const raw = JSON.stringify(envelopeFor(t, { statuses: [statusUpdate({ id: reply.wamid, status: 'delivered', recipientId: from })] }));
    for (let i = 0; i < 2; i++) assert.equal((await postWebhook(stack, raw)).status, 200, `delivery ${i + 1}`);
    assert.equal((await messageWithWamid(stack, t.tenantId, reply.wamid)).status, 'delivered');
    assert.deepEqual((await statusEventsOf(stack, t.tenantId, reply.wamid)).map((e) => e.status), ['delivered']);
  });
});

describe('WhatsApp webhook: Temporal unavailable', () => {
  let good: TestStack;
  let unreachable: TestStack;
  let refusing: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    good = await startStack();
    t = await whatsappTenant(good);
    // The same database and secrets, but a Temporal address where nothing listens…
    unreachable = await startStack({ worker: false, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    // …and a Temporal that answers at once with an error (here: a namespace it does not know;
    // a namespace over its rate limit answers just as fast).
    refusing = await startStack({ worker: false, env: { TEMPORAL_NAMESPACE: `missing-${uid()}` } });
  });
  after(async () => {
    await refusing?.stop();
    await unreachable?.stop();
    await good?.stop();
  });

  it('answers 503 so Meta redelivers, and the redelivery is processed', async () => {
    const from = guestPhone();
    const msg = textMessage({ from, body: 'Chegou enquanto o Temporal estava fora' });
    const raw = JSON.stringify(envelopeFor(t, { messages: [msg] }));

    const refused = await postWebhook(unreachable, raw);
    assert.equal(refused.status, 503, `${refused.status} ${JSON.stringify(refused.body)}`);
    assert.ok(refused.headers.get('retry-after'), 'Retry-After tells Meta to come back');
    assert.deepEqual(await messagesWithWamid(good, t.tenantId, msg.id as string), []);

    // Meta's redelivery of the very same bytes, once Temporal is back.
    const res = await postWebhook(good, raw);
    assert.equal(res.status, 200);
    const row = await stored(good, t, msg.id as string);
    assert.equal(row.body, 'Chegou enquanto o Temporal estava fora');
  });

  // In production nothing listens for unhandled rejections, so Node ends the API process on one:
  // every in-flight webhook and dashboard request would be lost with it.
  it('answers 503 to a several-change delivery Temporal refuses, leaving no promise rejection unhandled', async () => {
    const number = { wabaId: t.number.wabaId, phoneNumberId: t.number.phoneNumberId };
    // Connected already, so Temporal's refusal of the first change comes back while the second
    // change (many new guests: many contacts to record) is still being written.
    assert.equal((await postWebhook(refusing, envelopeFor(t, { messages: [textMessage({ from: guestPhone(), body: 'aquecendo' })] }))).status, 503);
    const payload = metaEnvelope([
      { ...number, messages: [textMessage({ from: guestPhone(), body: 'primeira mudança' })] },
      { ...number, messages: Array.from({ length: 20 }, (_, i) => textMessage({ from: guestPhone(), body: `segunda mudança ${i}` })) },
    ]);
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    // The test runner's own listener would blame some other test; take its place for this request.
    const runnerListeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', record);
    let status: number;
    try {
      status = (await postWebhook(refusing, payload)).status;
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', record);
      for (const l of runnerListeners) process.on('unhandledRejection', l);
    }
    assert.equal(status, 503);
    assert.deepEqual(unhandled.map((e) => String(e)), [], 'a rejected delivery was left unhandled (the API process would crash)');
  });
});

describe('WhatsApp webhook: business-scoped user ids', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack();
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  it('a username-only sender gets a contact by user_id; later messages with the wa_id join the same contact and conversation', async () => {
    const userId = `BR.${randomBytes(8).readBigUInt64BE(0)}`;
    const waId = guestPhone();

    const first = textMessage({ userId, body: 'Oi, sou usuário sem número' });
    assert.equal(first.from, undefined);
    await deliver(stack, envelopeFor(t, { messages: [first] }));
    const r1 = await stored(stack, t, first.id as string);
    const [byUser, ...extra] = await contactsOf(stack, t.tenantId, { userId });
    assert.deepEqual(extra, []);
    assert.equal(byUser.userId, userId);
    assert.equal(byUser.waId, null);
    assert.equal(r1.contactId, byUser.id);

    const second = textMessage({ from: waId, userId, body: 'Agora com número' });
    await deliver(stack, envelopeFor(t, { messages: [second] }));
    const r2 = await stored(stack, t, second.id as string);
    assert.equal(r2.contactId, byUser.id, 'same contact');
    assert.equal(r2.conversationId, r1.conversationId, 'same conversation');

    // Only the phone number now: still the same person.
    const third = textMessage({ from: waId, body: 'Só com número' });
    await deliver(stack, envelopeFor(t, { messages: [third] }));
    const r3 = await stored(stack, t, third.id as string);
    assert.equal(r3.contactId, byUser.id, 'found by the wa_id it learned');
    assert.equal(r3.conversationId, r1.conversationId);

    const contacts = await contactsOf(stack, t.tenantId, { waId, userId });
    assert.equal(contacts.length, 1);
    assert.equal(contacts[0].waId, waId);
    assert.equal(contacts[0].userId, userId);
    assert.equal((await conversationsOfContact(stack, t.tenantId, byUser.id)).length, 1);
  });
});

describe('WhatsApp webhook: identity changes and Flow answers', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack();
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  const newUserId = () => `BR.${randomBytes(8).readBigUInt64BE(0)}`;

  // The workflow a signal would have started: none must exist for a contact only a system event named.
  async function conversationWorkflowExists(tenantId: string, contactId: string): Promise<boolean> {
    try {
      await stack.deps.temporal.client.workflow.getHandle(conversationWorkflowId(tenantId, contactId)).describe();
      return true;
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return false;
      throw err;
    }
  }

  // Seen in another WhatsApp inbox's test suite: this batch used to be refused whole with 400,
  // so the guest's message was never stored and Meta would redeliver it forever.
  it("a guest's text next to a user_changed_user_id (no phone, no contacts) is answered 200 and stored; the change moves the contact's user id", async () => {
    // A username-only guest who already talked to us…
    const [oldUserId, nextUserId] = [newUserId(), newUserId()];
    const earlier = textMessage({ userId: oldUserId, body: 'Oi, sou eu' });
    await deliver(stack, envelopeFor(t, { messages: [earlier] }));
    const before = await stored(stack, t, earlier.id as string);
    // …and someone we only know as a contact, with no conversation yet.
    const [quietOld, quietNew] = [newUserId(), newUserId()];
    const quietId = randomUUID();
    await withTenant(stack.deps.knex, t.tenantId, (trx) => trx('contacts').insert({ id: quietId, tenantId: t.tenantId, userId: quietOld }));

    const guest = guestPhone();
    const text = textMessage({ from: guest, body: 'Tem vaga para o Natal?' });
    const changes = [
      systemMessage({ kind: 'user_changed_user_id', previousUserId: oldUserId, newUserId: nextUserId }),
      systemMessage({ kind: 'user_changed_user_id', previousUserId: quietOld, newUserId: quietNew }),
    ];
    const res = await postWebhook(stack, envelopeFor(t, { contacts: [contact({ waId: guest, name: 'Hóspede' })], messages: [text, ...changes] }));
    assert.equal(res.status, 200, `${res.status} ${JSON.stringify(res.body)}`);

    const row = await stored(stack, t, text.id as string);
    assert.equal(row.body, 'Tem vaga para o Natal?');
    const [guestContact] = await contactsOf(stack, t.tenantId, { waId: guest });
    assert.equal(row.contactId, guestContact.id, "the guest's text is the guest's, not the system event's");

    // The identity moved on the same contact; nothing was stored or started for the events.
    const [moved, ...others] = await contactsOf(stack, t.tenantId, { userId: nextUserId });
    assert.deepEqual(others, []);
    assert.equal(moved.id, before.contactId);
    assert.deepEqual(await contactsOf(stack, t.tenantId, { userId: oldUserId }), []);
    const [quiet] = await contactsOf(stack, t.tenantId, { userId: quietNew });
    assert.equal(quiet?.id, quietId);
    for (const c of changes) assert.deepEqual(await messagesWithWamid(stack, t.tenantId, c.id as string), []);
    assert.deepEqual(await conversationsOfContact(stack, t.tenantId, quietId), [], 'no conversation for a system event');
    assert.equal(await conversationWorkflowExists(t.tenantId, quietId), false, 'no workflow signalled for a system event');
    assert.deepEqual((await inboundOfContact(stack, t.tenantId, moved.id)).map((m) => m.wamid), [earlier.id]);

    // The guest writes again under the new user id: same contact, same conversation.
    const again = textMessage({ userId: nextUserId, body: 'Voltei' });
    await deliver(stack, envelopeFor(t, { messages: [again] }));
    const r2 = await stored(stack, t, again.id as string);
    assert.equal(r2.contactId, before.contactId);
    assert.equal(r2.conversationId, before.conversationId);
  });

  it('user_changed_number: the contact takes the new number and keeps its conversation', async () => {
    const [oldPhone, newPhone] = [guestPhone(), guestPhone()];
    const first = textMessage({ from: oldPhone, body: 'Reserva no nome de Ana' });
    await deliver(stack, envelopeFor(t, { messages: [first] }));
    const r1 = await stored(stack, t, first.id as string);

    const userId = newUserId();
    const change = systemMessage({ kind: 'user_changed_number', from: oldPhone, newWaId: newPhone, newUserId: userId, name: 'Ana' });
    await deliver(stack, envelopeFor(t, { messages: [change] }));
    const [contactNow, ...rest] = await contactsOf(stack, t.tenantId, { waId: newPhone });
    assert.deepEqual(rest, []);
    assert.equal(contactNow.id, r1.contactId);
    assert.equal(contactNow.userId, userId);
    assert.deepEqual(await contactsOf(stack, t.tenantId, { waId: oldPhone }), [], 'the old number is free');
    assert.deepEqual(await messagesWithWamid(stack, t.tenantId, change.id as string), []);

    const next = textMessage({ from: newPhone, body: 'Agora deste número' });
    await deliver(stack, envelopeFor(t, { messages: [next] }));
    const r2 = await stored(stack, t, next.id as string);
    assert.equal(r2.contactId, r1.contactId);
    assert.equal(r2.conversationId, r1.conversationId);
    assert.equal((await conversationsOfContact(stack, t.tenantId, r1.contactId)).length, 1);
  });

  it('a new number another contact already has is not taken from it: both stay as they are', async () => {
    const [oldPhone, newPhone] = [guestPhone(), guestPhone()];
    const a = textMessage({ from: oldPhone, body: 'do número antigo' });
    const b = textMessage({ from: newPhone, body: 'do número novo, antes do aviso' });
    await deliver(stack, envelopeFor(t, { messages: [a, b] }));
    const [ra, rb] = [await stored(stack, t, a.id as string), await stored(stack, t, b.id as string)];
    await deliver(stack, envelopeFor(t, { messages: [systemMessage({ kind: 'user_changed_number', from: oldPhone, newWaId: newPhone })] }));
    assert.deepEqual((await contactsOf(stack, t.tenantId, { waId: oldPhone })).map((c) => c.id), [ra.contactId]);
    assert.deepEqual((await contactsOf(stack, t.tenantId, { waId: newPhone })).map((c) => c.id), [rb.contactId]);
  });

  it('a WhatsApp Flow answer (nfm_reply) is stored with its fields readable by the attendant', async () => {
    const from = guestPhone();
    const msg = flowReply({ from, flowToken: 'reserva-natal', fields: { nome: 'Ana', data: '2026-12-20', hospedes: 2 } });
    await deliver(stack, envelopeFor(t, { messages: [msg] }));
    const row = await stored(stack, t, msg.id as string);
    assert.equal(row.type, 'interactive');
    assert.equal(row.body, 'Formulário enviado:\n• nome: Ana\n• data: 2026-12-20\n• hospedes: 2');
    assert.deepEqual(row.payload.form.fields, { flow_token: 'reserva-natal', nome: 'Ana', data: '2026-12-20', hospedes: 2 });
    const conversation = await until('conversation preview', async () => {
      const [c] = await conversationsOfContact(stack, t.tenantId, row.contactId);
      return c?.lastMessagePreview ? c : undefined;
    });
    assert.match(conversation.lastMessagePreview, /^Formulário enviado:/);
  });
});

describe("WhatsApp webhook: a tenant's own Meta app", () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack();
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  it('is verified with its own secrets at /webhooks/whatsapp/{appId}, looked up once and then cached', async () => {
    const appId = String(10n ** 14n + BigInt(randomBytes(5).readUIntBE(0, 5)));
    const app = { appId, appSecret: `app-secret-${uid()}`, verifyToken: `verify-${uid()}` };
    const put = await stack.api.request('put', '/api/whatsapp/meta-app', { token: t.admin.token, body: app });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.webhookPath, `/webhooks/whatsapp/${appId}`);

    let lookups = 0;
    const count = (q: { sql: string }) => {
      if (q.sql.includes('webhook_find_app')) lookups++;
    };
    stack.deps.knex.on('query', count);
    try {
      const hs = await stack.api.get(`/webhooks/whatsapp/${appId}?${new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': app.verifyToken, 'hub.challenge': '42' })}`);
      assert.equal(hs.status, 200);
      assert.equal(hs.body, '42');

      const from = guestPhone();
      const msg = textMessage({ from, body: 'Pelo aplicativo do cliente' });
      const path = `/webhooks/whatsapp/${appId}`;
      const res = await postWebhook(stack, envelopeFor(t, { messages: [msg] }), { path, secret: app.appSecret });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await stored(stack, t, msg.id as string)).body, 'Pelo aplicativo do cliente');

      // The platform's secret does not open a tenant's app, and the platform's route no longer
      // carries this number.
      assert.equal((await postWebhook(stack, envelopeFor(t, { messages: [textMessage({ from, body: 'x' })] }), { path })).status, 401);
      const stray = textMessage({ from, body: 'pela rota da plataforma' });
      assert.equal((await postWebhook(stack, envelopeFor(t, { messages: [stray] }))).status, 200);
      // The guest's conversation handles signals in order: once a later message is stored, the
      // stray one would have been too.
      const later = textMessage({ from, body: 'De novo pelo aplicativo do cliente' });
      assert.equal((await postWebhook(stack, envelopeFor(t, { messages: [later] }), { path, secret: app.appSecret })).status, 200);
      await stored(stack, t, later.id as string);
      assert.deepEqual(await messagesWithWamid(stack, t.tenantId, stray.id as string), []);
      assert.equal(lookups, 1, 'one look-up for the handshake and every delivery after it');
    } finally {
      stack.deps.knex.off('query', count);
    }
  });
});

describe('WhatsApp webhook: invalid-signature rate limit', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  const LIMIT = 3;
  before(async () => {
    stack = await startStack({ env: { RATE_LIMIT_WEBHOOK_INVALID_PER_MINUTE: String(LIMIT) } });
    t = await whatsappTenant(stack);
  });
  after(async () => stack.stop());

  const unknownAppId = () => String(10n ** 14n + BigInt(randomBytes(5).readUIntBE(0, 5)));

  it('answers 429 to an IP over the limit before any database look-up; valid deliveries still go through', async () => {
    let lookups = 0;
    const count = (q: { sql: string }) => {
      if (q.sql.includes('webhook_find_app')) lookups++;
    };
    stack.deps.knex.on('query', count);
    try {
      const forged = JSON.stringify(envelopeFor(t, { messages: [textMessage({ from: guestPhone(), body: 'forjada' })] }));
      // Each forgery for an app nobody registered costs a look-up and a point.
      for (let i = 0; i < LIMIT; i++) {
        const res = await postWebhook(stack, forged, { path: `/webhooks/whatsapp/${unknownAppId()}`, secret: 'guessed-secret' });
        assert.equal(res.status, 404, `attempt ${i + 1}`);
      }
      assert.equal(lookups, LIMIT);

      // Over the limit: turned away before Postgres is asked anything.
      const limited = await postWebhook(stack, forged, { path: `/webhooks/whatsapp/${unknownAppId()}`, secret: 'guessed-secret' });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.ok(isProblem(limited));
      const handshake = await stack.api.get(`/webhooks/whatsapp/${unknownAppId()}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`);
      assert.equal(handshake.status, 429);
      assert.equal(lookups, LIMIT, 'no look-up once the IP is over the limit');

      // A forgery on the platform's route is limited too…
      assert.equal((await postWebhook(stack, forged, { secret: 'another-secret' })).status, 429);
      // …but Meta's genuine deliveries from the same IP are never turned away.
      const genuine = textMessage({ from: guestPhone(), body: 'Mensagem verdadeira' });
      await deliver(stack, envelopeFor(t, { messages: [genuine] }));
      assert.equal((await stored(stack, t, genuine.id as string)).body, 'Mensagem verdadeira');
      assert.equal(lookups, LIMIT);
    } finally {
      stack.deps.knex.off('query', count);
    }
  });
});
