import { Secret, TOTP } from 'otpauth';

// Staff second factor: RFC 6238 TOTP as every authenticator app reads it (SHA-1, 6 digits, 30 s),
// through otpauth. Here, below api/ and db/, because the platform admin's bootstrap (db/), the API
// and the scripts that log in as that admin all compute or check codes.

export const TOTP_ISSUER = 'Orquestra';
const PERIOD_SECONDS = 30;
// One step either side: a phone clock a little off, or a code typed as it rolls over.
const WINDOW = 1;

const totp = (secretBase32: string, label = 'Orquestra') =>
  new TOTP({ issuer: TOTP_ISSUER, label, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS });

// 160 bits, RFC 4226's recommended length, in base32 as apps take it by hand.
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function isTotpSecret(value: string): boolean {
  try {
    return /^[A-Z2-7]+=*$/.test(value) && Secret.fromBase32(value).bytes.length >= 16;
  } catch {
    return false;
  }
}

// The otpauth:// URI an app scans: issuer Orquestra, the account's e-mail as label.
export function totpUri(secretBase32: string, email: string): string {
  return totp(secretBase32, email).toString();
}

export function totpCode(secretBase32: string, timestampMs = Date.now()): string {
  return totp(secretBase32).generate({ timestamp: timestampMs });
}

// The time step the code belongs to, or null. The caller refuses a step at or before the last one
// it accepted, so a code seen over a shoulder or in a proxy log cannot be used again.
export function totpStep(secretBase32: string, code: string, timestampMs = Date.now()): number | null {
  const delta = totp(secretBase32).validate({ token: code, timestamp: timestampMs, window: WINDOW });
  return delta === null ? null : TOTP.counter({ period: PERIOD_SECONDS, timestamp: timestampMs }) + delta;
}

export const TOTP_PERIOD_MS = PERIOD_SECONDS * 1000;
