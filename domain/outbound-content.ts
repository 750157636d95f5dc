import { z } from 'zod';

// What an attendant, an automation or the AI may send to a guest, validated once here (Meta's
// documented limits) and turned into the Graph API's `/messages` body by one pure function.

const text = z.object({
  type: z.literal('text'),
  text: z.string().trim().min(1).max(4096),
  previewUrl: z.boolean().optional(),
}).strict();

const template = z.object({
  type: z.literal('template'),
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'nome de modelo: letras minúsculas, dígitos e _'),
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/).default('pt_BR'),
  // Passed through as Meta defines them (header/body/button parameters).
  components: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
}).strict();

const button = z.object({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) }).strict();
const row = z.object({ id: z.string().min(1).max(200), title: z.string().min(1).max(24), description: z.string().max(72).optional() }).strict();

const interactive = z.object({
  type: z.literal('interactive'),
  body: z.string().min(1).max(1024),
  header: z.string().max(60).optional(),
  footer: z.string().max(60).optional(),
  buttons: z.array(button).min(1).max(3).optional(),
  list: z
    .object({
      button: z.string().min(1).max(20),
      sections: z.array(z.object({ title: z.string().max(24).optional(), rows: z.array(row).min(1).max(10) }).strict()).min(1).max(10),
    })
    .strict()
    .refine((l) => l.sections.reduce((n, s) => n + s.rows.length, 0) <= 10, 'no máximo 10 linhas no total')
    .optional(),
}).strict().refine((i) => (i.buttons ? 1 : 0) + (i.list ? 1 : 0) === 1, 'informe buttons ou list (exatamente um)');

const media = z.object({
  type: z.enum(['image', 'audio', 'video', 'document']),
  link: z.url().optional(),
  mediaId: z.string().min(1).max(200).optional(),
  caption: z.string().max(1024).optional(),
  filename: z.string().max(240).optional(),
}).strict().refine((m) => (m.link ? 1 : 0) + (m.mediaId ? 1 : 0) === 1, 'informe link ou mediaId (exatamente um)');

export const outboundContentSchema = z.union([text, template, interactive, media]);
export type OutboundContent = z.infer<typeof outboundContentSchema>;

// Only free-form content needs the 24-hour customer-service window; templates are the way back in.
export function needsOpenWindow(c: OutboundContent): boolean {
  return c.type !== 'template';
}

// The text kept in the inbox for an outbound message.
export function outboundPreview(c: OutboundContent): string {
  switch (c.type) {
    case 'text':
      return c.text;
    case 'template':
      return `[modelo: ${c.name}]`;
    case 'interactive':
      return c.body;
    default:
      return c.caption ?? `[${c.type}]`;
  }
}

export function toGraphMessage(c: OutboundContent, to: string, opts: { callbackData?: string; contextWamid?: string } = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  if (opts.callbackData) base.biz_opaque_callback_data = opts.callbackData;
  if (opts.contextWamid) base.context = { message_id: opts.contextWamid };
  switch (c.type) {
    case 'text':
      return { ...base, type: 'text', text: { body: c.text, preview_url: c.previewUrl ?? false } };
    case 'template':
      return { ...base, type: 'template', template: { name: c.name, language: { code: c.language }, ...(c.components ? { components: c.components } : {}) } };
    case 'interactive': {
      const common = {
        ...(c.header ? { header: { type: 'text', text: c.header } } : {}),
        body: { text: c.body },
        ...(c.footer ? { footer: { text: c.footer } } : {}),
      };
      const interactive = c.buttons
        ? { type: 'button', ...common, action: { buttons: c.buttons.map((b) => ({ type: 'reply', reply: b })) } }
        : { type: 'list', ...common, action: c.list };
      return { ...base, type: 'interactive', interactive };
    }
    default: {
      const object: Record<string, unknown> = c.link ? { link: c.link } : { id: c.mediaId };
      if (c.caption && c.type !== 'audio') object.caption = c.caption;
      if (c.filename && c.type === 'document') object.filename = c.filename;
      return { ...base, type: c.type, [c.type]: object };
    }
  }
}
