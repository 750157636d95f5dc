// What Orquestra keeps of a WhatsApp message once Meta's webhook envelope has been verified and
// validated: one shape for every inbound type, so the conversation workflow, the store and the
// AI read the same thing. Plain data only — it travels through workflow histories.

export const INBOUND_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'unsupported',
] as const;
export type InboundType = (typeof INBOUND_TYPES)[number];

export const MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export interface InboundMedia {
  mediaId: string; // Meta's media id: expires 7 days after the webhook
  mimeType: string;
  sha256?: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
}

export interface InboundMessage {
  wamid: string;
  // Unix seconds (Meta's `timestamp`), as a number. Opens/refreshes the 24-hour window.
  timestamp: number;
  type: InboundType;
  // The sender as Meta named it: `from` (a wa_id) and/or the business-scoped user id.
  from: { waId?: string; userId?: string; profileName?: string };
  // Plain text the AI and the inbox read: the body, a caption, a button/list title, a
  // location's name, an emoji reaction…; empty when the type carries none.
  text: string;
  media?: InboundMedia;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  interactive?: { kind: 'button_reply' | 'list_reply' | 'quick_reply'; id: string; title: string; description?: string };
  // A WhatsApp Flow's answer (`interactive.nfm_reply`): `text` is formText(form), what the
  // attendant reads; `fields` keeps the submitted values as Meta sent them.
  form?: InboundForm;
  reaction?: { messageId: string; emoji?: string }; // emoji absent = reaction removed
  contextMessageId?: string; // the message this one answers or quotes
  referral?: Record<string, unknown>; // click-to-WhatsApp ad data (lead source)
  // Meta's raw message object is not carried (it repeats all of the above and whatever else Meta
  // adds): only, for a type we do not model (unsupported, a shared contact card), that type's own
  // object and Meta's `errors`, the one copy of what the message held.
  unmodeled?: Record<string, unknown>;
}

export interface InboundForm {
  name: string; // Meta's nfm_reply.name: 'flow', 'address_message'…
  body?: string; // Meta's caption of the answer ('Sent' for flows)
  fields: Record<string, unknown>; // response_json, parsed; {} when it was not a JSON object
}

// Internal to the flow's plumbing, meaningless to the attendant.
const HIDDEN_FORM_FIELDS: ReadonlySet<string> = new Set(['flow_token']);

const FORM_TITLES: Record<string, string> = { address_message: 'Endereço enviado' };
const DEFAULT_FORM_TITLE = 'Formulário enviado';

// The attendant's view of a flow answer, one bullet per submitted field in the order the flow
// sent them:
//   Formulário enviado:
//   • nome: Ana
//   • data: 2026-12-20
// Booleans read "sim"/"não", lists are joined with ", ", empty values show "—", nested objects
// are shown as JSON. With nothing to show, just the title and a full stop.
export function formText(form: InboundForm): string {
  const title = FORM_TITLES[form.name] ?? DEFAULT_FORM_TITLE;
  const lines = Object.entries(form.fields)
    .filter(([key]) => !HIDDEN_FORM_FIELDS.has(key))
    .map(([key, value]) => `• ${key}: ${formValue(value)}`);
  return lines.length ? `${title}:\n${lines.join('\n')}` : `${title}.`;
}

function formValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'sim' : 'não';
  if (typeof value === 'string') return value.trim() || '—';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length ? value.map(formValue).join(', ') : '—';
  return JSON.stringify(value);
}

// A person's identifiers changing, as Meta reports it in a `system` message: a new phone number
// (`user_changed_number`, formerly `customer_changed_number`) or a new business-scoped user id
// (`user_changed_user_id`, which carries no phone number). It updates the contact and is not a
// message: nothing is stored in the inbox and no conversation hears of it.
export interface IdentityChange {
  wamid: string;
  timestamp: number; // unix seconds
  kind: 'user_changed_number' | 'customer_changed_number' | 'user_changed_user_id';
  previous: { waId?: string; userId?: string };
  current: { waId?: string; userId?: string };
  // How many of the batch's messages came before it in the payload, so it is applied in order:
  // a guest's text from the old number still finds the old number.
  afterMessages: number;
}

export const DELIVERY_STATUSES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface WhatsAppError {
  code: number;
  title?: string;
  message?: string;
  details?: string;
  href?: string;
}

export interface StatusUpdate {
  wamid: string;
  status: DeliveryStatus;
  timestamp: number; // unix seconds
  recipient: { waId?: string; userId?: string };
  errors: WhatsAppError[];
  bizOpaqueCallbackData?: string;
  pricing?: Record<string, unknown>;
  conversation?: Record<string, unknown>;
}

// One `value` of one change of one entry: everything in it belongs to one business number.
export interface WebhookBatch {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
  contacts: { waId?: string; userId?: string; profileName?: string }[];
  messages: InboundMessage[];
  identityChanges: IdentityChange[];
  statuses: StatusUpdate[];
  errors: WhatsAppError[];
}
