import { randomBytes } from 'node:crypto';
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

interface InjectedFailure {
  status: number;
  body: unknown;
}

const graphError = (message: string, type: string, code: number, extra: Record<string, unknown> = {}) => ({
  error: { message, type, code, ...extra, fbtrace_id: randomBytes(8).toString('base64url') },
});

export const GRAPH_ERRORS = {
  invalidToken: { status: 401, body: graphError('Invalid OAuth access token - Cannot parse access token', 'OAuthException', 190) },
  serverError: { status: 500, body: graphError('An unexpected error has occurred. Please retry your request later.', 'OAuthException', 2, { is_transient: true }) },
  throttled: { status: 429, body: graphError('(#130429) Rate limit hit', 'OAuthException', 130429) },
};

export class FakeGraphApi {
  readonly requests: RecordedRequest[] = [];
  private readonly numbers = new Map<string, FakeNumber>();
  private readonly failures: InjectedFailure[] = [];
  private server?: Server;
  url = '';

  addNumber(n: FakeNumber): FakeNumber {
    this.numbers.set(n.phoneNumberId, n);
    return n;
  }

  // The next `count` requests answer with this failure instead of the normal response.
  failNext(count: number, failure: InjectedFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      body: raw ? JSON.parse(raw) : undefined,
    });
    const injected = this.failures.shift();
    if (injected) return injected;

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [, , id, edge] = url.pathname.split('/'); // /{version}/{id}[/{edge}]
    if (req.method === 'GET' && id && !edge) {
      const n = this.numbers.get(id);
      if (!n) return unsupported(id);
      if (token !== n.accessToken) return GRAPH_ERRORS.invalidToken;
      return { status: 200, body: { id: n.phoneNumberId, display_phone_number: n.displayPhoneNumber, verified_name: n.verifiedName } };
    }
    if (req.method === 'GET' && id && edge === 'phone_numbers') {
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
}

function unsupported(id: string) {
  return {
    status: 400,
    body: graphError(
      `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      'GraphMethodException',
      100,
      { error_subcode: 33 },
    ),
  };
}
