import { timingSafeEqual } from 'node:crypto';

// Refresh tokens and API keys are random 256-bit secrets (infra/secret-tokens.ts), stored hashed;
// comparison is constant-time.
export { newSecret, sha256 } from '../../infra/secret-tokens';

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// `<uuid>.<secret>`
export function formatRefreshToken(id: string, secret: string): string {
  return `${id}.${secret}`;
}
export function parseRefreshToken(token: string): { id: string; secret: string } | null {
  const [id, secret, extra] = token.split('.');
  return id && secret && extra === undefined && UUID.test(id) ? { id, secret } : null;
}

// `orq_<uuid without dashes>_<secret>`: the prefix makes a leaked key easy to recognise in
// secret scanners and logs.
export function formatApiKey(id: string, secret: string): string {
  return `orq_${id.replace(/-/g, '')}_${secret}`;
}
export function parseApiKey(key: string): { id: string; secret: string } | null {
  const m = /^orq_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(key);
  if (!m) return null;
  const h = m[1] as string;
  return { id: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, secret: m[2] as string };
}
