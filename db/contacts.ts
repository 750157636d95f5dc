import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface ContactRef {
  waId?: string;
  userId?: string;
  profileName?: string;
}

// Rows that carry either identifier of `ref` (wa_id, business-scoped user id).
const holdingEither = (ref: ContactRef) => (q: Knex.QueryBuilder) => {
  if (ref.waId) q.orWhere({ waId: ref.waId });
  if (ref.userId) q.orWhere({ userId: ref.userId });
};

// Our id for the person behind a message. Meta may name them by wa_id, by business-scoped user
// id, or both, and not always the same way twice: either one finds the contact, and the one we
// did not know yet is added. Concurrent first messages race on the unique indexes, not on us.
export async function resolveContactId(trx: Knex.Transaction, tenantId: string, ref: ContactRef): Promise<string> {
  const find = () =>
    trx('contacts')
      .where(holdingEither(ref))
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

export type IdentityChangeOutcome =
  | { outcome: 'updated'; contactId: string }
  | { outcome: 'unknown' } // no contact has the previous identifiers: nothing to update
  | { outcome: 'conflict'; contactId: string; holderId: string }; // the new identifier is another contact's

// A person's new phone number or business-scoped user id, reported by Meta, written onto the
// contact that had the previous ones: the same contact (and so the same conversation) keeps
// answering to them. When another contact already holds the new identifier (the person wrote
// from it before the notice arrived) the two are kept apart rather than merged.
export async function applyIdentityChange(
  trx: Knex.Transaction,
  tenantId: string,
  change: { previous: ContactRef; current: ContactRef },
): Promise<IdentityChangeOutcome> {
  const { previous, current } = change;
  const found = await trx('contacts')
    .where(holdingEither(previous))
    // The business-scoped user id names one person for sure; a phone number may have been recycled.
    .orderByRaw('user_id IS NOT DISTINCT FROM ? DESC', [previous.userId ?? null])
    .first('id', 'waId', 'userId');
  if (!found) return { outcome: 'unknown' };
  const holder = await trx('contacts')
    .whereNot({ id: found.id })
    .andWhere(holdingEither(current))
    .first('id');
  if (holder) return { outcome: 'conflict', contactId: found.id as string, holderId: holder.id as string };
  await trx('contacts')
    .where({ id: found.id })
    .update({ waId: current.waId ?? found.waId, userId: current.userId ?? found.userId, updatedAt: new Date() });
  return { outcome: 'updated', contactId: found.id as string };
}
