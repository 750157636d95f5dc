import { z } from 'zod';
import {
  DELIVERY_STATUSES,
  formText,
  type DeliveryStatus,
  type IdentityChange,
  type InboundMessage,
  type InboundType,
  type StatusUpdate,
  type WebhookBatch,
  type WhatsAppError,
} from '../../domain/whatsapp-messages';

// Validation of Meta's WhatsApp webhook envelope and its normalization into the domain shapes.
// Objects are loose at every level because Meta adds fields without notice and a new field must
// not turn a delivery into a rejection; the fields Meta documents are still type-checked, and
// what fails is named by its path: the envelope refuses the delivery, anything inside it is
// skipped on its own.

export type WebhookIssue = { path: string; message: string };
export type ParsedWebhook =
  | { ok: true; batches: WebhookBatch[]; ignoredFields: string[]; skipped: WebhookIssue[]; preferences: MarketingPreference[] }
  | { ok: false; issues: WebhookIssue[] };

// Meta's `user_preferences` change: a person stopped (or resumed) the business's marketing
// messages from WhatsApp itself ("Stop promotions").
export interface MarketingPreference {
  wabaId: string;
  phoneNumberId: string;
  waId: string;
  value: 'stop' | 'resume';
  detail?: string;
  timestamp: number; // unix seconds
}


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
// and only for types we model, so an unmodeled type (order, request_welcome…) never fails on its
// shape: it is a guest's message all the same, stored as 'unsupported' with its raw object for the
// attendant. `system` messages are not messages at all (see normalizeSystem).
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
    .looseObject({
      type: nonEmpty,
      button_reply: replySchema.optional(),
      list_reply: replySchema.optional(),
      // A WhatsApp Flow's answer: `response_json` is the submitted fields as a JSON string.
      nfm_reply: z.looseObject({ name: z.string().optional(), body: z.string().optional(), response_json: z.string() }).optional(),
    })
    .superRefine((v, ctx) => {
      if ((v.type === 'button_reply' || v.type === 'list_reply' || v.type === 'nfm_reply') && !v[v.type]) {
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

// What a `messages` change must hold to be routed at all; its lists are checked item by item
// below, so one odd message or status never takes the others down with it.
const messagesValueSchema = z.looseObject({
  messaging_product: z.literal('whatsapp').optional(),
  metadata: z.looseObject({ display_phone_number: z.string().optional(), phone_number_id: nonEmpty }),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

// Only the envelope can fail a delivery: it is what tells us this is Meta's WhatsApp webhook at
// all. Each change is then judged on its own (see parseWhatsAppWebhook).
export const whatsAppEnvelopeSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.looseObject({ id: nonEmpty, changes: z.array(z.unknown()) })),
});

const changeSchema = z.looseObject({ field: nonEmpty, value: z.unknown() });

const userPreferencesValueSchema = z.looseObject({
  metadata: z.looseObject({ phone_number_id: nonEmpty }),
  user_preferences: z.array(z.unknown()),
});
const userPreferenceSchema = z.looseObject({
  wa_id: nonEmpty,
  detail: z.string().optional(),
  category: nonEmpty,
  value: nonEmpty,
  timestamp: z.union([unixSeconds, z.number().int().nonnegative()]),
});

// `system` messages: the user's phone number or business-scoped user id changed. Meta sends them
// without a contacts entry, and `user_changed_user_id` without any phone number.
const systemSchema = z.looseObject({
  type: z.string().optional(),
  body: z.string().optional(),
  wa_id: nonEmpty.optional(), // the new phone number
  new_wa_id: z.union([nonEmpty, z.number()]).optional(), // the same, before Graph API v12
  customer: nonEmpty.optional(), // the old phone number, in `customer_changed_number`
  user_id: nonEmpty.optional(), // the new business-scoped user id
  previous_user_id: nonEmpty.optional(),
  parent_user_id: nonEmpty.optional(),
  previous_parent_user_id: nonEmpty.optional(),
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

// An envelope that is not Meta's is refused whole (400 with the paths). Inside a valid envelope
// every change, message and status is judged on its own: one we cannot use (a field we do not
// handle, a malformed item, a system event that changes nothing) is left out and listed in
// `skipped` with its path, for the logs, and the rest of the delivery goes through. Refusing the
// whole delivery would make Meta redeliver it, good messages included, for days.
export function parseWhatsAppWebhook(json: unknown): ParsedWebhook {
  const envelope = whatsAppEnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, issues: issuesOf([], envelope.error) };

  const skipped: WebhookIssue[] = [];
  const skip = (at: Path, error: z.ZodError | string) => {
    for (const i of issuesOf(at, error)) if (skipped.length < MAX_ISSUES) skipped.push(i);
  };
  const batches: WebhookBatch[] = [];
  const preferences: MarketingPreference[] = [];
  const ignored = new Set<string>();
  envelope.data.entry.forEach((entry, e) => {
    entry.changes.forEach((rawChange, c) => {
      const at: Path = ['entry', e, 'changes', c];
      const change = changeSchema.safeParse(rawChange);
      if (!change.success) return skip(at, change.error);
      if (change.data.field === 'user_preferences') {
        const value = userPreferencesValueSchema.safeParse(change.data.value);
        if (!value.success) return skip([...at, 'value'], value.error);
        value.data.user_preferences.forEach((raw, k) => {
          const p = userPreferenceSchema.safeParse(raw);
          if (!p.success) return skip([...at, 'value', 'user_preferences', k], p.error);
          // Only marketing stops and resumes are defined; anything else is Meta's future.
          if (p.data.category !== 'marketing_messages' || (p.data.value !== 'stop' && p.data.value !== 'resume')) {
            return skip([...at, 'value', 'user_preferences', k], `preference ${p.data.category}=${p.data.value} is not one we act on`);
          }
          preferences.push({
            wabaId: entry.id,
            phoneNumberId: value.data.metadata.phone_number_id,
            waId: p.data.wa_id,
            value: p.data.value,
            ...(p.data.detail ? { detail: p.data.detail } : {}),
            timestamp: Number(p.data.timestamp),
          });
        });
        return;
      }
      if (change.data.field !== 'messages') {
        ignored.add(change.data.field);
        return;
      }
      const value = messagesValueSchema.safeParse(change.data.value);
      if (!value.success) return skip([...at, 'value'], value.error);
      batches.push(normalizeValue(entry.id, value.data, [...at, 'value'], skip));
    });
  });
  return { ok: true, batches, ignoredFields: [...ignored], skipped, preferences };
}

type Skip = (at: Path, error: z.ZodError | string) => void;

function normalizeValue(wabaId: string, v: z.output<typeof messagesValueSchema>, at: Path, skip: Skip): WebhookBatch {
  // Each list item on its own: a bad one is skipped with its path, its neighbours are kept.
  const each = <S extends z.ZodType>(list: unknown[] | undefined, key: string, schema: S): { item: z.output<S>; k: number }[] =>
    (list ?? []).flatMap((raw, k) => {
      const r = schema.safeParse(raw);
      if (r.success) return [{ item: r.data as z.output<S>, k }];
      skip([...at, key, k], r.error);
      return [];
    });

  const contacts = each(v.contacts, 'contacts', contactSchema).map((x) => x.item);
  const messages: InboundMessage[] = [];
  const identityChanges: IdentityChange[] = [];
  for (const { item: m, k } of each(v.messages, 'messages', messageSchema)) {
    if (m.type === 'system') {
      const change = normalizeSystem(m, messages.length);
      if (change.ok) identityChanges.push(change.change);
      else skip([...at, 'messages', k, ...change.at], change.reason);
      continue;
    }
    const normalized = normalizeMessage(m, contacts);
    if (normalized.ok) messages.push(normalized.message);
    else skip([...at, 'messages', k, ...normalized.at], normalized.error);
  }
  const statuses = each(v.statuses, 'statuses', statusSchema).flatMap(({ item: s }): StatusUpdate[] => {
    // Meta sends statuses beyond the delivery lifecycle (`deleted`, `warning`…) and may add
    // more; they say nothing about delivery, so they are dropped.
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
  });
  return {
    wabaId,
    phoneNumberId: v.metadata.phone_number_id,
    ...defined({ displayPhoneNumber: v.metadata.display_phone_number }),
    contacts: contacts.map((ct) => defined({ waId: ct.wa_id, userId: ct.user_id, profileName: ct.profile?.name })),
    messages,
    identityChanges,
    statuses,
    errors: each(v.errors, 'errors', errorSchema).map(({ item }) => normalizeError(item)),
  };
}

function issuesOf(base: Path, error: z.ZodError | string): WebhookIssue[] {
  if (typeof error === 'string') return [{ path: formatIssuePath(base), message: error }];
  return error.issues.slice(0, MAX_ISSUES).map((i) => ({ path: formatIssuePath([...base, ...i.path]), message: i.message }));
}

type NormalizedSystem = { ok: true; change: IdentityChange } | { ok: false; at: Path; reason: string };

// Which identifiers the person had and has now. Meta names the old ones on the message (`from`,
// `from_user_id`) or, since August 2026, in `system.previous_user_id`; the new ones in `system`.
function normalizeSystem(m: RawMessage, afterMessages: number): NormalizedSystem {
  const parsed = systemSchema.safeParse(m.system);
  if (!parsed.success) return { ok: false, at: ['system'], reason: parsed.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`).join('; ') };
  const sys = parsed.data;
  const kind = sys.type;
  let previous: IdentityChange['previous'];
  let current: IdentityChange['current'];
  if (kind === 'user_changed_number' || kind === 'customer_changed_number') {
    previous = defined({ waId: m.from ?? sys.customer, userId: sys.previous_user_id ?? m.from_user_id });
    current = defined({ waId: sys.wa_id ?? (sys.new_wa_id === undefined ? undefined : String(sys.new_wa_id)), userId: sys.user_id });
  } else if (kind === 'user_changed_user_id') {
    // `from_user_id`, when Meta adds it, may already be the new id: only a different one is old.
    const fromUser = m.from_user_id && m.from_user_id !== sys.user_id ? m.from_user_id : undefined;
    previous = defined({ waId: m.from, userId: sys.previous_user_id ?? fromUser });
    current = defined({ userId: sys.user_id });
  } else {
    return { ok: false, at: ['system', 'type'], reason: `system event '${kind ?? ''}' changes no identifier we keep` };
  }
  if (!previous.waId && !previous.userId) return { ok: false, at: ['system'], reason: `${kind}: no previous identifier to find the contact by` };
  if (!current.waId && !current.userId) return { ok: false, at: ['system'], reason: `${kind}: no new identifier` };
  if (current.waId === previous.waId && current.userId === previous.userId) return { ok: false, at: ['system'], reason: `${kind}: nothing changed` };
  return { ok: true, change: { wamid: m.id, timestamp: Number(m.timestamp), kind, previous, current, afterMessages } };
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
  };
  // A type we do not model keeps its own object (and Meta's errors) for the record; the rest of
  // Meta's message is not carried.
  const unmodeled = (keys: string[]) => {
    const kept = Object.fromEntries(keys.filter((k) => (m as Record<string, unknown>)[k] !== undefined).map((k) => [k, (m as Record<string, unknown>)[k]]));
    return Object.keys(kept).length ? { unmodeled: kept } : {};
  };
  const unsupported = (): Normalized => ({ ok: true, message: { ...base, type: 'unsupported', text: '', ...unmodeled([m.type, 'errors']) } });

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
      return o.success ? ok('contacts', '', unmodeled(['contacts'])) : invalid(o.error);
    }
    case 'interactive': {
      const o = TYPE_SCHEMAS.interactive.safeParse(m.interactive);
      if (!o.success) return invalid(o.error);
      const d = o.data;
      if (d.type === 'nfm_reply' && d.nfm_reply) {
        const r = d.nfm_reply;
        const form = defined({ name: r.name || 'flow', body: r.body, fields: parseFormFields(r.response_json) });
        return ok('interactive', formText(form), { form });
      }
      // Other interactive kinds have no place in the domain shape yet; they travel as unsupported
      // with the raw object so nothing is lost.
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

// The answer is kept even when its JSON is not an object of fields (the raw message still has the
// string): the attendant sees that a form was sent.
function parseFormFields(responseJson: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(responseJson);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
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
