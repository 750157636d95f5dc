import { z } from 'zod';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type InboundMessage,
  type InboundType,
  type StatusUpdate,
  type WebhookBatch,
  type WhatsAppError,
} from '../../domain/whatsapp-messages';

// Validation of Meta's WhatsApp webhook envelope and its normalization into the domain shapes.
// Objects are loose at every level because Meta adds fields without notice and a new field must
// not turn a delivery into a rejection; the fields Meta documents are still type-checked, so a
// malformed or forged payload fails loudly with the path of what is wrong.

export type WebhookIssue = { path: string; message: string };
export type ParsedWebhook =
  | { ok: true; batches: WebhookBatch[]; ignoredFields: string[] }
  | { ok: false; issues: WebhookIssue[] };

// A payload of 1,000 bad updates would otherwise produce an issue list larger than the payload.
const MAX_ISSUES = 50;

const nonEmpty = z.string().min(1);
const unixSeconds = z.string().regex(/^\d+$/, 'must be unix seconds as a string of digits');

const errorSchema = z.looseObject({
  code: z.number().int(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
  href: z.string().optional(),
});

const contactSchema = z.looseObject({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional() }).optional(),
});

// Fields every message carries whatever its type. The type's own object is checked separately,
// and only for types we model, so an unmodeled type (order, system…) never fails on its shape.
// `from` is optional because users with a WhatsApp username may arrive without a phone number,
// identified by the business-scoped `from_user_id` (and the contact's `user_id`) instead.
const messageSchema = z.looseObject({
  from: nonEmpty.optional(),
  from_user_id: nonEmpty.optional(),
  id: nonEmpty,
  timestamp: unixSeconds,
  type: nonEmpty,
  // Forwarded messages carry `context: { forwarded: true }` without an id.
  context: z.looseObject({ from: z.string().optional(), id: nonEmpty.optional() }).optional(),
  referral: z.looseObject({}).optional(),
  errors: z.array(errorSchema).optional(),
});

const mediaFields = { id: nonEmpty, mime_type: nonEmpty, sha256: z.string().optional(), url: z.string().optional() };
const replySchema = z.looseObject({ id: z.string(), title: z.string(), description: z.string().optional() });

const TYPE_SCHEMAS = {
  text: z.looseObject({ body: z.string() }),
  image: z.looseObject({ ...mediaFields, caption: z.string().optional() }),
  video: z.looseObject({ ...mediaFields, caption: z.string().optional() }),
  audio: z.looseObject({ ...mediaFields, voice: z.boolean().optional() }),
  document: z.looseObject({ ...mediaFields, caption: z.string().optional(), filename: z.string().optional() }),
  sticker: z.looseObject({ ...mediaFields, animated: z.boolean().optional() }),
  location: z.looseObject({
    latitude: z.number(),
    longitude: z.number(),
    name: z.string().optional(),
    address: z.string().optional(),
    url: z.string().optional(),
  }),
  contacts: z.array(z.looseObject({})),
  interactive: z
    .looseObject({ type: nonEmpty, button_reply: replySchema.optional(), list_reply: replySchema.optional() })
    .superRefine((v, ctx) => {
      if ((v.type === 'button_reply' || v.type === 'list_reply') && !v[v.type]) {
        ctx.addIssue({ code: 'custom', path: [v.type], message: `required when interactive.type is '${v.type}'` });
      }
    }),
  // Meta fills `payload` with the button text when the template defines none; tolerate it missing.
  button: z.looseObject({ payload: z.string().optional(), text: z.string() }),
  reaction: z.looseObject({ message_id: nonEmpty, emoji: z.string().optional() }),
} as const;
type ModeledType = keyof typeof TYPE_SCHEMAS;
const isModeled = (t: string): t is ModeledType => Object.hasOwn(TYPE_SCHEMAS, t);

const statusSchema = z.looseObject({
  id: nonEmpty,
  status: nonEmpty,
  timestamp: unixSeconds,
  // Optional for the same reason as a message's `from`: username users have only a user id.
  recipient_id: nonEmpty.optional(),
  recipient_user_id: nonEmpty.optional(),
  biz_opaque_callback_data: z.string().optional(),
  conversation: z
    .looseObject({
      id: z.string().optional(),
      origin: z.looseObject({ type: z.string() }).optional(),
      // Documented as a string but seen as a number in older payloads; the value is informational.
      expiration_timestamp: z.union([unixSeconds, z.number().int()]).optional(),
    })
    .optional(),
  pricing: z
    .looseObject({
      billable: z.boolean().optional(),
      pricing_model: z.string().optional(),
      category: z.string().optional(),
      type: z.string().optional(),
    })
    .optional(),
  errors: z.array(errorSchema).optional(),
});

const messagesValueSchema = z.looseObject({
  messaging_product: z.literal('whatsapp').optional(),
  metadata: z.looseObject({ display_phone_number: z.string().optional(), phone_number_id: nonEmpty }),
  contacts: z.array(contactSchema).optional(),
  messages: z.array(messageSchema).optional(),
  statuses: z.array(statusSchema).optional(),
  errors: z.array(errorSchema).optional(),
});

// Only the envelope is checked here: a change's value is validated once its `field` says what
// it is, so fields we do not handle (account_update, templates…) are skipped, never rejected.
export const whatsAppEnvelopeSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.looseObject({
      id: nonEmpty,
      changes: z.array(z.looseObject({ field: nonEmpty, value: z.unknown() })),
    }),
  ),
});

export const whatsAppMessagesValueSchema = messagesValueSchema;
export const whatsAppMessageSchema = messageSchema;
export const whatsAppStatusSchema = statusSchema;

type Path = readonly PropertyKey[];
type RawMessage = z.output<typeof messageSchema>;
type RawContact = z.output<typeof contactSchema>;
type RawError = z.output<typeof errorSchema>;

export function formatIssuePath(path: Path): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out;
}

export function parseWhatsAppWebhook(json: unknown): ParsedWebhook {
  const issues: WebhookIssue[] = [];
  const report = (base: Path, error: z.ZodError) => {
    for (const i of error.issues) {
      if (issues.length < MAX_ISSUES) issues.push({ path: formatIssuePath([...base, ...i.path]), message: i.message });
    }
  };

  const envelope = whatsAppEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    report([], envelope.error);
    return { ok: false, issues };
  }

  const batches: WebhookBatch[] = [];
  const ignored = new Set<string>();
  envelope.data.entry.forEach((entry, e) => {
    entry.changes.forEach((change, c) => {
      if (change.field !== 'messages') {
        ignored.add(change.field);
        return;
      }
      const at: Path = ['entry', e, 'changes', c, 'value'];
      const value = messagesValueSchema.safeParse(change.value);
      if (!value.success) return report(at, value.error);
      const v = value.data;
      const contacts = v.contacts ?? [];
      const messages: InboundMessage[] = [];
      (v.messages ?? []).forEach((m, k) => {
        const normalized = normalizeMessage(m, contacts);
        if (normalized.ok) messages.push(normalized.message);
        else report([...at, 'messages', k, ...normalized.at], normalized.error);
      });
      batches.push({
        wabaId: entry.id,
        phoneNumberId: v.metadata.phone_number_id,
        ...defined({ displayPhoneNumber: v.metadata.display_phone_number }),
        contacts: contacts.map((ct) => defined({ waId: ct.wa_id, userId: ct.user_id, profileName: ct.profile?.name })),
        messages,
        statuses: (v.statuses ?? []).flatMap((s): StatusUpdate[] => {
          // Meta sends statuses beyond the delivery lifecycle (`deleted`, `warning`…) and may add
          // more; they say nothing about delivery, so they are dropped rather than failing the
          // whole delivery, which Meta would then retry for days.
          if (!isDeliveryStatus(s.status)) return [];
          return [
            {
              wamid: s.id,
              status: s.status,
              timestamp: Number(s.timestamp),
              recipient: defined({ waId: s.recipient_id, userId: s.recipient_user_id }),
              errors: (s.errors ?? []).map(normalizeError),
              ...defined({ bizOpaqueCallbackData: s.biz_opaque_callback_data, pricing: s.pricing, conversation: s.conversation }),
            },
          ];
        }),
        errors: (v.errors ?? []).map(normalizeError),
      });
    });
  });

  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, batches, ignoredFields: [...ignored] };
}

const deliveryStatuses: ReadonlySet<string> = new Set(DELIVERY_STATUSES);
const isDeliveryStatus = (s: string): s is DeliveryStatus => deliveryStatuses.has(s);

function normalizeError(e: RawError): WhatsAppError {
  return { code: e.code, ...defined({ title: e.title, message: e.message, details: e.error_data?.details, href: e.href }) };
}

type Normalized = { ok: true; message: InboundMessage } | { ok: false; at: Path; error: z.ZodError };

function normalizeMessage(m: RawMessage, contacts: RawContact[]): Normalized {
  const sender = resolveSender(m, contacts);
  if (!sender) {
    const error = new z.ZodError([
      { code: 'custom', path: [], input: m.from, message: 'message has no sender: neither from nor from_user_id, and no single contact to take it from' },
    ]);
    return { ok: false, at: ['from'], error };
  }
  const base = {
    wamid: m.id,
    timestamp: Number(m.timestamp),
    from: sender,
    ...defined({ contextMessageId: m.context?.id, referral: m.referral }),
    raw: m as Record<string, unknown>,
  };
  const unsupported = (): Normalized => ({ ok: true, message: { ...base, type: 'unsupported', text: '' } });

  const type = m.type;
  if (!isModeled(type)) return unsupported();
  const ok = (t: InboundType, text: string, extra: Partial<InboundMessage> = {}): Normalized => ({
    ok: true,
    message: { ...base, type: t, text, ...extra },
  });
  const invalid = (error: z.ZodError): Normalized => ({ ok: false, at: [type], error });

  switch (type) {
    case 'text': {
      const o = TYPE_SCHEMAS.text.safeParse(m.text);
      return o.success ? ok('text', o.data.body) : invalid(o.error);
    }
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const o = TYPE_SCHEMAS[type].safeParse(m[type]);
      if (!o.success) return invalid(o.error);
      const d: { id: string; mime_type: string; sha256?: string; caption?: string; filename?: string; voice?: boolean } = o.data;
      const media = defined({ mediaId: d.id, mimeType: d.mime_type, sha256: d.sha256, caption: d.caption, filename: d.filename, voice: d.voice });
      return ok(type, d.caption ?? '', { media });
    }
    case 'location': {
      const o = TYPE_SCHEMAS.location.safeParse(m.location);
      if (!o.success) return invalid(o.error);
      const d = o.data;
      const location = defined({ latitude: d.latitude, longitude: d.longitude, name: d.name, address: d.address });
      return ok('location', d.name ?? d.address ?? '', { location });
    }
    case 'contacts': {
      const o = TYPE_SCHEMAS.contacts.safeParse(m.contacts);
      return o.success ? ok('contacts', '') : invalid(o.error);
    }
    case 'interactive': {
      const o = TYPE_SCHEMAS.interactive.safeParse(m.interactive);
      if (!o.success) return invalid(o.error);
      const d = o.data;
      // Flow answers (nfm_reply) and other interactive kinds have no place in the domain shape yet;
      // they travel as unsupported with the raw object so nothing is lost.
      const kind: 'button_reply' | 'list_reply' | undefined =
        d.type === 'button_reply' || d.type === 'list_reply' ? d.type : undefined;
      const reply = kind && d[kind];
      if (!kind || !reply) return unsupported();
      const interactive = defined({ kind, id: reply.id, title: reply.title, description: reply.description });
      return ok('interactive', reply.title, { interactive });
    }
    case 'button': {
      const o = TYPE_SCHEMAS.button.safeParse(m.button);
      if (!o.success) return invalid(o.error);
      return ok('button', o.data.text, { interactive: { kind: 'quick_reply', id: o.data.payload ?? o.data.text, title: o.data.text } });
    }
    case 'reaction': {
      const o = TYPE_SCHEMAS.reaction.safeParse(m.reaction);
      if (!o.success) return invalid(o.error);
      // Meta signals a removed reaction by leaving the emoji out (or empty): both mean "removed".
      const emoji = o.data.emoji || undefined;
      return ok('reaction', emoji ?? '', { reaction: defined({ messageId: o.data.message_id, emoji }) });
    }
  }
}

// The domain keys a sender on both ids: take them from the message, then complete them (and the
// profile name) from the contacts entry that shares either id.
function resolveSender(m: RawMessage, contacts: RawContact[]): InboundMessage['from'] | undefined {
  const match =
    m.from || m.from_user_id
      ? contacts.find((c) => (m.from && c.wa_id === m.from) || (m.from_user_id && c.user_id === m.from_user_id))
      : contacts.length === 1
        ? contacts[0]
        : undefined;
  const waId = m.from ?? match?.wa_id;
  const userId = m.from_user_id ?? match?.user_id;
  if (!waId && !userId) return undefined;
  return defined({ waId, userId, profileName: match?.profile?.name });
}

// Keys with undefined values vanish in workflow histories anyway; dropping them here keeps the
// shape identical before and after a round trip through JSON.
function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
