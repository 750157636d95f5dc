import type { QueryBuilder, Model } from 'objection';
import { z } from 'zod';
import { badRequest } from './problem';

// Keyset pagination, newest first, on (created_at, id): stable under inserts, no OFFSET scans.
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

interface Keyed {
  createdAt: Date;
  id: string;
}

export async function keysetPage<M extends Model & Keyed>(
  qb: QueryBuilder<M, M[]>,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<{ rows: M[]; nextCursor: string | null }> {
  if (cursor) {
    const c = decode(cursor);
    qb.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [c.createdAt, c.id]);
  }
  const rows = await qb.orderBy([{ column: 'createdAt', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit + 1);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { rows: page, nextCursor: more && last ? encode(last) : null };
}

const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

function encode(row: Keyed): string {
  return encodeCursor({ createdAt: row.createdAt.toISOString(), id: row.id });
}

function decode(cursor: string): z.infer<typeof cursorSchema> {
  return decodeCursor(cursorSchema, cursor);
}

// Cursors are opaque to clients: the last row's sort key, as base64url JSON.
export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.infer<S> {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('Cursor de paginação inválido.', [{ path: 'query.cursor', message: 'invalid cursor' }]);
  }
}
