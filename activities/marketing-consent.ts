import { recordConsent } from '../db/consent';
import { ConsentEvent } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import type { Actor } from '../domain/actor';
import type { ConsentChannel } from '../domain/sales-statuses';
import { optedOutSignal } from '../workflows/nurturing/definitions';
import type { ActivityDeps } from './deps';
import { signalOpenLeads } from './lead-intake';

// A contact withdrawing marketing consent, from wherever it comes (the API, "SAIR" on WhatsApp,
// Meta's "stop promotions"): the ledger row is committed first, then every open lead's
// nurturing hears it, so a cadence that checks consent already finds it withdrawn.

export interface MarketingWithdrawal {
  tenantId: string;
  contactId: string;
  channel: ConsentChannel;
  evidence: Record<string, unknown>;
  actor: Actor;
  // Names the event that caused it (a wamid, Meta's notice): a redelivery records nothing twice.
  dedupeKey?: string;
  occurredAt?: Date;
}

export async function withdrawMarketingConsent(
  deps: Pick<ActivityDeps, 'knex' | 'temporal'>,
  w: MarketingWithdrawal,
): Promise<{ event: ConsentEvent | null; told: number }> {
  const event = await withTenant(deps.knex, w.tenantId, async (trx) => {
    if (w.dedupeKey) {
      const seen = await ConsentEvent.query(trx).where({ contactId: w.contactId, purpose: 'marketing' }).whereRaw(`evidence->>'dedupeKey' = ?`, [w.dedupeKey]).first();
      if (seen) return null;
    }
    return recordConsent(trx, {
      tenantId: w.tenantId,
      contactId: w.contactId,
      purpose: 'marketing',
      action: 'withdrawn',
      channel: w.channel,
      evidence: { ...w.evidence, ...(w.dedupeKey ? { dedupeKey: w.dedupeKey } : {}) },
      recordedBy: w.actor,
      occurredAt: w.occurredAt,
    });
  });
  // Told even on a redelivery: a signal lost the first time (Temporal away) gets through now.
  const told = await signalOpenLeads(deps, w.tenantId, w.contactId, optedOutSignal, {
    channel: w.channel,
    at: (w.occurredAt ?? new Date()).toISOString(),
  });
  return { event, told };
}
