import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LocalSecrets {
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
  // The platform Meta app's webhook secrets, so the local webhook accepts signed deliveries.
  WHATSAPP_APP_SECRET: string;
  WHATSAPP_VERIFY_TOKEN: string;
  // The access token of the demo number on the local Meta sandbox: the demo tenant keeps it
  // sealed in the database, so the sandbox must accept the same one after a restart.
  WHATSAPP_SANDBOX_TOKEN: string;
  // Opens the codec server to the dev server's Web UI (and to `temporal workflow show`).
  TEMPORAL_CODEC_TOKEN: string;
}

const generators: { [K in keyof LocalSecrets]: () => string } = {
  JWT_SECRET: () => randomBytes(32).toString('hex'),
  ENCRYPTION_KEY: () => randomBytes(32).toString('base64'),
  WHATSAPP_APP_SECRET: () => randomBytes(32).toString('hex'),
  WHATSAPP_VERIFY_TOKEN: () => randomBytes(24).toString('base64url'),
  WHATSAPP_SANDBOX_TOKEN: () => `EAASANDBOX${randomBytes(32).toString('base64url')}`,
  TEMPORAL_CODEC_TOKEN: () => randomBytes(24).toString('base64url'),
};

// For a local run without configured secrets: generated once and kept in .data/, so a restart
// keeps sessions valid and can still open the WhatsApp tokens it sealed. A file from an older
// run keeps its values and only gains the keys it lacks.
export function localSecrets(file: string): LocalSecrets {
  const stored: Partial<Record<string, unknown>> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = { ...stored } as Record<string, unknown>;
  let changed = !existsSync(file);
  for (const [key, generate] of Object.entries(generators)) {
    if (typeof secrets[key] !== 'string' || secrets[key] === '') {
      secrets[key] = generate();
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2));
    chmodSync(file, 0o600);
  }
  return secrets as unknown as LocalSecrets;
}

// Read-only, for tools that talk to a running `npm start` (scripts/demo-guest.ts).
export function readLocalSecrets(file: string): Partial<LocalSecrets> {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : {};
}
