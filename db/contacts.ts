import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface ContactRef {
  waId?: string;
  userId?: string;
  profileName?: string;
}

// Our id for the person behind a message. Meta may name them by wa_id, by business-scoped user
// id, or both, and not always the same way twice: either one finds the contact, and the one we
// did not know yet is added. Concurrent first messages race on the unique indexes, not on us.
export async function resolveContactId(trx: Knex.Transaction, tenantId: string, ref: ContactRef): Promise<string> {
  const find = () =>
    trx('contacts')
      .where((q) => {
        if (ref.waId) q.orWhere({ waId: ref.waId });
        if (ref.userId) q.orWhere({ userId: ref.userId });
      })
      .orderByRaw('wa_id IS NULL')
      .first('id', 'waId', 'userId');
  let found = await find();
  if (!found) {
    await trx('contacts')
      .insert({ id: randomUUID(), tenantId, waId: ref.waId ?? null, userId: ref.userId ?? null, profileName: ref.profileName ?? null })
      .onConflict()
      .ignore();
    found = await find();
  }
  if (!found) throw new Error('contact could not be resolved');
  if ((ref.waId && !found.waId) || (ref.userId && !found.userId)) {
    // Learning the other identifier; if another row already holds it, keep the two apart.
    await trx.raw(
      `UPDATE contacts SET wa_id = coalesce(wa_id, ?), user_id = coalesce(user_id, ?), updated_at = now()
       WHERE id = ? AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = ? AND c.id <> ? AND (c.wa_id = ? OR c.user_id = ?))`,
      [ref.waId ?? null, ref.userId ?? null, found.id, tenantId, found.id, ref.waId ?? '', ref.userId ?? ''],
    );
  }
  return found.id as string;
}
