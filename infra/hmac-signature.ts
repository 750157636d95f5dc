import { createHmac, timingSafeEqual } from 'node:crypto';

// `sha256=<hex>`, an HMAC-SHA256 of the body bytes: how Meta signs its webhooks to us
// (X-Hub-Signature-256, keyed with the Meta app's App Secret) and how we sign the events we post
// to tenants' automations (X-Orquestra-Signature-256). The HMAC must be computed over the bytes as
// received: re-serializing parsed JSON changes escapes and key order and breaks it.

// Hex is case-insensitive, so an uppercase digest is the same digest; anything else about the
// header (prefix, length, alphabet) is a forgery or a misconfigured proxy and is refused.
const SIGNATURE_HEADER = /^sha256=([0-9a-fA-F]{64})$/;

export function verifySha256Signature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  // An empty key is computable by anyone, so a missing secret must never validate a delivery.
  if (!appSecret || typeof header !== 'string') return false;
  const hex = SIGNATURE_HEADER.exec(header)?.[1];
  if (!hex) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  // timingSafeEqual throws on a length mismatch; the regex already pins 32 bytes, the check keeps
  // that promise local to this line.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// The header value for this body.
export function sha256Signature(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}
