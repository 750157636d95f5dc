import { lookup as dnsLookup, promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch, type RequestInit, type Response } from 'undici';
import type { Config } from './config';
import {
  hostMatches,
  isRefusal,
  judgeUrl,
  parseAllowList,
  refusedRange,
  type OutboundPolicy,
  type OutboundRefusalReason,
} from './outbound-guard';

// HTTP to URLs a tenant chose. The address check runs in the connector, on the addresses the
// socket is about to use, so a name that resolves to a public address when the URL is saved and
// to 127.0.0.1 later (DNS rebinding) is still refused. Redirects are never followed: a 3xx is a
// failure, or a public endpoint could bounce the request to an internal one.

export class OutboundRefusedError extends Error {
  readonly code = 'ERR_OUTBOUND_REFUSED';
  constructor(
    readonly reason: OutboundRefusalReason,
    message: string,
  ) {
    super(`outbound request refused: ${message}`);
    this.name = 'OutboundRefusedError';
  }
}

// undici wraps connector errors in `TypeError: fetch failed`; the refusal is somewhere in the causes.
export function outboundRefusalIn(err: unknown): OutboundRefusedError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRefusedError) return e;
  }
  return undefined;
}

const policies = new WeakMap<object, OutboundPolicy>();

// OUTBOUND_ALLOWED_HOSTS and OUTBOUND_HTTPS_ONLY (unset: https only in production).
export function outboundPolicyFromConfig(config: Pick<Config, 'OUTBOUND_ALLOWED_HOSTS' | 'OUTBOUND_HTTPS_ONLY' | 'NODE_ENV'>): OutboundPolicy {
  let policy = policies.get(config);
  if (!policy) {
    policy = { allow: parseAllowList(config.OUTBOUND_ALLOWED_HOSTS), httpsOnly: config.OUTBOUND_HTTPS_ONLY ?? config.NODE_ENV === 'production' };
    policies.set(config, policy);
  }
  return policy;
}

function guardedLookup(policy: OutboundPolicy, allowedName: (hostname: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      if (!allowedName(hostname)) {
        for (const a of addresses) {
          const range = refusedRange(a.address, policy.allow);
          // Any internal answer refuses the name: a name that mixes public and internal addresses is not an endpoint.
          if (range) return callback(new OutboundRefusedError('address', `${hostname} resolves to ${a.address}, a ${range} address`), '', 0);
        }
      }
      if (!addresses.length) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface OutboundGuard {
  readonly policy: OutboundPolicy;
  // undici's fetch through the guarded connector; throws OutboundRefusedError for a refused
  // scheme, address or redirect.
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

export function createOutboundGuard(policy: OutboundPolicy, opts: { connectTimeoutMs?: number } = {}): OutboundGuard {
  const allowedName = (hostname: string) => hostMatches(hostname, policy.allow.hosts);
  const base = buildConnector({ lookup: guardedLookup(policy, allowedName), timeout: opts.connectTimeoutMs ?? 10_000 });
  // Literal addresses never reach `lookup` (net.connect skips it for an IP), so they are judged here.
  const connect: buildConnector.connector = (options, callback) => {
    const hostname = options.hostname.replace(/^\[|\]$/g, '');
    if (isIP(hostname)) {
      const range = refusedRange(hostname, policy.allow);
      if (range) return callback(new OutboundRefusedError('address', `${hostname} is a ${range} address`), null);
    }
    return base(options, callback);
  };
  const agent = new Agent({ connect });

  return {
    policy,
    async fetch(url, init = {}) {
      const target = judgeUrl(url, policy);
      if (isRefusal(target)) throw new OutboundRefusedError(target.reason, target.message);
      let res: Response;
      try {
        res = await fetch(target.url, { ...init, redirect: 'manual', dispatcher: agent });
      } catch (err) {
        throw outboundRefusalIn(err) ?? err;
      }
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => {});
        const location = res.headers.get('location');
        throw new OutboundRefusedError('redirect', `${target.url.host} answered ${res.status}${location ? ` to ${location.slice(0, 200)}` : ''}; redirects are not followed`);
      }
      return res;
    },
  };
}

let strict: OutboundGuard | undefined;
// For callers built without a configured guard (a test's hand-made deps): nothing internal allowed.
export function strictOutboundGuard(): OutboundGuard {
  strict ??= createOutboundGuard({ allow: { hosts: [], cidrs: [] }, httpsOnly: false });
  return strict;
}

export type UrlCheck = { ok: true } | { ok: false; reason: Exclude<OutboundRefusalReason, 'redirect'>; message: string };

// The same judgement when a tenant saves the URL, so a mistake is a 400 now rather than failed
// deliveries later. An operator-allowed name is not resolved: it may resolve only inside the
// workers' network.
export async function checkOutboundUrl(url: string, policy: OutboundPolicy, opts: { timeoutMs?: number } = {}): Promise<UrlCheck> {
  const target = judgeUrl(url, policy);
  if (isRefusal(target)) return { ok: false, reason: target.reason, message: target.message };
  if (target.isLiteral || target.allowedName) return { ok: true };
  let addresses: LookupAddress[];
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      dns.lookup(target.hostname, { all: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('DNS lookup took too long')), opts.timeoutMs ?? 3_000);
      }),
    ]);
  } catch (err) {
    return { ok: false, reason: 'dns', message: `${target.hostname}: ${(err as { code?: string }).code ?? (err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
  for (const a of addresses) {
    const range = refusedRange(a.address, policy.allow);
    if (range) return { ok: false, reason: 'address', message: `${target.hostname} resolves to ${a.address}, a ${range} address` };
  }
  return { ok: true };
}
