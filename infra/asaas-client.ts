import type { GatewayEnvironment } from '../domain/billing-statuses';

// Asaas API v3 (boleto and PIX charges), as a small typed client over global fetch. Asaas speaks
// reais as JSON decimals; everything here speaks integer centavos, converted with string and
// integer arithmetic only (never `value * 100`, which drifts: 1.005 * 100 = 100.49999…).
//
// The host is the deployment's choice (ASAAS_BASE_URL) or Asaas's own for the account's
// environment: a tenant never names a URL, so a stored account cannot point us at an internal
// address. Redirects are not followed: an API answering 3xx is an error, not somewhere to go.

export const ASAAS_HOSTS: Record<GatewayEnvironment, string> = {
  production: 'https://api.asaas.com/v3',
  sandbox: 'https://api-sandbox.asaas.com/v3',
};

export function asaasBaseUrl(environment: GatewayEnvironment, configured?: string): string {
  return (configured ?? ASAAS_HOSTS[environment]).replace(/\/+$/, '');
}

// --- Money -----------------------------------------------------------------------------------

// 12345 → 123.45 (the JSON number Asaas reads). Built from its decimal text, so the double is the
// one nearest to exactly that decimal and JSON.stringify prints it back unchanged.
export function centsToReais(cents: number): number {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`centavos must be an integer, got ${cents}`);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return Number(`${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`);
}

// 123.45 (or "123.45") → 12345. A JSON number's shortest text is its decimal as written, so the
// digits are read, not multiplied. More than two decimals that are not zeros is not money.
export function reaisToCents(value: number | string): number {
  const text = typeof value === 'number' ? numberText(value) : value.trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new RangeError(`not an amount in reais: ${String(value)}`);
  const decimals = (m[3] ?? '').replace(/0+$/, '');
  if (decimals.length > 2) throw new RangeError(`more than centavos in ${String(value)}`);
  const cents = Number(m[2]) * 100 + Number(decimals.padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) throw new RangeError(`amount too large: ${String(value)}`);
  return m[1] === '-' && cents !== 0 ? -cents : cents;
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${n}`);
  const s = String(n);
  // Tiny or huge numbers print with an exponent; money never does, but be exact anyway.
  return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, '') : s;
}

// --- Shapes ----------------------------------------------------------------------------------

export type AsaasBillingType = 'BOLETO' | 'PIX' | 'UNDEFINED' | 'CREDIT_CARD';

export interface AsaasCustomerRequest {
  name: string;
  cpfCnpj: string; // digits only
  mobilePhone?: string | null;
  email?: string | null;
  externalReference?: string | null;
}

export interface AsaasCustomer {
  id: string; // cus_…
  name: string;
  cpfCnpj: string;
  externalReference: string | null;
}

export interface AsaasChargeRequest {
  customer: string;
  billingType: AsaasBillingType;
  valueCents: number;
  dueDate: string; // YYYY-MM-DD
  description?: string;
  externalReference?: string;
  finePercent?: number; // fine {value, type: PERCENTAGE}
  monthlyInterestPercent?: number; // interest {value} (percent per month)
  discount?: { valueCents?: number; percent?: number; dueDateLimitDays: number };
}

export interface AsaasRefund {
  valueCents: number;
  dateCreated: string | null;
  status: string | null;
  description: string | null;
}

// A payment (a charge, in our words) as Asaas returns it, with the amounts in centavos.
export interface AsaasCharge {
  id: string; // pay_…
  customer: string | null;
  status: string; // PENDING | CONFIRMED | RECEIVED | OVERDUE | REFUNDED | …
  billingType: string | null;
  valueCents: number;
  netValueCents: number | null;
  originalValueCents: number | null;
  interestValueCents: number | null;
  dueDate: string;
  paymentDate: string | null;
  clientPaymentDate: string | null;
  invoiceUrl: string | null;
  bankSlipUrl: string | null;
  externalReference: string | null;
  deleted: boolean;
  refunds: AsaasRefund[];
}

export interface AsaasIdentificationField {
  identificationField: string; // the boleto's digitable line
  nossoNumero: string | null;
  barCode: string | null;
}

export interface AsaasPixQrCode {
  encodedImage: string | null; // base64 PNG
  payload: string; // PIX copia e cola
  expirationDate: string | null;
}

// --- Errors ----------------------------------------------------------------------------------

export interface AsaasErrorItem {
  code: string;
  description: string;
}

// What went wrong, and whether trying again can help: a 5xx, a timeout or a network failure may
// pass; a 4xx is our request or our key, and repeats until someone changes it.
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    message: string,
    readonly status: number | null, // null: no HTTP answer (timeout, network)
    readonly retryable: boolean,
    readonly errors: AsaasErrorItem[] = [],
    readonly path?: string,
  ) {
    super(message);
  }

  // Asaas's own descriptions (pt-BR), for a person to read.
  get descriptions(): string {
    return this.errors.map((e) => e.description).join('; ');
  }
}

// --- Client ----------------------------------------------------------------------------------

export interface AsaasClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  // Aborts every call at once (an activity's cancellation): a call in flight does not outlive it.
  cancellation?: AbortSignal;
  // Asaas refuses requests without one for accounts created after 2024-06-13.
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const USER_AGENT = 'Orquestra/1 (+billing)';

export class AsaasClient {
  private readonly baseUrl: string;

  constructor(private readonly options: AsaasClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async createCustomer(c: AsaasCustomerRequest): Promise<AsaasCustomer> {
    const body = await this.call('POST', '/customers', {
      name: c.name,
      cpfCnpj: c.cpfCnpj,
      ...(c.mobilePhone ? { mobilePhone: c.mobilePhone } : {}),
      ...(c.email ? { email: c.email } : {}),
      ...(c.externalReference ? { externalReference: c.externalReference } : {}),
      // The tenant's own messages do the collecting: Asaas's e-mails and SMS stay off.
      notificationDisabled: true,
    });
    return parseCustomer(body);
  }

  async findCustomersByExternalReference(externalReference: string): Promise<AsaasCustomer[]> {
    const body = await this.call('GET', `/customers?externalReference=${encodeURIComponent(externalReference)}`);
    return listData(body).map(parseCustomer);
  }

  async createCharge(r: AsaasChargeRequest): Promise<AsaasCharge> {
    const body = await this.call('POST', '/payments', {
      customer: r.customer,
      billingType: r.billingType,
      value: centsToReais(r.valueCents),
      dueDate: r.dueDate,
      ...(r.description ? { description: r.description.slice(0, 500) } : {}),
      ...(r.externalReference ? { externalReference: r.externalReference } : {}),
      ...(r.finePercent ? { fine: { value: r.finePercent, type: 'PERCENTAGE' } } : {}),
      ...(r.monthlyInterestPercent ? { interest: { value: r.monthlyInterestPercent } } : {}),
      ...(r.discount
        ? {
            discount: r.discount.percent !== undefined
              ? { value: r.discount.percent, dueDateLimitDays: r.discount.dueDateLimitDays, type: 'PERCENTAGE' }
              : { value: centsToReais(r.discount.valueCents ?? 0), dueDateLimitDays: r.discount.dueDateLimitDays, type: 'FIXED' },
          }
        : {}),
    });
    return parseCharge(body);
  }

  async getCharge(id: string): Promise<AsaasCharge> {
    return parseCharge(await this.call('GET', `/payments/${encodeURIComponent(id)}`));
  }

  // Every page of the charges carrying this externalReference (a retried create finds its own).
  async findChargesByExternalReference(externalReference: string): Promise<AsaasCharge[]> {
    const out: AsaasCharge[] = [];
    for (let offset = 0; offset < 1_000; ) {
      const body = await this.call('GET', `/payments?externalReference=${encodeURIComponent(externalReference)}&offset=${offset}&limit=100`);
      const data = listData(body);
      out.push(...data.map(parseCharge));
      if (!(body as { hasMore?: unknown }).hasMore || data.length === 0) break;
      offset += data.length;
    }
    return out;
  }

  async identificationField(id: string): Promise<AsaasIdentificationField> {
    const b = (await this.call('GET', `/payments/${encodeURIComponent(id)}/identificationField`)) as Record<string, unknown>;
    if (typeof b.identificationField !== 'string') throw malformed('identificationField');
    return { identificationField: b.identificationField, nossoNumero: str(b.nossoNumero), barCode: str(b.barCode) };
  }

  async pixQrCode(id: string): Promise<AsaasPixQrCode> {
    const b = (await this.call('GET', `/payments/${encodeURIComponent(id)}/pixQrCode`)) as Record<string, unknown>;
    if (typeof b.payload !== 'string') throw malformed('pixQrCode');
    return { encodedImage: str(b.encodedImage), payload: b.payload, expirationDate: str(b.expirationDate) };
  }

  // True when Asaas deleted it now; false when it was not there (already deleted, never existed).
  async deleteCharge(id: string): Promise<boolean> {
    try {
      const b = (await this.call('DELETE', `/payments/${encodeURIComponent(id)}`)) as { deleted?: unknown };
      return b.deleted === true;
    } catch (err) {
      if (err instanceof GatewayError && err.status === 404) return false;
      throw err;
    }
  }

  private signal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return this.options.cancellation ? AbortSignal.any([timeout, this.options.cancellation]) : timeout;
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const label = `${method} ${path.split('?')[0]}`;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          access_token: this.options.apiKey,
          'user-agent': this.options.userAgent ?? USER_AGENT,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: this.signal(),
      });
    } catch (err) {
      if (this.options.cancellation?.aborted) throw err;
      const e = err as Error;
      const what = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : `failed: ${e.message}`;
      throw new GatewayError(`Asaas ${label} ${what}`, null, true, [], label);
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 300 && res.status < 400) {
      throw new GatewayError(`Asaas ${label} answered a redirect (${res.status}); not followed`, res.status, false, [], label);
    }
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) throw new GatewayError(`Asaas ${label} answered ${res.status} with a body that is not JSON`, res.status, true, [], label);
    }
    if (!res.ok) {
      const errors = asaasErrors(json);
      const detail = errors.length ? errors.map((e) => e.description).join('; ') : text.slice(0, 200);
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new GatewayError(`Asaas ${label} answered ${res.status}: ${detail || '(no body)'}`, res.status, retryable, errors, label);
    }
    return json;
  }
}

function asaasErrors(json: unknown): AsaasErrorItem[] {
  const list = (json as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(list)) return [];
  return list.map((e) => ({ code: String((e as { code?: unknown }).code ?? ''), description: String((e as { description?: unknown }).description ?? '') }));
}

const malformed = (what: string) => new GatewayError(`Asaas answered a ${what} we cannot read`, 200, true);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const cents = (v: unknown): number | null => (typeof v === 'number' || (typeof v === 'string' && v !== '') ? reaisToCents(v) : null);

function listData(body: unknown): unknown[] {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) throw malformed('list');
  return data;
}

function parseCustomer(body: unknown): AsaasCustomer {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.id !== 'string') throw malformed('customer');
  return { id: b.id, name: String(b.name ?? ''), cpfCnpj: String(b.cpfCnpj ?? ''), externalReference: str(b.externalReference) };
}

// Also what the webhook reads from an event's `payment` (api/webhooks/asaas-routes.ts).
export function parseCharge(body: unknown): AsaasCharge {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.id !== 'string' || typeof b.status !== 'string') throw malformed('payment');
  const value = cents(b.value);
  if (value === null) throw malformed('payment value');
  return {
    id: b.id,
    customer: str(b.customer),
    status: b.status,
    billingType: str(b.billingType),
    valueCents: value,
    netValueCents: cents(b.netValue),
    originalValueCents: cents(b.originalValue),
    interestValueCents: cents(b.interestValue),
    dueDate: String(b.dueDate ?? ''),
    paymentDate: str(b.paymentDate),
    clientPaymentDate: str(b.clientPaymentDate),
    invoiceUrl: str(b.invoiceUrl),
    bankSlipUrl: str(b.bankSlipUrl),
    externalReference: str(b.externalReference),
    deleted: b.deleted === true,
    refunds: Array.isArray(b.refunds)
      ? b.refunds.map((r) => {
          const x = (r ?? {}) as Record<string, unknown>;
          return { valueCents: cents(x.value) ?? 0, dateCreated: str(x.dateCreated), status: str(x.status), description: str(x.description) };
        })
      : [],
  };
}
