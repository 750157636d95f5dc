import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { hashPassword } from '../infra/passwords';
import type { SecretBox } from '../infra/secret-box';
import { isTotpSecret } from '../infra/totp';
import { User, UserMfa } from './models';
import { withPlatform } from './tenant-scope';

// The first SUPER_ADMIN, who creates tenants. Created once; an existing account is left as it is,
// except that one without TOTP gets `totpSecret` (PLATFORM_ADMIN_TOTP_SECRET): SUPER_ADMIN always
// logs in with a second factor, and this is how the first one has it without an enrolment step.
// `secrets` seals it as the API will open it (ENCRYPTION_KEY).
export async function ensurePlatformAdmin(
  knex: Knex,
  a: { email: string; password: string; name?: string; totpSecret?: string },
  secrets?: SecretBox,
): Promise<string> {
  const email = a.email.toLowerCase();
  if (a.totpSecret !== undefined && !isTotpSecret(a.totpSecret)) throw new Error('the platform admin TOTP secret must be base32 (A-Z, 2-7) of at least 16 bytes');
  if (a.totpSecret !== undefined && !secrets) throw new Error('sealing the platform admin TOTP secret needs the secret box');
  return withPlatform(knex, async (trx) => {
    const existing = await User.query(trx).findOne({ email });
    const id = existing?.id ?? randomUUID();
    if (!existing) {
      await User.query(trx).insert({
        id, tenantId: null, email, name: a.name ?? 'Administrador da plataforma', role: 'SUPER_ADMIN',
        passwordHash: await hashPassword(a.password), active: true,
      });
    }
    if (a.totpSecret !== undefined && secrets) {
      const mfa = await UserMfa.query(trx).findById(id);
      const enabled = { secretSealed: secrets.seal(a.totpSecret), enabledAt: new Date(), pendingSecretSealed: null, pendingSince: null, updatedAt: new Date() };
      if (!mfa) await UserMfa.query(trx).insert({ userId: id, tenantId: null, recoveryCodeHashes: [], ...enabled });
      else if (!mfa.secretSealed) await UserMfa.query(trx).patch(enabled).where({ userId: id });
    }
    return id;
  });
}
