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
  reaction?: { messageId: string; emoji?: string }; // emoji absent = reaction removed
  contextMessageId?: string; // the message this one answers or quotes
  referral?: Record<string, unknown>; // click-to-WhatsApp ad data (lead source)
  // Meta's type object as received, minus nothing: kept for the record and for types we do not model.
  raw: Record<string, unknown>;
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
  statuses: StatusUpdate[];
  errors: WhatsAppError[];
}
