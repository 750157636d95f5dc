import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// The address policy for URLs a tenant chooses (its automation endpoint, its AI base URL): the
// worker calls them from inside our network, so without a policy a tenant could make it call the
// cloud metadata service, Postgres, Redis or Temporal. Pure: infra/guarded-fetch.ts applies it at
// connect time, the API when the URL is saved.

export interface OutboundAllowList {
  // Lower-case names, exact (`n8n.internal`) or a suffix (`*.corp.example`, its subdomains).
  readonly hosts: readonly string[];
  readonly cidrs: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
}

export interface OutboundPolicy {
  readonly allow: OutboundAllowList;
  readonly httpsOnly: boolean;
}

export const EMPTY_ALLOW_LIST: OutboundAllowList = { hosts: [], cidrs: [] };

const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const splitList = (spec: string): string[] =>
  spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

// `OUTBOUND_ALLOWED_HOSTS=n8n.internal,10.0.0.0/8,fd00::/8,192.168.1.20`: names and CIDRs (a bare
// address is its own /32 or /128). Throws on an entry that is neither, naming it.
export function parseAllowList(spec: string): OutboundAllowList {
  const hosts: string[] = [];
  const cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of splitList(spec)) {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, '');
    if (e.includes('/')) {
      try {
        const [net, bits] = ipaddr.parseCIDR(e);
        // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared after the same unwrapping.
        const mapped = net.kind() === 'ipv6' && bits >= 96 && (net as ipaddr.IPv6).isIPv4MappedAddress();
        cidrs.push(mapped ? [(net as ipaddr.IPv6).toIPv4Address(), bits - 96] : [net, bits]);
        continue;
      } catch {
        throw new Error(`"${entry}" is not a CIDR`);
      }
    }
    if (isIP(e)) {
      const addr = unwrapMapped(ipaddr.parse(e));
      cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      continue;
    }
    const name = e.replace(/\.$/, '');
    if (!HOST_PATTERN.test(name)) throw new Error(`"${entry}" is neither a host name nor a CIDR`);
    hosts.push(name);
  }
  return { hosts, cidrs };
}

function unwrapMapped(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
}

// Whether a name matches one of the patterns (`host` exact, `*.suffix` any subdomain of suffix).
export function hostMatches(hostname: string, patterns: readonly string[]): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1 : name === pattern;
  });
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

// Null when a tenant-chosen URL may connect to this address; otherwise the name of the range that
// forbids it (`loopback`, `private`, `linkLocal`, `carrierGradeNat`, `uniqueLocal`, ...). Only
// public unicast passes: IPv4-mapped IPv6 is judged as the IPv4 it carries, and IPv6 outside
// 2000::/3 (IPv4-compatible ::a.b.c.d, NAT64, 6to4 and Teredo wrappers included) is refused.
export function refusedRange(address: string, allow: OutboundAllowList = EMPTY_ALLOW_LIST): string | null {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!isIP(bare.split('%')[0] ?? '')) return 'notAnAddress';
  const addr = unwrapMapped(ipaddr.parse(bare));
  if (allow.cidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) return null;
  const range = addr.range();
  if (range !== 'unicast') return range;
  if (addr.kind() === 'ipv6' && !addr.match(GLOBAL_UNICAST_V6)) return 'reserved';
  return null;
}

export type UrlRefusal = { reason: 'invalid_url' | 'scheme' | 'address'; message: string };

export interface UrlTarget {
  url: URL;
  // Without IPv6 brackets, as the socket sees it.
  hostname: string;
  isLiteral: boolean;
  // An operator-allowed name: whatever it resolves to is allowed.
  allowedName: boolean;
}

// What can be judged without DNS: the URL's shape, its scheme, and a literal address.
export function judgeUrl(raw: string, policy: OutboundPolicy): UrlRefusal | UrlTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: 'invalid_url', message: 'not a URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !policy.httpsOnly)) {
    return { reason: 'scheme', message: `${url.protocol} is not allowed${policy.httpsOnly ? ' (https only)' : ''}` };
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostname) return { reason: 'invalid_url', message: 'no host' };
  const isLiteral = isIP(hostname) !== 0;
  if (isLiteral) {
    const range = refusedRange(hostname, policy.allow);
    if (range) return { reason: 'address', message: `${hostname} is a ${range} address` };
  }
  return { url, hostname, isLiteral, allowedName: !isLiteral && hostMatches(hostname, policy.allow.hosts) };
}

export const isRefusal = (v: UrlRefusal | UrlTarget): v is UrlRefusal => 'reason' in v;

// What the person saving the URL reads (pt-BR), by reason.
export const OUTBOUND_REFUSAL_DETAIL = {
  invalid_url: 'O endereço informado não é uma URL válida.',
  scheme: 'O endereço precisa usar https.',
  address:
    'Este endereço aponta para uma rede interna (loopback, rede privada, link-local ou faixa reservada) e não pode ser chamado pela plataforma. Use um endereço público ou peça ao operador para liberar o host.',
  dns: 'Não foi possível resolver o nome do host deste endereço. Confira a URL e tente novamente.',
} as const;

export type OutboundRefusalReason = keyof typeof OUTBOUND_REFUSAL_DETAIL | 'redirect';
