import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { AutomationEndpoint } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import type { AutomationEventName } from '../domain/automation-events';
import { outboundRefusalIn, strictOutboundGuard } from '../infra/guarded-fetch';
import { sha256Signature } from '../infra/hmac-signature';
import { automationDeliveryStart, automationEventWorkflowId, type AutomationEventInput } from '../workflows/automation-delivery';
import type { ActivityDeps } from './deps';
import { startOnce } from './temporal-calls';
import { callSignal } from './call-signal';

// Events for the tenant's automations (n8n and the like), posted to the URL the tenant set,
// signed like Meta signs its webhooks: `X-Orquestra-Signature-256: sha256=<hex HMAC of the raw body>`.
// Each event is its own small workflow, so a slow or failing endpoint is retried with backoff
// without ever holding up the conversation that produced the event.

// The tenant's endpoint, read within a transaction the caller already holds: an activity on the
// hot path (every guest message) then spends no transaction of its own on it.
export async function automationEndpointOf(trx: Knex.Transaction, tenantId: string): Promise<AutomationEndpoint | null> {
  return (await AutomationEndpoint.query(trx).findById(tenantId)) ?? null;
}

export async function startAutomationEvent(
  deps: Pick<ActivityDeps, 'knex' | 'temporal'>,
  tenantId: string,
  key: string,
  event: AutomationEventName,
  data: Record<string, unknown>,
  // Read by the caller (automationEndpointOf) in the transaction that produced the event.
  known?: { endpoint: AutomationEndpoint | null },
): Promise<void> {
  if (!deps.temporal) return;
  const endpoint = known ? known.endpoint : await withTenant(deps.knex, tenantId, async (trx) => automationEndpointOf(trx, tenantId));
  if (!endpoint?.active || !endpoint.events.includes(event)) return;
  const workflowId = automationEventWorkflowId(tenantId, key);
  const input: AutomationEventInput = {
    tenantId,
    eventId: workflowId,
    event,
    occurredAt: new Date().toISOString(),
    data,
  };
  // A retried activity finds the delivery it already started.
  await startOnce(deps, automationDeliveryStart(input));
}

export function automationActivities({ knex, secrets, outbound }: ActivityDeps) {
  // The URL is the tenant's: it goes through the address guard, and a redirect is a failure.
  const guard = outbound ?? strictOutboundGuard();
  return {
    async postAutomationEvent(a: AutomationEventInput): Promise<{ status: number } | { skipped: string }> {
      const endpoint = await withTenant(knex, a.tenantId, async (trx) => AutomationEndpoint.query(trx).findById(a.tenantId));
      if (!endpoint?.active) return { skipped: 'no active automation endpoint' };
      const body = JSON.stringify({ id: a.eventId, event: a.event, tenantId: a.tenantId, occurredAt: a.occurredAt, data: a.data });
      let res: Awaited<ReturnType<typeof guard.fetch>>;
      try {
        res = await guard.fetch(endpoint.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Orquestra-Automations/1',
            'x-orquestra-event': a.event,
            'x-orquestra-delivery': a.eventId,
            'x-orquestra-signature-256': sha256Signature(body, secrets.open(endpoint.secretSealed)),
          },
          body,
          signal: callSignal(10_000),
        });
      } catch (err) {
        // An internal address or a redirect stays refused however often it is tried.
        const refused = outboundRefusalIn(err);
        if (refused) throw ApplicationFailure.nonRetryable(`automation endpoint ${refused.message}`, 'OutboundRefused');
        throw new Error(`automation endpoint unreachable: ${(err as Error).message}`);
      }
      await res.body?.cancel().catch(() => {});
      if (res.ok) return { status: res.status };
      // 410 Gone is how an endpoint says "stop sending this"; anything else is retried.
      if (res.status === 410) throw ApplicationFailure.nonRetryable('automation endpoint answered 410 Gone', 'AutomationEndpointGone');
      throw new Error(`automation endpoint answered HTTP ${res.status}`);
    },
  };
}
