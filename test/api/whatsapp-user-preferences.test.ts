import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWhatsAppWebhook } from '../../api/webhooks/whatsapp-payload';

// Meta's `user_preferences` change (a person stopping or resuming marketing messages from
// WhatsApp), as documented in the webhook reference, judged item by item like messages are.
const envelope = (preferences: unknown[], metadata: unknown = { display_phone_number: '5511999990001', phone_number_id: '100000000000001' }) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '200000000000001',
      changes: [
        {
          field: 'user_preferences',
          value: { messaging_product: 'whatsapp', metadata, contacts: [{ profile: { name: 'Ana' }, wa_id: '5511988887777' }], user_preferences: preferences },
        },
      ],
    },
  ],
});

const stop = { wa_id: '5511988887777', detail: 'User requested to stop marketing messages', category: 'marketing_messages', value: 'stop', timestamp: 1764633600 };

describe('user_preferences webhook', () => {
  it('a stop, with its number, WABA and time', () => {
    const r = parseWhatsAppWebhook(envelope([stop]));
    assert.ok(r.ok);
    assert.deepEqual(r.preferences, [
      { wabaId: '200000000000001', phoneNumberId: '100000000000001', waId: '5511988887777', value: 'stop', detail: stop.detail, timestamp: 1764633600 },
    ]);
    assert.deepEqual(r.ignoredFields, []);
    assert.deepEqual(r.batches, []);
  });

  const cases: [string, unknown, 'kept' | 'skipped'][] = [
    ['resume is kept (the route decides it grants nothing)', { ...stop, value: 'resume' }, 'kept'],
    ['the timestamp as a string of digits', { ...stop, timestamp: '1764633600' }, 'kept'],
    ['no detail', { ...stop, detail: undefined }, 'kept'],
    ['another category', { ...stop, category: 'offers_and_announcements' }, 'skipped'],
    ['a value Meta does not document', { ...stop, value: 'interested' }, 'skipped'],
    ['no wa_id', { ...stop, wa_id: undefined }, 'skipped'],
    ['a timestamp that is not a time', { ...stop, timestamp: 'yesterday' }, 'skipped'],
  ];
  for (const [why, item, outcome] of cases) {
    it(why, () => {
      const r = parseWhatsAppWebhook(envelope([item, stop]));
      assert.ok(r.ok);
      assert.equal(r.preferences.length, outcome === 'kept' ? 2 : 1, JSON.stringify(r));
      assert.equal(r.skipped.length, outcome === 'kept' ? 0 : 1);
      if (outcome === 'skipped') assert.match(r.skipped[0]!.path, /^entry\[0\]\.changes\[0\]\.value\.user_preferences\[0\]/);
    });
  }

  it('a change without metadata is skipped whole; the envelope still stands', () => {
    const r = parseWhatsAppWebhook(envelope([stop], null));
    assert.ok(r.ok);
    assert.deepEqual(r.preferences, []);
    assert.equal(r.skipped[0]!.path.startsWith('entry[0].changes[0].value'), true);
  });
});
