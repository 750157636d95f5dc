import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { hashPassword } from '../infra/passwords';
import { User } from './models';
import { withPlatform } from './tenant-scope';

// The first SUPER_ADMIN, who creates tenants. Created once; an existing account is left as it is.
export async function ensurePlatformAdmin(knex: Knex, a: { email: string; password: string; name?: string }): Promise<string> {
  const email = a.email.toLowerCase();
  return withPlatform(knex, async (trx) => {
    const existing = await User.query(trx).findOne({ email });
    if (existing) return existing.id;
    const id = randomUUID();
    await User.query(trx).insert({
      id, tenantId: null, email, name: a.name ?? 'Administrador da plataforma', role: 'SUPER_ADMIN',
      passwordHash: await hashPassword(a.password), active: true,
    });
    return id;
  });
}
