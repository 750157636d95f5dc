import { hash, verify } from '@node-rs/argon2';

// Here, below both, because the API (login, users, tenants) and db/ (the platform admin created at
// start-up) both hash passwords and neither may import the other.

// Argon2id with OWASP's baseline parameters (19 MiB, 2 passes).
const OPTIONS = { algorithm: 2 /* Argon2id: the package's const enum cannot be imported under isolatedModules */, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

// Unknown e-mails still pay for one verification, so response time does not reveal which
// addresses have accounts.
export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    dummy ??= hashPassword('orquestra-timing-equaliser');
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
