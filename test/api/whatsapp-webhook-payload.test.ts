import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseWhatsAppWebhook } from '../../api/webhooks/whatsapp-payload';
import { sha256Signature, verifySha256Signature } from '../../infra/hmac-signature';
import type { InboundMessage, WebhookBatch } from '../../domain/whatsapp-messages';
import { FakeGraphApi, GRAPH_ERRORS } from '../../scripts/sandbox/graph-api';
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
  metaEnvelope,
  reactionMessage,
  statusUpdate,
  stickerMessage,
  systemMessage,
  templateQuickReply,
  textMessage,
  unsupportedMessage,
  videoMessage,
  WEBHOOK_ERRORS,
  type MetaObject,
} from '../fakes/meta-payloads';

const SECRET = 'app-secret-0123456789';
const WABA = '102290129340398';
const PHONE_ID = '106540352242922';
const CUSTOMER = '5511987654321';
const TS = '1717171717';

function parseOk(json: unknown): { batches: WebhookBatch[]; ignoredFields: string[]; skipped: { path: string; message: string }[] } {
  const r = parseWhatsAppWebhook(json);
  if (!r.ok) assert.fail(`expected a valid payload, got ${JSON.stringify(r.issues)}`);
  return r;
}

// One inbound message through the whole envelope, with the sender's contact entry alongside.
function parseOne(message: MetaObject): InboundMessage {
  const { batches } = parseOk(
    metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, contacts: [contact({ waId: CUSTOMER, name: 'Maria Silva' })], messages: [message] }]),
  );
  assert.equal(batches.length, 1);
  const [m] = batches[0]!.messages;
  assert.ok(m);
  // Meta's raw object is not carried into the workflow: what we model travels, and for the types
  // we do not model, their own object.
  assert.equal('raw' in m, false);
  return m;
}

const sender = { waId: CUSTOMER, profileName: 'Maria Silva' };

describe('verifySha256Signature', () => {
  const body = Buffer.from(JSON.stringify(metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [textMessage({ from: CUSTOMER, body: 'Olá, ção ✓' })] }])));

  it('accepts the signature Meta would send', () => {
    assert.equal(verifySha256Signature(body, sha256Signature(body, SECRET), SECRET), true);
    assert.equal(sha256Signature(body, SECRET), sha256Signature(body.toString('utf8'), SECRET));
  });

  it('refuses a signature made with another secret', () => {
    assert.equal(verifySha256Signature(body, sha256Signature(body, 'other-secret'), SECRET), false);
  });

  it('refuses a body with one byte changed', () => {
    const header = sha256Signature(body, SECRET);
    const tampered = Buffer.from(body);
    tampered[10] = tampered[10]! ^ 0x01;
    assert.equal(verifySha256Signature(tampered, header, SECRET), false);
  });

  it('refuses a missing header and an empty secret', () => {
    assert.equal(verifySha256Signature(body, undefined, SECRET), false);
    assert.equal(verifySha256Signature(body, '', SECRET), false);
    assert.equal(verifySha256Signature(body, sha256Signature(body, ''), ''), false);
  });

  it('refuses malformed headers without throwing', () => {
    const hex = sha256Signature(body, SECRET).slice('sha256='.length);
    for (const header of [
      hex,
      `sha1=${hex}`,
      `SHA256=${hex}`,
      `sha256=${hex.slice(0, 63)}`,
      `sha256=${hex}00`,
      `sha256=${hex.slice(0, 62)}zz`,
      `sha256= ${hex}`,
      `sha256=${hex} `,
      `sha256=${Buffer.from(hex, 'hex').toString('base64')}`,
      'sha256=',
    ]) {
      assert.equal(verifySha256Signature(body, header, SECRET), false, header);
    }
  });

  it('accepts the digest in uppercase hex (same bytes)', () => {
    const hex = sha256Signature(body, SECRET).slice('sha256='.length);
    assert.equal(verifySha256Signature(body, `sha256=${hex.toUpperCase()}`, SECRET), true);
  });
});

describe('parseWhatsAppWebhook: inbound types', () => {
  it('text', () => {
    const msg = textMessage({ from: CUSTOMER, body: 'Quero agendar um horário', timestamp: TS });
    assert.deepEqual(parseOne(msg), {
      wamid: msg.id,
      timestamp: Number(TS),
      type: 'text',
      from: sender,
      text: 'Quero agendar um horário',
    });
  });

  it('image with caption', () => {
    const msg = imageMessage({ from: CUSTOMER, mediaId: '1001', caption: 'meu comprovante', sha256: 'abc' });
    const m = parseOne(msg);
    assert.equal(m.type, 'image');
    assert.equal(m.text, 'meu comprovante');
    assert.deepEqual(m.media, { mediaId: '1001', mimeType: 'image/jpeg', sha256: 'abc', caption: 'meu comprovante' });
  });

  it('voice note', () => {
    const m = parseOne(audioMessage({ from: CUSTOMER, mediaId: '1002', sha256: 'def' }));
    assert.equal(m.type, 'audio');
    assert.equal(m.text, '');
    assert.deepEqual(m.media, { mediaId: '1002', mimeType: 'audio/ogg; codecs=opus', sha256: 'def', voice: true });
  });

  it('video, document and sticker', () => {
    const video = parseOne(videoMessage({ from: CUSTOMER, mediaId: '1003', sha256: 'v' }));
    assert.equal(video.type, 'video');
    assert.deepEqual(video.media, { mediaId: '1003', mimeType: 'video/mp4', sha256: 'v' });

    const doc = parseOne(documentMessage({ from: CUSTOMER, mediaId: '1004', sha256: 'd', filename: 'boleto.pdf', caption: 'segue' }));
    assert.equal(doc.type, 'document');
    assert.equal(doc.text, 'segue');
    assert.deepEqual(doc.media, { mediaId: '1004', mimeType: 'application/pdf', sha256: 'd', filename: 'boleto.pdf', caption: 'segue' });

    const sticker = parseOne(stickerMessage({ from: CUSTOMER, mediaId: '1005', sha256: 's' }));
    assert.equal(sticker.type, 'sticker');
    assert.equal(sticker.text, '');
    assert.deepEqual(sticker.media, { mediaId: '1005', mimeType: 'image/webp', sha256: 's' });
  });

  it('location: text is the name, else the address, else empty', () => {
    const named = parseOne(locationMessage({ from: CUSTOMER, latitude: -23.5614, longitude: -46.6559, name: 'MASP', address: 'Av. Paulista, 1578' }));
    assert.equal(named.type, 'location');
    assert.equal(named.text, 'MASP');
    assert.deepEqual(named.location, { latitude: -23.5614, longitude: -46.6559, name: 'MASP', address: 'Av. Paulista, 1578' });
    assert.equal(parseOne(locationMessage({ from: CUSTOMER, latitude: 1, longitude: 2, address: 'Rua A, 1' })).text, 'Rua A, 1');
    const pin = parseOne(locationMessage({ from: CUSTOMER, latitude: 1, longitude: 2 }));
    assert.equal(pin.text, '');
    assert.deepEqual(pin.location, { latitude: 1, longitude: 2 });
  });

  it('reply button and list row, with the message they answer', () => {
    const button = parseOne(buttonReply({ from: CUSTOMER, replyId: 'confirm', title: 'Confirmar', contextId: 'wamid.offer1' }));
    assert.equal(button.type, 'interactive');
    assert.equal(button.text, 'Confirmar');
    assert.deepEqual(button.interactive, { kind: 'button_reply', id: 'confirm', title: 'Confirmar' });
    assert.equal(button.contextMessageId, 'wamid.offer1');

    const row = parseOne(listReply({ from: CUSTOMER, replyId: 'slot-14h', title: 'Terça 14h', description: 'Com a Ana', contextId: 'wamid.list1' }));
    assert.equal(row.type, 'interactive');
    assert.equal(row.text, 'Terça 14h');
    assert.deepEqual(row.interactive, { kind: 'list_reply', id: 'slot-14h', title: 'Terça 14h', description: 'Com a Ana' });
    assert.equal(row.contextMessageId, 'wamid.list1');
  });

  it('template quick reply (type "button")', () => {
    const m = parseOne(templateQuickReply({ from: CUSTOMER, payload: 'STOP_PROMOS', text: 'Parar promoções', contextId: 'wamid.tpl1' }));
    assert.equal(m.type, 'button');
    assert.equal(m.text, 'Parar promoções');
    assert.deepEqual(m.interactive, { kind: 'quick_reply', id: 'STOP_PROMOS', title: 'Parar promoções' });
    assert.equal(m.contextMessageId, 'wamid.tpl1');
  });

  it('reaction, and a removed reaction', () => {
    const m = parseOne(reactionMessage({ from: CUSTOMER, messageId: 'wamid.ours', emoji: '👍' }));
    assert.equal(m.type, 'reaction');
    assert.equal(m.text, '👍');
    assert.deepEqual(m.reaction, { messageId: 'wamid.ours', emoji: '👍' });

    const removed = parseOne(reactionMessage({ from: CUSTOMER, messageId: 'wamid.ours' }));
    assert.equal(removed.text, '');
    assert.deepEqual(removed.reaction, { messageId: 'wamid.ours' });
  });

  it('shared contacts keep their cards in raw', () => {
    const cards = [{ name: { formatted_name: 'João', first_name: 'João' }, phones: [{ phone: '+55 11 91234-5678', type: 'CELL' }] }];
    const m = parseOne(contactsMessage({ from: CUSTOMER, contacts: cards }));
    assert.equal(m.type, 'contacts');
    assert.equal(m.text, '');
    assert.deepEqual(m.unmodeled, { contacts: cards });
  });

  it('quoted reply and click-to-WhatsApp referral', () => {
    const referral = { source_url: 'https://fb.me/abc', source_id: '120', source_type: 'ad', headline: 'Promo', body: 'Corte + barba', ctwa_clid: 'ARAk' };
    const m = parseOne(textMessage({ from: CUSTOMER, body: 'Tenho interesse', context: { from: '5511900000000', id: 'wamid.quoted' }, referral }));
    assert.equal(m.contextMessageId, 'wamid.quoted');
    assert.deepEqual(m.referral, referral);
  });

  it('a forwarded message has a context without id', () => {
    const m = parseOne(textMessage({ from: CUSTOMER, body: 'olha isso', context: { forwarded: true } }));
    assert.equal(m.contextMessageId, undefined);
    assert.equal('contextMessageId' in m, false);
  });

  it('types we do not model become "unsupported" with their own object kept', () => {
    const unknown = unsupportedMessage({ from: CUSTOMER });
    const m = parseOne(unknown);
    assert.equal(m.type, 'unsupported');
    assert.equal(m.text, '');
    assert.deepEqual(m.from, sender);

    for (const [type, extra] of [
      ['order', { order: { catalog_id: '1', product_items: [{ product_retailer_id: 'x', quantity: 1, item_price: 10, currency: 'BRL' }] } }],
      ['request_welcome', {}],
      ['unknown', { errors: [{ code: 131051, title: 'Message type unknown' }] }],
      ['ephemeral', { text: 42 }], // a field we type elsewhere is not checked for a type we do not model
    ] as const) {
      const parsed = parseOne(unsupportedMessage({ from: CUSTOMER, type, extra }));
      assert.equal(parsed.type, 'unsupported', type);
      // The type's own object and Meta's errors; not fields of other types (ephemeral's `text`).
      assert.deepEqual(parsed.unmodeled, type === 'order' || type === 'unknown' ? extra : undefined, type);
    }

    const carousel = parseOne({ ...textMessage({ from: CUSTOMER, body: '' }), type: 'interactive', interactive: { type: 'carousel_reply', carousel_reply: {} } });
    assert.equal(carousel.type, 'unsupported');
  });

  it('WhatsApp Flow answer (nfm_reply): readable text, fields kept', () => {
    const msg = flowReply({ from: CUSTOMER, flowToken: 'reserva-42', fields: { nome: 'Ana', data: '2026-12-20', hospedes: 2 }, contextId: 'wamid.flow1' });
    const m = parseOne(msg);
    assert.equal(m.type, 'interactive');
    assert.equal(m.text, 'Formulário enviado:\n• nome: Ana\n• data: 2026-12-20\n• hospedes: 2');
    assert.deepEqual(m.form, { name: 'flow', body: 'Sent', fields: { flow_token: 'reserva-42', nome: 'Ana', data: '2026-12-20', hospedes: 2 } });
    assert.equal(m.contextMessageId, 'wamid.flow1');
    assert.equal(m.interactive, undefined);

    // A response_json that is not an object of fields still reads as a sent form; raw keeps the string.
    const odd = parseOne(flowReply({ from: CUSTOMER, fields: {}, responseJson: 'não é json' }));
    assert.equal(odd.text, 'Formulário enviado.');
    assert.deepEqual(odd.form?.fields, {});
    const address = parseOne(flowReply({ from: CUSTOMER, name: 'address_message', body: 'Endereço', fields: {}, responseJson: JSON.stringify({ values: { city: 'Recife' } }) }));
    assert.equal(address.text, 'Endereço enviado:\n• values: {"city":"Recife"}');
  });

  it('nfm_reply without its object is skipped with the path, not the delivery', () => {
    const bad = { ...textMessage({ from: CUSTOMER, body: '' }), type: 'interactive', interactive: { type: 'nfm_reply' } };
    const { batches, skipped } = parseOk(metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [bad, textMessage({ from: CUSTOMER, body: 'ok' })] }]));
    assert.deepEqual(batches[0]!.messages.map((m) => m.text), ['ok']);
    assert.deepEqual(skipped.map((i) => i.path), ['entry[0].changes[0].value.messages[0].interactive.nfm_reply']);
  });

  it('sender identity: user id, profile name from the matching contact, username-only users', () => {
    const userId = 'BR.150293847561234';
    const { batches } = parseOk(
      metaEnvelope([
        {
          wabaId: WABA,
          phoneNumberId: PHONE_ID,
          contacts: [contact({ waId: '5511911111111', name: 'Ana' }), contact({ waId: CUSTOMER, userId, name: 'Maria Silva' }), contact({ userId: 'BR.999', name: 'Zé' })],
          messages: [
            textMessage({ from: CUSTOMER, body: 'a' }),
            textMessage({ from: '5511911111111', body: 'b' }),
            textMessage({ userId: 'BR.999', body: 'c' }),
            textMessage({ from: '5511922222222', body: 'd' }),
          ],
        },
      ]),
    );
    const [a, b, c, d] = batches[0]!.messages;
    assert.deepEqual(a?.from, { waId: CUSTOMER, userId, profileName: 'Maria Silva' });
    assert.deepEqual(b?.from, { waId: '5511911111111', profileName: 'Ana' });
    assert.deepEqual(c?.from, { userId: 'BR.999', profileName: 'Zé' });
    assert.deepEqual(d?.from, { waId: '5511922222222' });
    assert.deepEqual(batches[0]!.contacts[1], { waId: CUSTOMER, userId, profileName: 'Maria Silva' });
  });
});

describe('parseWhatsAppWebhook: system events (identity changes)', () => {
  const parse = (messages: MetaObject[], contacts?: ReturnType<typeof contact>[]) =>
    parseOk(metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages, ...(contacts ? { contacts } : {}) }]));

  it('user_changed_user_id: no phone number, no contacts; an identity change, not a message', () => {
    const sys = systemMessage({ kind: 'user_changed_user_id', previousUserId: 'BR.111', newUserId: 'BR.222', timestamp: TS });
    assert.equal(sys.from, undefined);
    const payload = metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [sys] }]);
    assert.equal((payload.entry[0]!.changes[0]!.value as MetaObject).contacts, undefined, 'Meta sends no contacts with system messages');
    const { batches, skipped } = parseOk(payload);
    assert.deepEqual(skipped, []);
    assert.deepEqual(batches[0]!.messages, []);
    assert.deepEqual(batches[0]!.identityChanges, [
      { wamid: sys.id, timestamp: Number(TS), kind: 'user_changed_user_id', previous: { userId: 'BR.111' }, current: { userId: 'BR.222' }, afterMessages: 0 },
    ]);
  });

  it("the guest's text next to someone's user_changed_user_id: the text keeps its sender, the change its place", () => {
    const text = textMessage({ from: CUSTOMER, body: 'Quero reservar' });
    const sys = systemMessage({ kind: 'user_changed_user_id', previousUserId: 'BR.111', newUserId: 'BR.222' });
    // Only the guest's contact travels: with one contact, a sender-less message would be taken as the guest's.
    const { batches, skipped } = parse([text, sys], [contact({ waId: CUSTOMER, name: 'Maria Silva' })]);
    assert.deepEqual(skipped, []);
    assert.deepEqual(batches[0]!.messages.map((m) => [m.type, m.text, m.from]), [['text', 'Quero reservar', sender]]);
    assert.deepEqual(batches[0]!.identityChanges.map((c) => [c.kind, c.afterMessages]), [['user_changed_user_id', 1]]);
  });

  it('user_changed_number: old number from `from`, new one and the regenerated user id from `system`', () => {
    const sys = systemMessage({ kind: 'user_changed_number', from: CUSTOMER, newWaId: '5511955554444', newUserId: 'BR.new', previousUserId: 'BR.old' });
    const { batches } = parse([textMessage({ from: '5511911111111', body: 'a' }), sys, textMessage({ from: '5511955554444', body: 'b' })]);
    assert.deepEqual(batches[0]!.contacts.map((c) => c.waId), ['5511911111111', '5511955554444'], 'no contact made up for the system message');
    assert.deepEqual(batches[0]!.messages.map((m) => m.text), ['a', 'b']);
    const [change] = batches[0]!.identityChanges;
    assert.deepEqual(
      { kind: change?.kind, previous: change?.previous, current: change?.current, afterMessages: change?.afterMessages },
      { kind: 'user_changed_number', previous: { waId: CUSTOMER, userId: 'BR.old' }, current: { waId: '5511955554444', userId: 'BR.new' }, afterMessages: 1 },
    );
  });

  it('the older customer_changed_number (new_wa_id, customer) is read the same way', () => {
    const legacy = unsupportedMessage({
      from: CUSTOMER,
      type: 'system',
      extra: { system: { body: 'changed', new_wa_id: 5511955554444, customer: CUSTOMER, type: 'customer_changed_number' } },
    });
    const [change] = parse([legacy]).batches[0]!.identityChanges;
    assert.deepEqual([change?.kind, change?.previous, change?.current], ['customer_changed_number', { waId: CUSTOMER }, { waId: '5511955554444' }]);
  });

  it('system events that change nothing we keep are skipped with their path, never failing the delivery', () => {
    const at = 'entry[0].changes[0].value.messages';
    const { batches, skipped } = parse([
      unsupportedMessage({ from: CUSTOMER, type: 'system', extra: { system: { body: 'security code changed', type: 'customer_identity_changed', identity: 'x' } } }),
      unsupportedMessage({ type: 'system', extra: { system: { body: 'no ids', type: 'user_changed_user_id' } } }),
      unsupportedMessage({ type: 'system', extra: { system: 'not an object' } }),
      textMessage({ from: CUSTOMER, body: 'ainda aqui' }),
    ]);
    assert.deepEqual(batches[0]!.identityChanges, []);
    assert.deepEqual(batches[0]!.messages.map((m) => m.text), ['ainda aqui']);
    assert.deepEqual(skipped.map((i) => i.path), [`${at}[0].system.type`, `${at}[1].system`, `${at}[2].system`]);
  });
});

describe('parseWhatsAppWebhook: batches and statuses', () => {
  it('2 entries × 2 changes with several messages and statuses', () => {
    const other = { waba: '200000000000001', phone: '300000000000001' };
    const sentId = 'wamid.sent1';
    const payload = metaEnvelope([
      { wabaId: WABA, phoneNumberId: PHONE_ID, displayPhoneNumber: '5511900000000', messages: [textMessage({ from: CUSTOMER, body: 'um' }), imageMessage({ from: '5511911111111' })] },
      {
        wabaId: WABA,
        phoneNumberId: PHONE_ID,
        statuses: [
          statusUpdate({ id: sentId, status: 'sent', recipientId: CUSTOMER, bizOpaqueCallbackData: 'conv-1', timestamp: '1717171700' }),
          statusUpdate({ id: sentId, status: 'read', recipientId: CUSTOMER, timestamp: '1717171720' }),
          statusUpdate({ id: sentId, status: 'deleted', recipientId: CUSTOMER }),
        ],
      },
      { wabaId: other.waba, phoneNumberId: other.phone, messages: [textMessage({ from: '5521988887777', body: 'dois' }), textMessage({ from: '5521988887777', body: 'três' })] },
      { wabaId: other.waba, phoneNumberId: '300000000000002', statuses: [statusUpdate({ id: 'wamid.x', status: 'delivered', recipientId: '5521988887777' })] },
    ]);
    assert.equal(payload.entry.length, 2);
    assert.equal(payload.entry[0]!.changes.length, 2);
    assert.equal(payload.entry[1]!.changes.length, 2);

    const { batches, ignoredFields } = parseOk(payload);
    assert.deepEqual(ignoredFields, []);
    assert.deepEqual(
      batches.map((b) => [b.wabaId, b.phoneNumberId, b.messages.length, b.statuses.length]),
      [
        [WABA, PHONE_ID, 2, 0],
        [WABA, PHONE_ID, 0, 2], // 'deleted' is not a delivery status and is dropped
        [other.waba, other.phone, 2, 0],
        [other.waba, '300000000000002', 0, 1],
      ],
    );
    assert.equal(batches[0]!.displayPhoneNumber, '5511900000000');
    assert.deepEqual(batches[0]!.contacts.map((c) => c.waId), [CUSTOMER, '5511911111111']);
    assert.deepEqual(batches[2]!.messages.map((m) => m.text), ['dois', 'três']);
    assert.deepEqual(batches[1]!.statuses[0], {
      wamid: sentId,
      status: 'sent',
      timestamp: 1717171700,
      recipient: { waId: CUSTOMER },
      errors: [],
      bizOpaqueCallbackData: 'conv-1',
      pricing: { billable: false, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' },
    });
    assert.deepEqual(batches[1]!.statuses[1], { wamid: sentId, status: 'read', timestamp: 1717171720, recipient: { waId: CUSTOMER }, errors: [] });
  });

  it('failed status with errors, recipient user id and the conversation object', () => {
    const conversation = { id: 'c1', origin: { type: 'service' }, expiration_timestamp: '1717258117' };
    const { batches } = parseOk(
      metaEnvelope([
        {
          wabaId: WABA,
          phoneNumberId: PHONE_ID,
          statuses: [
            statusUpdate({ id: 'wamid.f', status: 'failed', recipientId: CUSTOMER, recipientUserId: 'BR.1', errors: [WEBHOOK_ERRORS.outsideWindow], timestamp: TS, conversation }),
          ],
        },
      ]),
    );
    assert.deepEqual(batches[0]!.statuses, [
      {
        wamid: 'wamid.f',
        status: 'failed',
        timestamp: Number(TS),
        recipient: { waId: CUSTOMER, userId: 'BR.1' },
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
        conversation,
      },
    ]);
  });

  it('value-level errors', () => {
    const { batches } = parseOk(
      metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, errors: [{ code: 131000, title: 'Something went wrong', message: 'x', error_data: { details: 'y' } }] }]),
    );
    assert.deepEqual(batches[0]!.errors, [{ code: 131000, title: 'Something went wrong', message: 'x', details: 'y' }]);
  });

  it('changes for other fields are skipped and reported', () => {
    const payload = metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [textMessage({ from: CUSTOMER, body: 'oi' })] }]);
    payload.entry[0]!.changes.push(
      { field: 'account_update', value: { phone_number: '5511900000000', event: 'VERIFIED_ACCOUNT' } },
      { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } },
      { field: 'account_update', value: 'anything at all' as unknown as MetaObject },
    );
    const { batches, ignoredFields } = parseOk(payload);
    assert.equal(batches.length, 1);
    assert.deepEqual(ignoredFields, ['account_update', 'message_template_status_update']);
  });

  it('tolerates fields Meta adds', () => {
    const payload = metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [{ ...textMessage({ from: CUSTOMER, body: 'oi' }), new_field: { a: 1 } }] }]);
    (payload as Record<string, unknown>).extra = true;
    (payload.entry[0] as Record<string, unknown>).time = 1717171717;
    const { batches } = parseOk(payload);
    assert.equal(batches[0]!.messages[0]!.text, 'oi');
    assert.ok(!JSON.stringify(batches[0]!.messages[0]).includes('new_field'));
  });
});

describe('parseWhatsAppWebhook: invalid envelopes are refused', () => {
  const valid = () => metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [textMessage({ from: CUSTOMER, body: 'oi' })] }]);
  const paths = (json: unknown) => {
    const r = parseWhatsAppWebhook(json);
    assert.equal(r.ok, false, 'expected the payload to be rejected');
    return r.ok ? [] : r.issues.map((i) => i.path);
  };

  it('not an object, or the wrong object', () => {
    assert.deepEqual(paths(null), ['']);
    assert.deepEqual(paths('{}'), ['']);
    assert.deepEqual(paths({ ...valid(), object: 'page' }), ['object']);
  });

  it('entry or changes not arrays, entry without id', () => {
    assert.deepEqual(paths({ ...valid(), entry: { id: WABA } }), ['entry']);
    const p = valid();
    (p.entry[0] as Record<string, unknown>).changes = {};
    assert.deepEqual(paths(p), ['entry[0].changes']);
    const q = valid();
    delete (q.entry[0] as Record<string, unknown>).id;
    assert.deepEqual(paths(q), ['entry[0].id']);
  });
});

// Inside a valid envelope nothing fails the delivery: what cannot be used is skipped with its
// path, and its neighbours go through.
describe('parseWhatsAppWebhook: items we cannot use are skipped', () => {
  const at = 'entry[0].changes[0].value';
  const valid = () => metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [textMessage({ from: CUSTOMER, body: 'oi' })] }]);

  it('message without id, empty id, timestamp not digits', () => {
    const p = valid();
    const value = p.entry[0]!.changes[0]!.value as { messages: MetaObject[] };
    value.messages.push(textMessage({ from: CUSTOMER, body: 'x' }), textMessage({ from: CUSTOMER, body: 'y', id: '' }), textMessage({ from: CUSTOMER, body: 'z', timestamp: '2024-06-01T10:00:00Z' }));
    delete value.messages[1]!.id;
    const { batches, skipped } = parseOk(p);
    assert.deepEqual(skipped.map((i) => i.path), [`${at}.messages[1].id`, `${at}.messages[2].id`, `${at}.messages[3].timestamp`]);
    assert.match(skipped[2]!.message, /digits/);
    assert.deepEqual(batches[0]!.messages.map((m) => m.text), ['oi']);
  });

  it('numeric status timestamps are skipped (Meta sends strings), other statuses kept', () => {
    const { batches, skipped } = parseOk(
      metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, statuses: [{ ...statusUpdate({ id: 'wamid.a', status: 'sent', recipientId: CUSTOMER }), timestamp: 1717171717 }, statusUpdate({ id: 'wamid.b', status: 'read', recipientId: CUSTOMER })] }]),
    );
    assert.deepEqual(skipped.map((i) => i.path), [`${at}.statuses[0].timestamp`]);
    assert.deepEqual(batches[0]!.statuses.map((st) => st.wamid), ['wamid.b']);
  });

  it('a change without metadata is skipped whole; the next change is kept', () => {
    const p = metaEnvelope([
      { wabaId: WABA, phoneNumberId: PHONE_ID, messages: [textMessage({ from: CUSTOMER, body: 'sem rota' })] },
      { wabaId: WABA, phoneNumberId: PHONE_ID, messages: [textMessage({ from: CUSTOMER, body: 'com rota' })] },
    ]);
    delete (p.entry[0]!.changes[0]!.value as Record<string, unknown>).metadata;
    p.entry[0]!.changes.push({ value: {} } as unknown as { field: string; value: MetaObject });
    const { batches, skipped } = parseOk(p);
    assert.deepEqual(skipped.map((i) => i.path), [`${at}.metadata`, 'entry[0].changes[2].field']);
    assert.deepEqual(batches.map((b) => b.messages.map((m) => m.text)), [['com rota']]);
  });

  it('wrong type objects and a missing sender are skipped one by one', () => {
    const skippedOf = (m: MetaObject) => {
      const { batches, skipped } = parseOk(metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, contacts: [], messages: [m] }]));
      assert.deepEqual(batches[0]!.messages, []);
      return skipped.map((i) => i.path);
    };
    const m = `${at}.messages[0]`;
    assert.deepEqual(skippedOf({ ...textMessage({ from: CUSTOMER, body: 'x' }), text: { body: 5 } }), [`${m}.text.body`]);
    assert.deepEqual(skippedOf({ ...textMessage({ from: CUSTOMER, body: 'x' }), text: undefined }), [`${m}.text`]);
    assert.deepEqual(skippedOf({ ...imageMessage({ from: CUSTOMER }), image: { mime_type: 'image/jpeg' } }), [`${m}.image.id`]);
    assert.deepEqual(skippedOf({ ...locationMessage({ from: CUSTOMER, latitude: 1, longitude: 2 }), location: { latitude: '1', longitude: 2 } }), [`${m}.location.latitude`]);
    assert.deepEqual(skippedOf({ ...buttonReply({ from: CUSTOMER, replyId: 'a', title: 'b' }), interactive: { type: 'button_reply' } }), [`${m}.interactive.button_reply`]);
    assert.deepEqual(skippedOf(textMessage({ body: 'no sender' })), [`${m}.from`]);
    const { batches, skipped } = parseOk(
      metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, statuses: [statusUpdate({ id: 'wamid.a', status: 'failed', recipientId: CUSTOMER, errors: [{ code: '131047' as unknown as number, title: 't' }] })] }]),
    );
    assert.deepEqual(skipped.map((i) => i.path), [`${at}.statuses[0].errors[0].code`]);
    assert.deepEqual(batches[0]!.statuses, []);
  });

  it('a malformed contact is dropped, the message still finds its sender', () => {
    const { batches, skipped } = parseOk(
      metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, contacts: [{ wa_id: 42 } as unknown as ReturnType<typeof contact>, contact({ waId: CUSTOMER, name: 'Maria Silva' })], messages: [textMessage({ from: CUSTOMER, body: 'oi' })] }]),
    );
    assert.deepEqual(skipped.map((i) => i.path), [`${at}.contacts[0].wa_id`]);
    assert.deepEqual(batches[0]!.messages[0]!.from, sender);
  });

  it('caps the skipped list', () => {
    const messages = Array.from({ length: 200 }, () => ({ ...textMessage({ from: CUSTOMER, body: 'x' }), id: '' }));
    const { batches, skipped } = parseOk(metaEnvelope([{ wabaId: WABA, phoneNumberId: PHONE_ID, messages: [...messages, textMessage({ from: CUSTOMER, body: 'última' })] }]));
    assert.equal(skipped.length, 50);
    assert.deepEqual(batches[0]!.messages.map((m) => m.text), ['última']);
  });
});

describe('FakeGraphApi: sends and media', () => {
  const graph = new FakeGraphApi();
  const number = graph.addNumber({ phoneNumberId: PHONE_ID, wabaId: WABA, accessToken: 'token-1', displayPhoneNumber: '+55 11 90000-0000', verifiedName: 'Barbearia' });
  const auth = { authorization: `Bearer ${number.accessToken}`, 'content-type': 'application/json' };
  let base = '';
  const post = (body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${base}/v23.0/${PHONE_ID}/messages`, { method: 'POST', headers, body: JSON.stringify(body) });

  before(async () => {
    base = await graph.start();
  });
  after(async () => {
    await graph.stop();
  });
  beforeEach(() => graph.reset());

  it('accepts a text send, records it and answers like Meta', async () => {
    const waiting = graph.waitForSent((m) => m.to === CUSTOMER && m.text === 'Olá!', 2_000);
    const res = await post({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'Olá!' }, biz_opaque_callback_data: 'conv-9', context: { message_id: 'wamid.q' } });
    assert.equal(res.status, 200);
    const body: any = await res.json();
    assert.deepEqual(body.contacts, [{ input: CUSTOMER, wa_id: CUSTOMER }]);
    assert.equal(body.messages[0].message_status, 'accepted');
    assert.match(body.messages[0].id, /^wamid\.[\w-]+$/);
    const sent = await waiting;
    assert.equal(sent.wamid, body.messages[0].id);
    assert.equal(sent.bizOpaqueCallbackData, 'conv-9');
    assert.equal(sent.contextMessageId, 'wamid.q');
    assert.equal(graph.sentTo(CUSTOMER).length, 1);

    const tpl = await post({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'template', template: { name: 'lembrete', language: { code: 'pt_BR' } } });
    assert.equal(tpl.status, 200);
    assert.equal(graph.sentTo(CUSTOMER)[1]?.templateName, 'lembrete');
  });

  it('validates sends and the token', async () => {
    const bad = async (body: unknown, headers?: Record<string, string>) => {
      const res = await post(body, headers);
      return { status: res.status, body: (await res.json()) as any };
    };
    let r = await bad({ messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 100);
    r = await bad({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'x'.repeat(4097) } });
    assert.match(r.body.error.error_data.details, /4096/);
    r = await bad({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'carousel' });
    assert.equal(r.status, 400);
    r = await bad({ to: CUSTOMER, type: 'text', text: { body: 'x' } });
    assert.equal(r.status, 400);
    r = await bad({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'x' } }, { authorization: 'Bearer nope' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 190);
    assert.equal(graph.sent.length, 0);
  });

  it('mark-as-read with typing indicator answers success and is not a send', async () => {
    graph.failNextSend(1, GRAPH_ERRORS.outsideWindow);
    const read = await post({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.in', typing_indicator: { type: 'text' } });
    assert.equal(read.status, 200);
    assert.deepEqual(await read.json(), { success: true });
    assert.equal(graph.readReceipts[0]?.typingIndicator, true);

    const send = await post({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'tarde demais' } });
    assert.equal(send.status, 400);
    const err: any = await send.json();
    assert.equal(err.error.code, 131047);
    assert.match(err.error.error_data.details, /24 hours/);
    assert.equal(graph.sent.length, 0);
  });

  it('failNext still applies to any request', async () => {
    graph.failNext(1, GRAPH_ERRORS.serverError);
    const res = await fetch(`${base}/v23.0/${PHONE_ID}`, { headers: auth });
    assert.equal(res.status, 500);
    assert.equal((await fetch(`${base}/v23.0/${PHONE_ID}`, { headers: auth })).status, 200);
  });

  it('latency delays answers', async () => {
    graph.setLatency(60, PHONE_ID);
    const started = performance.now();
    await post({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'x' } });
    assert.ok(performance.now() - started >= 55);
    graph.setLatency(0, PHONE_ID);
  });

  it('media: lookup, download with the bearer, expiry', async () => {
    const bytes = randomBytes(2048);
    graph.addMedia({ mediaId: '880011223344', bytes, mimeType: 'image/jpeg' });
    const info = await fetch(`${base}/v23.0/880011223344`, { headers: auth });
    assert.equal(info.status, 200);
    const meta: any = await info.json();
    assert.equal(meta.id, '880011223344');
    assert.equal(meta.mime_type, 'image/jpeg');
    assert.equal(meta.file_size, 2048);
    assert.equal(meta.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.ok(meta.url.startsWith(`${base}/media-download/`));

    assert.equal((await fetch(meta.url)).status, 401);
    const download = await fetch(meta.url, { headers: { authorization: auth.authorization } });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);

    assert.equal((await fetch(`${base}/v23.0/880011223344`, { headers: { authorization: 'Bearer nope' } })).status, 401);
    assert.equal((await fetch(`${base}/media-download/unknown`, { headers: auth })).status, 404);

    const realNow = graph.now;
    graph.now = () => realNow() + 5 * 60_000 + 1;
    try {
      assert.equal((await fetch(meta.url, { headers: auth })).status, 404);
    } finally {
      graph.now = realNow;
    }
  });
});
