import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ContractEvent } from './models';
import type { ContractEventType } from '../domain/sales-statuses';

// The contract's evidence is a hash chain: each event's hash is sha256(previous hash + the
// canonical JSON of the event), so removing or changing one breaks every hash after it. The
// contract row is locked while appending, so two writers never chain on the same predecessor.

export interface ContractEventInput {
  tenantId: string;
  contractId: string;
  type: ContractEventType;
  signerId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  documentSha256?: string | null;
  data?: Record<string, unknown>;
  occurredAt?: Date;
}

// Keys sorted at every level: the same event always serializes to the same bytes.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function eventHash(prevHash: string | null, e: { id: string; contractId: string; type: string; signerId: string | null; ip: string | null; userAgent: string | null; documentSha256: string | null; data: Record<string, unknown>; occurredAt: string }): string {
  return createHash('sha256').update((prevHash ?? '') + canonicalJson(e)).digest('hex');
}

export async function appendContractEvent(trx: Knex.Transaction, input: ContractEventInput): Promise<ContractEvent> {
  await trx('contracts').where({ id: input.contractId }).forUpdate().first('id');
  const last = await ContractEvent.query(trx).where({ contractId: input.contractId }).orderBy('seq', 'desc').first();
  const body = {
    id: randomUUID(),
    contractId: input.contractId,
    type: input.type,
    signerId: input.signerId ?? null,
    ip: input.ip ?? null,
    userAgent: input.userAgent ?? null,
    documentSha256: input.documentSha256 ?? null,
    data: input.data ?? {},
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
  };
  const prevHash = last?.hash ?? null;
  return ContractEvent.query(trx).insertAndFetch({
    ...body,
    tenantId: input.tenantId,
    occurredAt: new Date(body.occurredAt),
    prevHash,
    hash: eventHash(prevHash, body),
  });
}

// Recomputes the chain; the first broken link's seq, or null when every hash holds.
export function brokenLink(events: readonly ContractEvent[]): string | null {
  let prev: string | null = null;
  for (const e of events) {
    const h = eventHash(prev, {
      id: e.id, contractId: e.contractId, type: e.type, signerId: e.signerId, ip: e.ip, userAgent: e.userAgent,
      documentSha256: e.documentSha256, data: e.data, occurredAt: new Date(e.occurredAt).toISOString(),
    });
    if (e.prevHash !== prev || e.hash !== h) return e.seq;
    prev = e.hash;
  }
  return null;
}
