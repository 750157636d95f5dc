import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A loopback stand-in for Asaas's API v3 (customers and payments, in memory), speaking its
// formats: reais as decimals, `{object: 'list', …}` pages, `{errors: [{code, description}]}`,
// 401 for a bad `access_token`. It also plays the customer (pay, refund, let it go overdue) and
// sends the webhooks Asaas would, with the account's token in `asaas-access-token` and unique
// `evt_` ids, and can hold them back to deliver them again or out of order.
//
// Tests drive it through its methods; a person trying `npm start` through its control surface:
//   curl -X POST localhost:<port>/_sandbox/payments/<pay_id>/pay -d '{"value": 102.16, "date": "2026-01-12"}'
//   …/refund {"value"?}, …/overdue, …/delete, GET /_sandbox/payments, POST /_sandbox/events/<evt_id>/redeliver
//   POST /_sandbox/accounts {"apiKey", "webhookUrl", "webhookToken"} (what PUT /api/billing/gateway answered)

export interface SandboxWebhook {
  url: string;
  token: string;
}

export interface SandboxAccount {
  apiKey: string;
  webhook?: SandboxWebhook;
}

interface StoredCustomer {
  id: string;
  apiKey: string;
  name: string;
  cpfCnpj: string;
  email: string | null;
  mobilePhone: string | null;
  externalReference: string | null;
  dateCreated: string;
}

interface StoredRefund {
  valueCents: number;
  dateCreated: string;
  status: 'DONE';
  description: string | null;
}

export interface SandboxPayment {
  id: string;
  apiKey: string;
  customer: string;
  billingType: string;
  valueCents: number; // what the charge asks for
  paidCents: number | null; // what the customer paid (Asaas then reports it as `value`)
  dueDate: string;
  description: string | null;
  externalReference: string | null;
  fine: { value: number; type: string } | null;
  interest: { value: number; type: string } | null;
  discount: { value: number; dueDateLimitDays: number; type: string } | null;
  status: string;
  deleted: boolean;
  paymentDate: string | null;
  clientPaymentDate: string | null;
  billingTypePaid: string | null;
  refunds: StoredRefund[];
  dateCreated: string;
  identificationField: string;
  nossoNumero: string;
  pixPayload: string;
}

export interface SandboxEvent {
  id: string; // evt_…
  apiKey: string;
  body: { id: string; event: string; dateCreated: string; payment: Record<string, unknown> };
  deliveries: { status: number | null; at: string }[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  accessToken: string | undefined;
  userAgent: string | undefined;
  body: unknown;
}

export interface InjectedFailure {
  status: number;
  body?: unknown;
  // Only requests matching these are failed (a path prefix like '/payments', a method).
  path?: string;
  method?: string;
  // Do the work, then answer with the failure: a create whose answer was lost.
  afterHandling?: boolean;
}

export interface FakeAsaasOptions {
  // `npm start`: any API key opens an account (a person connects the demo tenant with any key);
  // tests keep the default and get Asaas's 401 for a key nobody added.
  acceptAnyKey?: boolean;
  // Deliver webhooks as they happen (true) or keep them for deliver()/redeliver() (false).
  autoDeliver?: boolean;
  // A refused delivery is retried this many times, this far apart (Asaas backs off for hours).
  deliveryAttempts?: number;
  retryDelayMs?: number;
  // Called after every webhook delivery attempt, e.g. to log it in `npm start`.
  onDelivery?: (e: SandboxEvent, status: number | null) => void;
}

interface Reply {
  status: number;
  body: unknown;
}

export const ASAAS_ERRORS = {
  invalidValue: { status: 400, body: { errors: [{ code: 'invalid_value', description: 'O valor da cobrança deve ser maior que zero.' }] } },
  serverError: { status: 500, body: { errors: [{ code: 'internal_error', description: 'Erro interno. Tente novamente.' }] } },
  unavailable: { status: 503, body: { errors: [{ code: 'service_unavailable', description: 'Serviço temporariamente indisponível.' }] } },
};

const today = () => new Date().toISOString().slice(0, 10);
const reais = (cents: number) => Number(`${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function centsOf(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(value));
  if (!m) return null;
  const c = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -c : c;
}

const digits = (n: number) => Array.from({ length: n }, () => String(randomBytes(1)[0]! % 10)).join('');

export class FakeAsaas {
  readonly requests: RecordedRequest[] = [];
  readonly customers = new Map<string, StoredCustomer>();
  readonly payments = new Map<string, SandboxPayment>();
  readonly events: SandboxEvent[] = [];
  autoDeliver: boolean;
  private readonly accounts = new Map<string, SandboxAccount>();
  private readonly failures: InjectedFailure[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly options: FakeAsaasOptions = {}) {
    this.autoDeliver = options.autoDeliver ?? true;
  }

  addAccount(account: SandboxAccount): SandboxAccount {
    this.accounts.set(account.apiKey, { ...account });
    return account;
  }

  setWebhook(apiKey: string, webhook: SandboxWebhook): void {
    const account = this.accounts.get(apiKey) ?? this.addAccount({ apiKey });
    account.webhook = webhook;
    this.accounts.set(apiKey, account);
  }

  // The next `count` matching requests answer with this failure (see InjectedFailure).
  failNext(count: number, failure: InjectedFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  paymentsOf(apiKey: string): SandboxPayment[] {
    return [...this.payments.values()].filter((p) => p.apiKey === apiKey);
  }

  // --- The customer's side ------------------------------------------------------------------

  // The customer pays (by default the charge's value, today, by the charge's method): Asaas
  // confirms, then receives (for boleto and PIX alike here).
  async pay(id: string, o: { valueCents?: number; date?: string; method?: 'BOLETO' | 'PIX' } = {}): Promise<SandboxEvent[]> {
    const p = this.mustFind(id);
    const date = o.date ?? today();
    p.paidCents = o.valueCents ?? p.valueCents;
    p.clientPaymentDate = date;
    p.paymentDate = date;
    p.billingTypePaid = o.method ?? (p.billingType === 'UNDEFINED' ? 'PIX' : p.billingType);
    p.status = 'CONFIRMED';
    const confirmed = this.event(p, 'PAYMENT_CONFIRMED');
    p.status = 'RECEIVED';
    const received = this.event(p, 'PAYMENT_RECEIVED');
    await this.autoSend([confirmed, received]);
    return [confirmed, received];
  }

  // A refund of everything still held (PAYMENT_REFUNDED) or of part of it (PAYMENT_PARTIALLY_REFUNDED).
  async refund(id: string, valueCents?: number, date = today()): Promise<SandboxEvent> {
    const p = this.mustFind(id);
    if (p.paidCents === null) throw new Error(`sandbox: ${id} was not paid`);
    const refunded = p.refunds.reduce((s, r) => s + r.valueCents, 0);
    const left = p.paidCents - refunded;
    const value = valueCents ?? left;
    if (value <= 0 || value > left) throw new Error(`sandbox: cannot refund ${value} of ${left}`);
    p.refunds.push({ valueCents: value, dateCreated: date, status: 'DONE', description: null });
    const full = value === left;
    if (full) p.status = 'REFUNDED';
    const e = this.event(p, full ? 'PAYMENT_REFUNDED' : 'PAYMENT_PARTIALLY_REFUNDED');
    await this.autoSend([e]);
    return e;
  }

  async markOverdue(id: string): Promise<SandboxEvent> {
    const p = this.mustFind(id);
    p.status = 'OVERDUE';
    const e = this.event(p, 'PAYMENT_OVERDUE');
    await this.autoSend([e]);
    return e;
  }

  async delete(id: string): Promise<SandboxEvent> {
    const p = this.mustFind(id);
    p.deleted = true;
    const e = this.event(p, 'PAYMENT_DELETED');
    await this.autoSend([e]);
    return e;
  }

  // An event of any name about a payment (PAYMENT_UPDATED, PAYMENT_CHARGEBACK_REQUESTED, …).
  async emit(id: string, event: string): Promise<SandboxEvent> {
    const e = this.event(this.mustFind(id), event);
    await this.autoSend([e]);
    return e;
  }

  // Sends a stored event (again): duplicates and out-of-order deliveries on demand. The status
  // our webhook answered, or null when it could not be reached.
  async deliver(eventOrId: SandboxEvent | string): Promise<number | null> {
    const e = typeof eventOrId === 'string' ? this.events.find((x) => x.id === eventOrId) : eventOrId;
    if (!e) throw new Error(`sandbox: no event ${String(eventOrId)}`);
    const hook = this.accounts.get(e.apiKey)?.webhook;
    if (!hook) throw new Error('sandbox: the account has no webhook configured');
    let status: number | null;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'asaas-access-token': hook.token, 'user-agent': 'Asaas_Hmlg/3.0' },
        body: JSON.stringify(e.body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel().catch(() => {});
      status = res.status;
    } catch {
      status = null;
    }
    e.deliveries.push({ status, at: new Date().toISOString() });
    this.options.onDelivery?.(e, status);
    return status;
  }
  redeliver = this.deliver;

  // --- HTTP ---------------------------------------------------------------------------------

  async start(listenOn: { port?: number; host?: string } = {}): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    this.server = server;
    const host = listenOn.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenOn.port ?? 0, host, () => resolve());
    });
    this.url = `http://${host}:${(server.address() as AddressInfo).port}/v3`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.handle(req);
    } catch (err) {
      reply = { status: 500, body: { errors: [{ code: 'sandbox_error', description: (err as Error).message }] } };
    }
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const raw = await readBody(req);
    let body: unknown = undefined;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return { status: 400, body: { errors: [{ code: 'invalid_json', description: 'JSON inválido.' }] } };
      }
    }
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/_sandbox/')) return this.control(method, url.pathname, body);

    const path = url.pathname.replace(/^\/v3/, '');
    const accessToken = header(req, 'access_token');
    this.requests.push({ method, path, query: url.searchParams, accessToken, userAgent: header(req, 'user-agent'), body });

    const index = this.failures.findIndex((f) => (!f.path || path.startsWith(f.path)) && (!f.method || f.method.toUpperCase() === method));
    const failure = index >= 0 ? this.failures.splice(index, 1)[0]! : undefined;
    if (failure && !failure.afterHandling) return { status: failure.status, body: failure.body ?? { errors: [{ code: 'injected', description: `Falha simulada ${failure.status}.` }] } };

    const reply = this.api(method, path, url.searchParams, body, accessToken);
    if (failure) return { status: failure.status, body: failure.body ?? { errors: [{ code: 'injected', description: `Falha simulada ${failure.status}.` }] } };
    return reply;
  }

  private api(method: string, path: string, query: URLSearchParams, body: unknown, accessToken: string | undefined): Reply {
    if (accessToken && this.options.acceptAnyKey && !this.accounts.has(accessToken)) this.addAccount({ apiKey: accessToken });
    if (!accessToken || !this.accounts.has(accessToken)) {
      // Asaas answers a bad key with 401 and an empty-ish body.
      return { status: 401, body: { errors: [{ code: 'invalid_access_token', description: 'A chave de API fornecida é inválida.' }] } };
    }
    const apiKey = accessToken;
    const b = (body ?? {}) as Record<string, unknown>;
    const offset = Number(query.get('offset') ?? 0);
    const limit = Math.min(Number(query.get('limit') ?? 10), 100);
    const page = (items: unknown[]) => ({
      object: 'list', hasMore: offset + limit < items.length, totalCount: items.length, limit, offset, data: items.slice(offset, offset + limit),
    });

    if (method === 'POST' && path === '/customers') {
      const errors: { code: string; description: string }[] = [];
      if (typeof b.name !== 'string' || !b.name.trim()) errors.push({ code: 'invalid_name', description: 'O nome do cliente deve ser informado.' });
      if (typeof b.cpfCnpj !== 'string' || !/^(\d{11}|\d{14})$/.test(b.cpfCnpj)) errors.push({ code: 'invalid_cpfCnpj', description: 'O CPF/CNPJ informado é inválido.' });
      if (errors.length) return { status: 400, body: { errors } };
      const c: StoredCustomer = {
        id: `cus_${randomBytes(6).toString('hex')}`, apiKey, name: b.name as string, cpfCnpj: b.cpfCnpj as string,
        email: typeof b.email === 'string' ? b.email : null, mobilePhone: typeof b.mobilePhone === 'string' ? b.mobilePhone : null,
        externalReference: typeof b.externalReference === 'string' ? b.externalReference : null, dateCreated: today(),
      };
      this.customers.set(c.id, c);
      return { status: 200, body: customerJson(c) };
    }
    if (method === 'GET' && path === '/customers') {
      const ref = query.get('externalReference');
      const items = [...this.customers.values()].filter((c) => c.apiKey === apiKey && (ref === null || c.externalReference === ref));
      return { status: 200, body: page(items.map(customerJson)) };
    }
    if (method === 'POST' && path === '/payments') {
      const errors: { code: string; description: string }[] = [];
      const customer = typeof b.customer === 'string' ? this.customers.get(b.customer) : undefined;
      if (!customer || customer.apiKey !== apiKey) errors.push({ code: 'invalid_customer', description: 'Cliente inexistente ou não informado.' });
      if (!['BOLETO', 'PIX', 'UNDEFINED', 'CREDIT_CARD'].includes(b.billingType as string)) errors.push({ code: 'invalid_billingType', description: 'Forma de pagamento inválida.' });
      const value = centsOf(b.value);
      if (value === null || value <= 0) errors.push({ code: 'invalid_value', description: 'O valor da cobrança deve ser maior que zero.' });
      if (typeof b.dueDate !== 'string' || !DATE.test(b.dueDate)) errors.push({ code: 'invalid_dueDate', description: 'A data de vencimento é inválida.' });
      // A day of slack: the caller's calendar (America/Sao_Paulo) may still be on yesterday's UTC date.
      else if (b.dueDate < new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)) errors.push({ code: 'invalid_dueDate', description: 'A data de vencimento não pode ser anterior a hoje.' });
      if (errors.length) return { status: 400, body: { errors } };
      const fine = b.fine as { value?: number; type?: string } | undefined;
      const interest = b.interest as { value?: number } | undefined;
      const discount = b.discount as { value?: number; dueDateLimitDays?: number; type?: string } | undefined;
      const p: SandboxPayment = {
        id: `pay_${randomBytes(8).toString('hex')}`, apiKey, customer: customer!.id, billingType: b.billingType as string,
        valueCents: value!, paidCents: null, dueDate: b.dueDate as string,
        description: typeof b.description === 'string' ? b.description : null,
        externalReference: typeof b.externalReference === 'string' ? b.externalReference : null,
        fine: fine?.value !== undefined ? { value: fine.value, type: fine.type ?? 'PERCENTAGE' } : null,
        interest: interest?.value !== undefined ? { value: interest.value, type: 'PERCENTAGE' } : null,
        discount: discount?.value !== undefined ? { value: discount.value, dueDateLimitDays: discount.dueDateLimitDays ?? 0, type: discount.type ?? 'FIXED' } : null,
        status: 'PENDING', deleted: false, paymentDate: null, clientPaymentDate: null, billingTypePaid: null, refunds: [], dateCreated: today(),
        identificationField: digits(47), nossoNumero: digits(8),
        pixPayload: `00020101021226820014br.gov.bcb.pix2560pix.asaas.sandbox/qr/${randomBytes(12).toString('hex')}5204000053039865802BR5913ORQUESTRA6009SAO PAULO62070503***6304${randomBytes(2).toString('hex').toUpperCase()}`,
      };
      this.payments.set(p.id, p);
      return { status: 200, body: paymentJson(p) };
    }
    if (method === 'GET' && path === '/payments') {
      const ref = query.get('externalReference');
      const items = [...this.payments.values()].filter((p) => p.apiKey === apiKey && !p.deleted && (ref === null || p.externalReference === ref));
      return { status: 200, body: page(items.map(paymentJson)) };
    }
    const m = /^\/payments\/([^/]+)(\/identificationField|\/pixQrCode)?$/.exec(path);
    if (m) {
      const p = this.payments.get(decodeURIComponent(m[1]!));
      if (!p || p.apiKey !== apiKey || (p.deleted && method !== 'GET')) return { status: 404, body: { errors: [{ code: 'not_found', description: 'Cobrança não encontrada.' }] } };
      if (method === 'GET' && !m[2]) return { status: 200, body: paymentJson(p) };
      if (method === 'GET' && m[2] === '/identificationField') {
        if (p.billingType === 'PIX') return { status: 400, body: { errors: [{ code: 'invalid_action', description: 'Cobrança PIX não possui linha digitável.' }] } };
        return { status: 200, body: { identificationField: p.identificationField, nossoNumero: p.nossoNumero, barCode: p.identificationField.slice(0, 44) } };
      }
      if (method === 'GET' && m[2] === '/pixQrCode') {
        return { status: 200, body: { encodedImage: Buffer.from(`png:${p.id}`).toString('base64'), payload: p.pixPayload, expirationDate: `${p.dueDate} 23:59:59` } };
      }
      if (method === 'DELETE' && !m[2]) {
        if (p.status !== 'PENDING' && p.status !== 'OVERDUE') return { status: 400, body: { errors: [{ code: 'invalid_action', description: 'Somente cobranças pendentes ou vencidas podem ser removidas.' }] } };
        p.deleted = true;
        const e = this.event(p, 'PAYMENT_DELETED');
        void this.autoSend([e]);
        return { status: 200, body: { deleted: true, id: p.id } };
      }
    }
    return { status: 404, body: { errors: [{ code: 'not_found', description: `Recurso não encontrado: ${method} ${path}` }] } };
  }

  private async control(method: string, path: string, body: unknown): Promise<Reply> {
    const b = (body ?? {}) as Record<string, unknown>;
    try {
      // Where an account's webhooks go: the URL and token PUT /api/billing/gateway answered.
      if (method === 'POST' && path === '/_sandbox/accounts') {
        if (typeof b.apiKey !== 'string' || typeof b.webhookUrl !== 'string' || typeof b.webhookToken !== 'string') {
          return { status: 400, body: { errors: [{ code: 'sandbox', description: 'Informe apiKey, webhookUrl e webhookToken.' }] } };
        }
        this.setWebhook(b.apiKey, { url: b.webhookUrl, token: b.webhookToken });
        return { status: 200, body: { apiKey: b.apiKey, webhookUrl: b.webhookUrl } };
      }
      if (method === 'GET' && path === '/_sandbox/payments') return { status: 200, body: { data: [...this.payments.values()].map(paymentJson) } };
      const m = /^\/_sandbox\/payments\/([^/]+)\/(pay|refund|overdue|delete)$/.exec(path);
      if (method === 'POST' && m) {
        const id = decodeURIComponent(m[1]!);
        const value = b.value === undefined ? undefined : centsOf(b.value) ?? undefined;
        const date = typeof b.date === 'string' && DATE.test(b.date) ? b.date : undefined;
        const events =
          m[2] === 'pay' ? await this.pay(id, { valueCents: value, date, method: b.method === 'BOLETO' || b.method === 'PIX' ? b.method : undefined })
          : m[2] === 'refund' ? [await this.refund(id, value, date)]
          : m[2] === 'overdue' ? [await this.markOverdue(id)]
          : [await this.delete(id)];
        return { status: 200, body: { events: events.map((e) => ({ id: e.id, event: e.body.event, deliveries: e.deliveries })) } };
      }
      const r = /^\/_sandbox\/events\/([^/]+)\/redeliver$/.exec(path);
      if (method === 'POST' && r) return { status: 200, body: { status: await this.deliver(decodeURIComponent(r[1]!)) } };
    } catch (err) {
      return { status: 400, body: { errors: [{ code: 'sandbox', description: (err as Error).message }] } };
    }
    return { status: 404, body: { errors: [{ code: 'not_found', description: 'Rota do sandbox desconhecida.' }] } };
  }

  private mustFind(id: string): SandboxPayment {
    const p = this.payments.get(id);
    if (!p) throw new Error(`sandbox: no payment ${id}`);
    return p;
  }

  private event(p: SandboxPayment, event: string): SandboxEvent {
    const e: SandboxEvent = {
      id: `evt_${randomBytes(16).toString('hex')}`,
      apiKey: p.apiKey,
      body: { id: '', event, dateCreated: new Date().toISOString().replace('T', ' ').slice(0, 19), payment: paymentJson(p) },
      deliveries: [],
    };
    e.body.id = e.id;
    this.events.push(e);
    return e;
  }

  private async autoSend(events: SandboxEvent[]): Promise<void> {
    if (!this.autoDeliver) return;
    const attempts = this.options.deliveryAttempts ?? 3;
    for (const e of events) {
      if (!this.accounts.get(e.apiKey)?.webhook) continue;
      for (let i = 0; i < attempts; i++) {
        if ((await this.deliver(e)) === 200) break;
        await new Promise((r) => setTimeout(r, this.options.retryDelayMs ?? 200));
      }
    }
  }
}

function customerJson(c: StoredCustomer) {
  return {
    object: 'customer', id: c.id, dateCreated: c.dateCreated, name: c.name, email: c.email, mobilePhone: c.mobilePhone,
    cpfCnpj: c.cpfCnpj, personType: c.cpfCnpj.length === 11 ? 'FISICA' : 'JURIDICA', externalReference: c.externalReference,
    notificationDisabled: true, deleted: false,
  };
}

function paymentJson(p: SandboxPayment): Record<string, unknown> {
  const paid = p.paidCents ?? p.valueCents;
  const interest = p.paidCents !== null && p.paidCents > p.valueCents ? p.paidCents - p.valueCents : null;
  return {
    object: 'payment',
    id: p.id,
    dateCreated: p.dateCreated,
    customer: p.customer,
    // Like Asaas: once paid, `value` is what was paid and `originalValue` what was asked.
    value: reais(paid),
    netValue: reais(paid - Math.min(paid, 199)),
    originalValue: p.paidCents !== null && p.paidCents !== p.valueCents ? reais(p.valueCents) : null,
    interestValue: interest === null ? null : reais(interest),
    description: p.description,
    billingType: p.billingTypePaid ?? p.billingType,
    status: p.status,
    dueDate: p.dueDate,
    originalDueDate: p.dueDate,
    paymentDate: p.paymentDate,
    clientPaymentDate: p.clientPaymentDate,
    invoiceUrl: `https://sandbox.asaas.com/i/${p.id.slice(4)}`,
    invoiceNumber: p.nossoNumero,
    bankSlipUrl: p.billingType === 'PIX' ? null : `https://sandbox.asaas.com/b/pdf/${p.id.slice(4)}`,
    externalReference: p.externalReference,
    deleted: p.deleted,
    fine: p.fine,
    interest: p.interest,
    discount: p.discount ?? { value: 0, limitDate: null, dueDateLimitDays: 0, type: 'FIXED' },
    refunds: p.refunds.length
      ? p.refunds.map((r) => ({ dateCreated: r.dateCreated, status: r.status, value: reais(r.valueCents), description: r.description, transactionReceiptUrl: null }))
      : null,
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
