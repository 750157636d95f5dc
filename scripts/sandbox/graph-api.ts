import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A loopback stand-in for Meta's Graph API: real HTTP, Meta's documented response and error
// shapes, every request recorded, and failures injectable ahead of the normal answer.
export interface FakeNumber {
  phoneNumberId: string;
  wabaId: string;
  accessToken: string;
  displayPhoneNumber: string;
  verifiedName: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

export interface InjectedFailure {
  status: number;
  body: unknown;
}

// One message Meta accepted (acceptance only: delivery would come later as status webhooks).
export interface SentMessage {
  phoneNumberId: string;
  to: string;
  type: string;
  body: Record<string, unknown>; // the request body as sent
  text?: string; // text.body, an interactive body or a media caption: what the user would read
  templateName?: string;
  templateLanguage?: string;
  // template.components as sent: an authentication template's code is a body parameter there.
  components?: Record<string, unknown>[];
  bizOpaqueCallbackData?: string;
  contextMessageId?: string;
  wamid: string;
  receivedAt: number; // ms since epoch
}

export interface ReadReceipt {
  phoneNumberId: string;
  messageId: string;
  typingIndicator: boolean;
  receivedAt: number;
}

export interface FakeMedia {
  mediaId: string;
  bytes: Buffer;
  mimeType: string;
}

interface Reply {
  status: number;
  body: unknown;
  bytes?: Buffer;
  contentType?: string;
}

const graphError = (message: string, type: string, code: number, extra: Record<string, unknown> = {}) => ({
  error: { message, type, code, ...extra, fbtrace_id: randomBytes(8).toString('base64url') },
});

// Cloud API errors carry the human explanation in error_data.details, next to the messaging product.
const cloudError = (message: string, code: number, details: string) =>
  graphError(message, 'OAuthException', code, { error_data: { messaging_product: 'whatsapp', details } });

export const GRAPH_ERRORS = {
  invalidToken: { status: 401, body: graphError('Invalid OAuth access token - Cannot parse access token', 'OAuthException', 190) },
  serverError: { status: 500, body: graphError('An unexpected error has occurred. Please retry your request later.', 'OAuthException', 2, { is_transient: true }) },
  throttled: { status: 429, body: graphError('(#130429) Rate limit hit', 'OAuthException', 130429) },
  pairRateLimited: {
    status: 400,
    body: cloudError(
      '(#131056) (Business Account, Consumer Account) pair rate limit hit',
      131056,
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
    ),
  },
  outsideWindow: {
    status: 400,
    body: cloudError(
      'Re-engagement message',
      131047,
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    ),
  },
  undeliverable: { status: 400, body: cloudError('Message Undeliverable.', 131026, 'Message Undeliverable.') },
};

// Options for running the fake outside tests, as the local "Meta sandbox" of `npm start`. Tests
// construct it without options and see none of this.
export interface FakeGraphApiOptions {
  // Called after every accepted send (not for mark-as-read), e.g. to log what a guest would read.
  onSent?: (m: SentMessage) => void;
  // Serves GET /_sandbox/sent?to=<wa_id>[&since=<ms>] with the recorded sends, for local tooling
  // (scripts/demo-guest.ts). Such reads are not recorded in `requests`.
  exposeSandboxApi?: boolean;
  // Like Meta: after accepting a send, post its status webhooks (signed with the app secret) to
  // this URL, echoing biz_opaque_callback_data. Off unless configured.
  statusWebhooks?: { url: string; appSecret: string; statuses?: ('sent' | 'delivered' | 'read')[]; delayMs?: number };
}

const SEND_TYPES = new Set(['text', 'template', 'interactive', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'reaction', 'contacts']);
const MEDIA_SEND_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker']);
const TEXT_MAX = 4096;

export class FakeGraphApi {
  readonly requests: RecordedRequest[] = [];
  readonly sent: SentMessage[] = [];
  readonly readReceipts: ReadReceipt[] = [];
  // Meta's media URLs expire after 5 minutes; tests shorten this or move `now` to check expiry.
  mediaUrlTtlMs = 5 * 60_000;
  now: () => number = () => Date.now();
  private readonly numbers = new Map<string, FakeNumber>();
  private readonly media = new Map<string, FakeMedia>();
  private readonly downloads = new Map<string, { mediaId: string; authorization: string; expiresAt: number }>();
  private readonly failures: InjectedFailure[] = [];
  private readonly sendFailures: InjectedFailure[] = [];
  private readonly latencies = new Map<string, number>();
  private defaultLatency = 0;
  private waiters: { predicate: (m: SentMessage) => boolean; resolve: (m: SentMessage) => void }[] = [];
  private server?: Server;
  url = '';

  private statusHook?: FakeGraphApiOptions['statusWebhooks'];

  constructor(private readonly options: FakeGraphApiOptions = {}) {}

  // For a stack whose webhook URL is known only after the fake started.
  sendStatusWebhooks(hook: NonNullable<FakeGraphApiOptions['statusWebhooks']>): void {
    this.statusHook = hook;
  }

  // Each status is its own delivery, as Meta sends them; a refused delivery is retried a few times.
  private async postStatuses(n: FakeNumber, m: SentMessage, hook: NonNullable<FakeGraphApiOptions['statusWebhooks']>): Promise<void> {
    for (const status of hook.statuses ?? ['sent', 'delivered']) {
      await new Promise((r) => setTimeout(r, hook.delayMs ?? 50));
      const payload = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: n.wabaId, changes: [{ field: 'messages', value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: n.displayPhoneNumber, phone_number_id: n.phoneNumberId },
          statuses: [{
            id: m.wamid, status, timestamp: String(Math.floor(this.now() / 1000)), recipient_id: m.to,
            ...(m.bizOpaqueCallbackData ? { biz_opaque_callback_data: m.bizOpaqueCallbackData } : {}),
          }],
        } }] }],
      });
      const signature = `sha256=${createHmac('sha256', hook.appSecret).update(payload).digest('hex')}`;
      for (let attempt = 0; attempt < 20; attempt++) {
        const ok = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: payload })
          .then((r) => r.ok, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      }
    }
  }

  addNumber(n: FakeNumber): FakeNumber {
    this.numbers.set(n.phoneNumberId, n);
    return n;
  }

  addMedia(m: FakeMedia): FakeMedia {
    this.media.set(m.mediaId, m);
    return m;
  }

  // The next `count` requests answer with this failure instead of the normal response.
  failNext(count: number, failure: InjectedFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  // Like failNext, but only message sends consume it, so reads, lookups, media downloads and
  // mark-as-read calls made in between do not eat the failure a test meant for a reply.
  failNextSend(count: number, failure: InjectedFailure): void {
    for (let i = 0; i < count; i++) this.sendFailures.push(failure);
  }

  // Delay before every answer, for one number (its sends and lookups) or, without one, for all
  // requests that have no per-number setting.
  setLatency(ms: number, phoneNumberId?: string): void {
    if (phoneNumberId === undefined) this.defaultLatency = ms;
    else this.latencies.set(phoneNumberId, ms);
  }

  sentTo(to: string): SentMessage[] {
    return this.sent.filter((m) => m.to === to);
  }

  // Resolves with the first accepted send (already recorded or still to come) that matches.
  waitForSent(predicate: (m: SentMessage) => boolean, timeoutMs = 5_000): Promise<SentMessage> {
    const found = this.sent.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (m: SentMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.sent.map((m) => ({ to: m.to, type: m.type, text: m.text, template: m.templateName }));
        reject(new Error(`No matching message sent within ${timeoutMs} ms; sent so far: ${JSON.stringify(seen)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // Forgets what happened (requests, sends, pending failures, media links), keeps the set-up
  // (numbers, media, latency) so one server can serve several tests.
  reset(): void {
    this.requests.length = 0;
    this.sent.length = 0;
    this.readReceipts.length = 0;
    this.failures.length = 0;
    this.sendFailures.length = 0;
    this.downloads.clear();
  }

  // A free loopback port unless told otherwise (the local sandbox uses a fixed one).
  async start(listenOn: { port?: number; host?: string } = {}): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req)
        .catch((err: unknown): Reply => ({ status: 500, body: graphError(`fake graph api: ${String(err)}`, 'OAuthException', 2) }))
        .then(({ status, body, bytes, contentType }) => {
          if (bytes) {
            res.writeHead(status, { 'content-type': contentType ?? 'application/octet-stream', 'content-length': bytes.length });
            res.end(bytes);
            return;
          }
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        });
    });
    this.server = server;
    const host = listenOn.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenOn.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.url = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let malformed = false;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
      malformed = true;
    }
    const method = req.method ?? 'GET';
    if (this.options.exposeSandboxApi && method === 'GET' && url.pathname === '/_sandbox/sent') return this.sandboxSent(url.searchParams);
    this.requests.push({ method, path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, body });

    const [, first, id, edge] = url.pathname.split('/'); // /{version}/{id}[/{edge}]
    const isMessagesCall = method === 'POST' && !!id && edge === 'messages';
    const isSend = isMessagesCall && !isMarkRead(body);
    const latency = (id ? this.latencies.get(id) : undefined) ?? this.defaultLatency;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));

    const injected = this.failures.shift() ?? (isSend ? this.sendFailures.shift() : undefined);
    if (injected) return injected;

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (method === 'GET' && first === 'media-download' && id && !edge) return this.download(id, req.headers.authorization);
    if (isMessagesCall) {
      const n = this.numbers.get(id);
      if (!n) return unsupported(id, 'post');
      if (token !== n.accessToken) return GRAPH_ERRORS.invalidToken;
      if (malformed || !isRecord(body)) return invalidParameter('Request body must be a JSON object');
      return isMarkRead(body) ? this.markRead(n, body) : this.send(n, body);
    }
    if (method === 'GET' && id && !edge) {
      // Media ids and phone-number ids share the /{id} namespace; media is looked up first
      // because it is only there when a test registered it.
      const media = this.media.get(id);
      if (media) return this.mediaInfo(media, token, req.headers.authorization ?? '');
      const n = this.numbers.get(id);
      if (!n) return unsupported(id);
      if (token !== n.accessToken) return GRAPH_ERRORS.invalidToken;
      return { status: 200, body: { id: n.phoneNumberId, display_phone_number: n.displayPhoneNumber, verified_name: n.verifiedName } };
    }
    if (method === 'GET' && id && edge === 'phone_numbers') {
      const mine = [...this.numbers.values()].filter((n) => n.wabaId === id);
      if (mine.length === 0) return unsupported(id);
      if (!mine.some((n) => n.accessToken === token)) return GRAPH_ERRORS.invalidToken;
      return {
        status: 200,
        body: {
          data: mine.map((n) => ({ id: n.phoneNumberId, display_phone_number: n.displayPhoneNumber, verified_name: n.verifiedName, quality_rating: 'GREEN' })),
          paging: { cursors: { before: 'QVFIUk', after: 'QVFIUl' } },
        },
      };
    }
    return { status: 400, body: graphError('Unknown path components', 'OAuthException', 2500) };
  }

  private send(n: FakeNumber, body: Record<string, unknown>): Reply {
    const problem = sendProblem(body);
    if (problem) return invalidParameter(problem);
    const to = body.to as string;
    const type = typeof body.type === 'string' ? body.type : 'text';
    const message: SentMessage = {
      phoneNumberId: n.phoneNumberId,
      to,
      type,
      body,
      wamid: `wamid.${randomBytes(30).toString('base64url')}`,
      receivedAt: this.now(),
    };
    const text = readableText(type, body);
    if (text !== undefined) message.text = text;
    const templateName = type === 'template' ? str(rec(body.template)?.name) : undefined;
    if (templateName !== undefined) message.templateName = templateName;
    if (type === 'template') {
      const template = rec(body.template);
      const language = str(rec(template?.language)?.code);
      if (language !== undefined) message.templateLanguage = language;
      if (Array.isArray(template?.components)) message.components = template.components as Record<string, unknown>[];
    }
    const opaque = str(body.biz_opaque_callback_data);
    if (opaque !== undefined) message.bizOpaqueCallbackData = opaque;
    const contextMessageId = str(rec(body.context)?.message_id);
    if (contextMessageId !== undefined) message.contextMessageId = contextMessageId;
    this.sent.push(message);
    const hook = this.statusHook ?? this.options.statusWebhooks;
    if (hook) void this.postStatuses(n, message, hook);
    try {
      this.options.onSent?.(message);
    } catch {
      // A logging callback must not turn an accepted send into an error the client would retry.
    }
    for (const w of this.waiters.filter((w) => w.predicate(message))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(message);
    }
    return {
      status: 200,
      body: { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id: message.wamid, message_status: 'accepted' }] },
    };
  }

  private sandboxSent(query: URLSearchParams): Reply {
    const to = query.get('to');
    const since = Number(query.get('since') ?? 0) || 0;
    const sent = this.sent.filter((m) => (to === null || m.to === to) && m.receivedAt >= since);
    return {
      status: 200,
      body: { sent: sent.map((m) => ({ to: m.to, type: m.type, text: m.text ?? null, templateName: m.templateName ?? null, components: m.components ?? null, wamid: m.wamid, receivedAt: m.receivedAt })) },
    };
  }

  private markRead(n: FakeNumber, body: Record<string, unknown>): Reply {
    if (body.messaging_product !== 'whatsapp') return invalidParameter('The parameter messaging_product is required.');
    const messageId = str(body.message_id);
    if (!messageId) return invalidParameter("Param message_id is required");
    const typing = body.typing_indicator;
    if (typing !== undefined && rec(typing)?.type !== 'text') return invalidParameter("Param typing_indicator['type'] must be 'text'");
    this.readReceipts.push({ phoneNumberId: n.phoneNumberId, messageId, typingIndicator: typing !== undefined, receivedAt: this.now() });
    return { status: 200, body: { success: true } };
  }

  private mediaInfo(media: FakeMedia, token: string | undefined, authorization: string): Reply {
    if (!token || ![...this.numbers.values()].some((n) => n.accessToken === token)) return GRAPH_ERRORS.invalidToken;
    const key = randomBytes(24).toString('base64url');
    this.downloads.set(key, { mediaId: media.mediaId, authorization, expiresAt: this.now() + this.mediaUrlTtlMs });
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: `${this.url}/media-download/${key}`,
        mime_type: media.mimeType,
        sha256: createHash('sha256').update(media.bytes).digest('hex'),
        file_size: media.bytes.length,
        id: media.mediaId,
      },
    };
  }

  private download(key: string, authorization: string | undefined): Reply {
    const link = this.downloads.get(key);
    const media = link && this.media.get(link.mediaId);
    if (!link || !media || link.expiresAt <= this.now()) {
      return { status: 404, body: graphError('Media URL not found or expired', 'OAuthException', 100) };
    }
    if (authorization !== link.authorization) return GRAPH_ERRORS.invalidToken;
    return { status: 200, body: undefined, bytes: media.bytes, contentType: media.mimeType };
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const rec = (v: unknown) => (isRecord(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

// Mark-as-read shares the /messages edge with sends and is told apart by `status: "read"`.
const isMarkRead = (body: unknown) => isRecord(body) && body.status === 'read';

// Meta's checks, reduced to what catches real client bugs: missing fields, unknown types and the
// text length limit. Returns Meta's `details` wording, or undefined when the body is acceptable.
function sendProblem(body: Record<string, unknown>): string | undefined {
  if (body.messaging_product !== 'whatsapp') return 'The parameter messaging_product is required.';
  if (typeof body.to !== 'string' || body.to === '') return 'The parameter to is required.';
  // Meta's documented default when `type` is left out.
  const type = body.type ?? 'text';
  if (typeof type !== 'string' || !SEND_TYPES.has(type)) return `Param type must be one of {${[...SEND_TYPES].join(', ')}}`;
  const payload = body[type];
  switch (type) {
    case 'text': {
      const text = str(rec(payload)?.body);
      if (!text) return "Param text['body'] is required";
      // Meta counts characters, not UTF-16 units: an emoji is one.
      if ([...text].length > TEXT_MAX) return `Param text['body'] must be at most ${TEXT_MAX} characters long.`;
      return undefined;
    }
    case 'template': {
      const t = rec(payload);
      if (!str(t?.name)) return "Param template['name'] is required";
      if (!str(rec(t?.language)?.code)) return "Param template['language']['code'] is required";
      if (t?.components !== undefined && (!Array.isArray(t.components) || !t.components.every(isRecord))) {
        return "Param template['components'] must be an array of objects";
      }
      return undefined;
    }
    case 'interactive': {
      const i = rec(payload);
      if (!str(i?.type)) return "Param interactive['type'] is required";
      if (!rec(i?.action)) return "Param interactive['action'] is required";
      return undefined;
    }
    case 'location': {
      const l = rec(payload);
      if (l?.latitude === undefined || l.longitude === undefined) return "Param location['latitude'] and location['longitude'] are required";
      return undefined;
    }
    case 'reaction': {
      const r = rec(payload);
      if (!str(r?.message_id)) return "Param reaction['message_id'] is required";
      if (typeof r?.emoji !== 'string') return "Param reaction['emoji'] is required";
      return undefined;
    }
    case 'contacts':
      return Array.isArray(payload) && payload.length > 0 ? undefined : 'Param contacts is required';
    default: {
      if (!MEDIA_SEND_TYPES.has(type)) return undefined;
      const m = rec(payload);
      if (!str(m?.id) && !str(m?.link)) return `Param ${type} must have either 'id' or 'link'`;
      return undefined;
    }
  }
}

function readableText(type: string, body: Record<string, unknown>): string | undefined {
  const payload = rec(body[type]);
  if (type === 'text') return str(payload?.body);
  if (type === 'interactive') return str(rec(payload?.body)?.text);
  if (MEDIA_SEND_TYPES.has(type)) return str(payload?.caption);
  if (type === 'reaction') return str(payload?.emoji);
  return undefined;
}

function invalidParameter(details: string): Reply {
  return { status: 400, body: cloudError('(#100) Invalid parameter', 100, details) };
}

function unsupported(id: string, method: 'get' | 'post' = 'get') {
  return {
    status: 400,
    body: graphError(
      `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      'GraphMethodException',
      100,
      { error_subcode: 33 },
    ),
  };
}

// The text parameters of a sent template, components in order (body, then buttons): for an
// authentication template, [code, code].
export function templateTexts(m: Pick<SentMessage, 'components'>): string[] {
  return (m.components ?? []).flatMap((c) =>
    (Array.isArray(c.parameters) ? c.parameters : []).flatMap((p: unknown) => {
      const text = isRecord(p) && p.type === 'text' ? str(p.text) : undefined;
      return text === undefined ? [] : [text];
    }),
  );
}
