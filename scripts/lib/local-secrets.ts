import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// For a local run without configured secrets: generated once and kept in .data/, so a restart
// keeps sessions valid and can still open the WhatsApp tokens it sealed.
export function localSecrets(file: string): { JWT_SECRET: string; ENCRYPTION_KEY: string } {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2));
  chmodSync(file, 0o600);
  return secrets;
}
