import { createHash, randomBytes } from 'node:crypto';

// Webhook payloads in the shape Meta documents for the WhatsApp Cloud API, so tests and the
// benchmark exercise the parser with what production will actually receive. Every builder returns
// plain JSON-ready objects; nothing here knows about Orquestra's normalized types.

export type MetaObject = Record<string, unknown>;

export const wamid = (): string => `wamid.${randomBytes(30).toString('base64url')}`;
export const mediaId = (): string => String(10n ** 15n + BigInt(randomBytes(6).readUIntBE(0, 6)));
const nowSeconds = (): string => String(Math.floor(Date.now() / 1000));

export interface MetaContact {
  profile: { name: string };
  wa_id?: string;
  user_id?: string;
}

export function contact(o: { waId?: string; name: string; userId?: string }): MetaContact {
  return { profile: { name: o.name }, ...(o.waId ? { wa_id: o.waId } : {}), ...(o.userId ? { user_id: o.userId } : {}) };
}

export interface MetaBatch {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
  // Defaults to one contact per distinct sender of `messages`, as Meta always sends them alongside
  // inbound messages; pass [] to leave them out.
  contacts?: MetaContact[];
  messages?: MetaObject[];
  statuses?: MetaObject[];
  errors?: MetaObject[];
}

// Batches sharing a wabaId become changes of one entry, as Meta groups them, so a single call can
// build the "several entries × several changes" deliveries that happen under load.
export function metaEnvelope(batches: MetaBatch[]): { object: 'whatsapp_business_account'; entry: { id: string; changes: { field: string; value: MetaObject }[] }[] } {
  const entries = new Map<string, { id: string; changes: { field: string; value: MetaObject }[] }>();
  for (const b of batches) {
    let entry = entries.get(b.wabaId);
    if (!entry) entries.set(b.wabaId, (entry = { id: b.wabaId, changes: [] }));
    const value: MetaObject = {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: b.displayPhoneNumber ?? displayFor(b.phoneNumberId), phone_number_id: b.phoneNumberId },
    };
    const contacts = b.contacts ?? contactsOf(b.messages ?? []);
    if (contacts.length > 0) value.contacts = contacts;
    if (b.messages?.length) value.messages = b.messages;
    if (b.statuses?.length) value.statuses = b.statuses;
    if (b.errors?.length) value.errors = b.errors;
    entry.changes.push({ field: 'messages', value });
  }
  return { object: 'whatsapp_business_account', entry: [...entries.values()] };
}

// Deterministic so two builds of the same batch agree; real numbers are E.164 digits without '+'.
const displayFor = (phoneNumberId: string) => `55119${phoneNumberId.replace(/\D/g, '').padStart(8, '0').slice(-8)}`;

function contactsOf(messages: MetaObject[]): MetaContact[] {
  const seen = new Map<string, MetaContact>();
  for (const m of messages) {
    // System messages (identity changes) come without a contacts entry.
    if (m.type === 'system') continue;
    const waId = typeof m.from === 'string' ? m.from : undefined;
    const userId = typeof m.from_user_id === 'string' ? m.from_user_id : undefined;
    const key = waId ?? userId;
    if (!key || seen.has(key)) continue;
    seen.set(key, contact({ waId, userId, name: `Cliente ${key.slice(-4)}` }));
  }
  return [...seen.values()];
}

export interface MessageBase {
  // A wa_id (phone digits). Username users may have only `userId`; Meta then omits `from`.
  from?: string;
  userId?: string;
  id?: string;
  timestamp?: string | number;
  context?: { id?: string; from?: string; forwarded?: boolean; frequently_forwarded?: boolean };
  referral?: MetaObject;
}

function base(o: MessageBase, type: string): MetaObject {
  return {
    ...(o.from ? { from: o.from } : {}),
    ...(o.userId ? { from_user_id: o.userId } : {}),
    id: o.id ?? wamid(),
    timestamp: o.timestamp === undefined ? nowSeconds() : String(o.timestamp),
    type,
    ...(o.context ? { context: o.context } : {}),
    ...(o.referral ? { referral: o.referral } : {}),
  };
}

export const textMessage = (o: MessageBase & { body: string }): MetaObject => ({ ...base(o, 'text'), text: { body: o.body } });

export interface MediaOptions extends MessageBase {
  mediaId?: string;
  mimeType?: string;
  // When given, `sha256` is computed from them so a test can register the same bytes on the fake
  // Graph API and check the download against the webhook.
  bytes?: Buffer;
  sha256?: string;
}

function media(o: MediaOptions, type: string, defaultMime: string, extra: MetaObject = {}): MetaObject {
  const sha256 = o.sha256 ?? createHash('sha256').update(o.bytes ?? randomBytes(16)).digest('hex');
  return { ...base(o, type), [type]: { mime_type: o.mimeType ?? defaultMime, sha256, id: o.mediaId ?? mediaId(), ...extra } };
}

export const imageMessage = (o: MediaOptions & { caption?: string }): MetaObject =>
  media(o, 'image', 'image/jpeg', o.caption === undefined ? {} : { caption: o.caption });
export const videoMessage = (o: MediaOptions & { caption?: string }): MetaObject =>
  media(o, 'video', 'video/mp4', o.caption === undefined ? {} : { caption: o.caption });
// Voice notes recorded in WhatsApp arrive as ogg/opus with `voice: true`.
export const audioMessage = (o: MediaOptions & { voice?: boolean }): MetaObject =>
  media(o, 'audio', 'audio/ogg; codecs=opus', { voice: o.voice ?? true });
export const documentMessage = (o: MediaOptions & { filename?: string; caption?: string }): MetaObject =>
  media(o, 'document', 'application/pdf', {
    ...(o.filename === undefined ? {} : { filename: o.filename }),
    ...(o.caption === undefined ? {} : { caption: o.caption }),
  });
export const stickerMessage = (o: MediaOptions & { animated?: boolean }): MetaObject =>
  media(o, 'sticker', 'image/webp', { animated: o.animated ?? false });

export const locationMessage = (
  o: MessageBase & { latitude: number; longitude: number; name?: string; address?: string; url?: string },
): MetaObject => ({
  ...base(o, 'location'),
  location: {
    latitude: o.latitude,
    longitude: o.longitude,
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.address === undefined ? {} : { address: o.address }),
    ...(o.url === undefined ? {} : { url: o.url }),
  },
});

// Replies to reply buttons and lists always quote the business message that offered them.
export const buttonReply = (o: MessageBase & { replyId: string; title: string; contextId?: string; businessNumber?: string }): MetaObject => ({
  ...base({ ...o, context: o.context ?? { from: o.businessNumber ?? '5511900000000', id: o.contextId ?? wamid() } }, 'interactive'),
  interactive: { type: 'button_reply', button_reply: { id: o.replyId, title: o.title } },
});

export const listReply = (
  o: MessageBase & { replyId: string; title: string; description?: string; contextId?: string; businessNumber?: string },
): MetaObject => ({
  ...base({ ...o, context: o.context ?? { from: o.businessNumber ?? '5511900000000', id: o.contextId ?? wamid() } }, 'interactive'),
  interactive: {
    type: 'list_reply',
    list_reply: { id: o.replyId, title: o.title, ...(o.description === undefined ? {} : { description: o.description }) },
  },
});

// A template's quick-reply button arrives as type "button", not "interactive".
export const templateQuickReply = (o: MessageBase & { payload: string; text: string; contextId?: string; businessNumber?: string }): MetaObject => ({
  ...base({ ...o, context: o.context ?? { from: o.businessNumber ?? '5511900000000', id: o.contextId ?? wamid() } }, 'button'),
  button: { payload: o.payload, text: o.text },
});

// Omitting the emoji is how Meta reports a reaction being removed.
export const reactionMessage = (o: MessageBase & { messageId: string; emoji?: string }): MetaObject => ({
  ...base(o, 'reaction'),
  reaction: { message_id: o.messageId, ...(o.emoji === undefined ? {} : { emoji: o.emoji }) },
});

// A WhatsApp Flow's answer: the submitted fields travel as a JSON string in `response_json`,
// with the flow's token among them; Meta's `body` is always "Sent" for flows.
export const flowReply = (
  o: MessageBase & { fields: MetaObject; flowToken?: string; name?: string; body?: string; responseJson?: string; contextId?: string; businessNumber?: string },
): MetaObject => ({
  ...base({ ...o, context: o.context ?? { from: o.businessNumber ?? '5511900000000', id: o.contextId ?? wamid() } }, 'interactive'),
  interactive: {
    type: 'nfm_reply',
    nfm_reply: {
      name: o.name ?? 'flow',
      body: o.body ?? 'Sent',
      response_json: o.responseJson ?? JSON.stringify({ flow_token: o.flowToken ?? 'flow-token-1', ...o.fields }),
    },
  },
});

// Meta's system messages for a changed identity, as its reference documents them (no contacts
// entry alongside):
// - `user_changed_number`: `from` is the old number; `system.wa_id` the new one, with the
//   regenerated business-scoped user id in `system.user_id` and the old in `previous_user_id`;
// - `user_changed_user_id`: no phone number anywhere; `system.user_id` is the new business-scoped
//   user id, `system.previous_user_id` the old one.
export function systemMessage(
  o: Omit<MessageBase, 'userId'> &
    (
      | { kind: 'user_changed_number'; newWaId: string; newUserId?: string; previousUserId?: string; name?: string }
      | { kind: 'user_changed_user_id'; newUserId: string; previousUserId: string; fromUserId?: string; name?: string }
    ),
): MetaObject {
  const name = o.name ?? 'Cliente';
  const system: MetaObject =
    o.kind === 'user_changed_number'
      ? {
          body: `User ${name} changed from ${o.from ?? ''} to ${o.newWaId}`,
          wa_id: o.newWaId,
          type: 'user_changed_number',
          ...(o.newUserId ? { user_id: o.newUserId } : {}),
          ...(o.previousUserId ? { previous_user_id: o.previousUserId } : {}),
        }
      : {
          body: `User ${name} changed from ${o.previousUserId} to ${o.newUserId}`,
          user_id: o.newUserId,
          previous_user_id: o.previousUserId,
          type: 'user_changed_user_id',
        };
  const from = o.kind === 'user_changed_number' ? o.from : undefined;
  const fromUserId = o.kind === 'user_changed_user_id' ? o.fromUserId : undefined;
  return { ...base({ ...o, from, userId: fromUserId }, 'system'), system };
}

export const contactsMessage = (o: MessageBase & { contacts: MetaObject[] }): MetaObject => ({ ...base(o, 'contacts'), contacts: o.contacts });

// Types Meta cannot render to the API (polls, view-once, …) arrive as "unsupported" with an error;
// pass `type` and `extra` to build other unmodeled types such as "order" or "system".
export const unsupportedMessage = (o: MessageBase & { type?: string; extra?: MetaObject }): MetaObject => {
  const type = o.type ?? 'unsupported';
  return {
    ...base(o, type),
    ...(type === 'unsupported'
      ? {
          errors: [
            {
              code: 131051,
              title: 'Message type unknown',
              message: 'Message type unknown',
              error_data: { details: 'Message type is currently not supported.' },
            },
          ],
        }
      : {}),
    ...o.extra,
  };
};

export interface MetaErrorInput {
  code: number;
  title: string;
  message?: string;
  details?: string;
  href?: string;
}

// Errors as they appear in failed statuses, for the codes the project branches on.
export const WEBHOOK_ERRORS = {
  outsideWindow: {
    code: 131047,
    title: 'Re-engagement message',
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  undeliverable: { code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' },
  pairRateLimited: { code: 131056, title: '(Business Account, Consumer Account) pair rate limit hit' },
  healthHold: { code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' },
} satisfies Record<string, MetaErrorInput>;

const metaError = (e: MetaErrorInput): MetaObject => ({
  code: e.code,
  title: e.title,
  message: e.message ?? e.title,
  error_data: { details: e.details ?? e.title },
  href: e.href ?? 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
});

export function statusUpdate(o: {
  id: string;
  status: string;
  recipientId?: string;
  recipientUserId?: string;
  errors?: MetaErrorInput[];
  timestamp?: string | number;
  bizOpaqueCallbackData?: string;
  // Per-message pricing (July 2025 onwards) is attached to sent/delivered by default; null drops it.
  pricing?: MetaObject | null;
  conversation?: MetaObject;
}): MetaObject {
  const pricing =
    o.pricing === undefined
      ? o.status === 'sent' || o.status === 'delivered'
        ? { billable: false, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' }
        : undefined
      : (o.pricing ?? undefined);
  return {
    id: o.id,
    status: o.status,
    timestamp: o.timestamp === undefined ? nowSeconds() : String(o.timestamp),
    ...(o.recipientId ? { recipient_id: o.recipientId } : {}),
    ...(o.recipientUserId ? { recipient_user_id: o.recipientUserId } : {}),
    ...(o.bizOpaqueCallbackData === undefined ? {} : { biz_opaque_callback_data: o.bizOpaqueCallbackData }),
    ...(o.conversation ? { conversation: o.conversation } : {}),
    ...(pricing ? { pricing } : {}),
    ...(o.errors?.length ? { errors: o.errors.map(metaError) } : {}),
  };
}
