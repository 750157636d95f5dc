import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AiDecision } from '../../domain/triage-rules';

// A loopback stand-in for OpenAI's Chat Completions endpoint: real HTTP, OpenAI's response and
// error shapes, every request recorded, and the model's decision scripted by the test.

export interface RecordedChatRequest {
  body: any;
  authorization: string | undefined;
}

export type FakeAnswer =
  | AiDecision // the model's structured answer
  | { raw: string } // message content exactly as given (e.g. broken JSON)
  | { refusal: string } // the model declined
  | { status: number; body: unknown } // an HTTP error
  | { delayMs: number; then: FakeAnswer }; // any of the above, late

export type FakeResponder = (req: RecordedChatRequest) => FakeAnswer;

const openAiError = (message: string, type: string, code: string | null, param: string | null = null) => ({
  error: { message, type, param, code },
});

export const OPENAI_ERRORS = {
  invalidKey: {
    status: 401,
    body: openAiError('Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'),
  },
  rateLimited: {
    status: 429,
    body: openAiError(
      'Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.',
      'requests',
      'rate_limit_exceeded',
    ),
  },
  quotaExceeded: {
    status: 429,
    body: openAiError('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota'),
  },
  serverError: {
    status: 500,
    body: openAiError('The server had an error while processing your request. Sorry about that!', 'server_error', null),
  },
  modelNotFound: (model: string) => ({
    status: 404,
    body: openAiError(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'),
  }),
};

// The guest's last message as the model would see it.
export function lastUserText(req: RecordedChatRequest): string {
  const msgs = (req.body?.messages ?? []) as { role: string; content: unknown }[];
  const last = [...msgs].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

const defaultResponder: FakeResponder = (req) => ({
  action: 'reply',
  reply: `Resposta automática: ${lastUserText(req)}`,
  intent: 'question',
  confidence: 0.9,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeOpenAi {
  readonly requests: RecordedChatRequest[] = [];
  readonly apiKeys: Set<string>;
  private responder: FakeResponder = defaultResponder;
  private latencyMs = 0;
  private seq = 0;
  private server?: Server;
  url = '';

  constructor({ apiKeys = ['sk-test-platform'] }: { apiKeys?: string[] } = {}) {
    this.apiKeys = new Set(apiKeys);
  }

  // Scripts every following answer; without a function, back to the default reply.
  respondWith(fn?: FakeResponder): void {
    this.responder = fn ?? defaultResponder;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, openAiError(String(err), 'server_error', null));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return send(res, 404, openAiError(`Invalid URL (${req.method} ${path})`, 'invalid_request_error', null));
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
    }
    const recorded: RecordedChatRequest = { body, authorization: req.headers.authorization };
    this.requests.push(recorded);

    if (this.latencyMs) await sleep(this.latencyMs);
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!key || !this.apiKeys.has(key)) return send(res, OPENAI_ERRORS.invalidKey.status, OPENAI_ERRORS.invalidKey.body);

    let answer = this.responder(recorded);
    while ('delayMs' in answer) {
      await sleep(answer.delayMs);
      answer = answer.then;
    }
    if ('status' in answer) return send(res, answer.status, answer.body);
    if (res.destroyed) return; // the client gave up waiting

    let content: string | null = null;
    let refusal: string | null = null;
    if ('raw' in answer) content = answer.raw;
    else if ('refusal' in answer) refusal = answer.refusal;
    else {
      content = JSON.stringify({
        action: answer.action,
        reply: answer.reply ?? null,
        intent: answer.intent,
        confidence: answer.confidence,
        reason: answer.reason ?? null,
      });
    }
    const promptTokens = Math.ceil(raw.length / 4);
    const completionTokens = Math.ceil((content ?? refusal ?? '').length / 4);
    send(res, 200, {
      id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof body?.model === 'string' ? body.model : 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal, annotations: [] }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      system_fingerprint: `fp_fake${++this.seq}`,
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${randomBytes(8).toString('hex')}` });
  res.end(JSON.stringify(body));
}
