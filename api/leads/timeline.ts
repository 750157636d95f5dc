import type { Knex } from 'knex';
import { z } from 'zod';
import type { Lead } from '../../db/models';
import { decodeCursor, encodeCursor } from '../pagination';
import type { TimelineItem } from './schema';

// A lead's timeline: what was said (the contact's messages), what the process did (lead events:
// creation, joins, cadence steps, stage changes), appointments, consent, proposals and
// contracts, merged newest first. Each source is read up to one page past the cursor and the
// merge keeps the newest; the key (time to the millisecond, then id) is total, so pages neither
// repeat nor skip.

const cursorSchema = z.object({ at: z.iso.datetime(), id: z.uuid() });

interface Source {
  type: TimelineItem['type'];
  table: string;
  at: string; // column
  where: (q: Knex.QueryBuilder, lead: Lead) => void;
  columns: string[];
  data: (row: Record<string, unknown>) => Record<string, unknown>;
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v ?? null);

const SOURCES: Source[] = [
  {
    type: 'message',
    table: 'messages',
    at: 'occurred_at',
    where: (q, lead) => void q.where({ contactId: lead.contactId }),
    columns: ['id', 'conversationId', 'direction', 'senderType', 'type', 'body', 'status'],
    data: (r) => ({ conversationId: r.conversationId, direction: r.direction, senderType: r.senderType, type: r.type, body: r.body, status: r.status }),
  },
  {
    type: 'lead_event',
    table: 'lead_events',
    at: 'occurred_at',
    where: (q, lead) => void q.where({ leadId: lead.id }),
    columns: ['id', 'type', 'data', 'actorType', 'actorId'],
    data: (r) => {
      const { idempotencyKey: _key, ...data } = (r.data ?? {}) as Record<string, unknown>;
      return { event: r.type, ...data, actor: { type: r.actorType, id: r.actorId } };
    },
  },
  {
    type: 'appointment',
    table: 'appointments',
    at: 'created_at',
    where: (q, lead) => void q.where({ leadId: lead.id }),
    columns: ['id', 'kind', 'status', 'startsAt', 'endsAt', 'ownerId', 'location'],
    data: (r) => ({ kind: r.kind, status: r.status, startsAt: iso(r.startsAt), endsAt: iso(r.endsAt), ownerId: r.ownerId, location: r.location }),
  },
  {
    type: 'consent',
    table: 'consent_events',
    at: 'occurred_at',
    where: (q, lead) => void q.where({ contactId: lead.contactId }),
    columns: ['id', 'purpose', 'action', 'channel', 'textVersion'],
    data: (r) => ({ purpose: r.purpose, action: r.action, channel: r.channel, textVersion: r.textVersion }),
  },
  {
    type: 'proposal',
    table: 'proposals',
    at: 'created_at',
    where: (q, lead) => void q.where({ leadId: lead.id }),
    columns: ['id', 'number', 'status', 'totalCents', 'validUntil'],
    data: (r) => ({ number: r.number, status: r.status, totalCents: r.totalCents === null ? null : Number(r.totalCents), validUntil: iso(r.validUntil) }),
  },
  {
    type: 'contract',
    table: 'contracts',
    at: 'created_at',
    where: (q, lead) => void q.where({ leadId: lead.id }),
    columns: ['id', 'number', 'title', 'status', 'signedAt'],
    data: (r) => ({ number: r.number, title: r.title, status: r.status, signedAt: iso(r.signedAt) }),
  },
];

export async function leadTimeline(
  db: Knex.Transaction,
  lead: Lead,
  page: { limit: number; cursor?: string },
): Promise<{ items: TimelineItem[]; nextCursor: string | null }> {
  const c = page.cursor ? decodeCursor(cursorSchema, page.cursor) : undefined;
  const batches = await Promise.all(
    SOURCES.map(async (s) => {
      const at = `date_trunc('milliseconds', ${s.table}.${s.at})`;
      const q = db(s.table).select(...s.columns, db.raw(`${at} AS timeline_at`));
      s.where(q, lead);
      if (c) q.whereRaw(`(${at}, ${s.table}.id) < (?::timestamptz, ?::uuid)`, [c.at, c.id]);
      const rows = (await q.orderByRaw(`${at} DESC, ${s.table}.id DESC`).limit(page.limit + 1)) as Record<string, unknown>[];
      return rows.map((r): TimelineItem => ({ type: s.type, at: (r.timelineAt as Date).toISOString(), id: r.id as string, data: s.data(r) }));
    }),
  );
  const merged = batches.flat().sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1));
  const items = merged.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: merged.length > page.limit && last ? encodeCursor({ at: last.at, id: last.id }) : null };
}
