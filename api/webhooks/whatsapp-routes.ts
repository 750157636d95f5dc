import Router from '@koa/router';
import { withdrawMarketingConsent } from '../../activities/marketing-consent';
import { applyIdentityChange, resolveContactId } from '../../db/contacts';
import { SYSTEM_ACTOR } from '../../domain/actor';
import { applyStatusEvents } from '../../db/message-status';
import { withTenant } from '../../db/tenant-scope';
import type { InboundMessage, WebhookBatch } from '../../domain/whatsapp-messages';
import { conversationStart, conversationWorkflowId, inboundMessageSignal, type ConversationInput } from '../../workflows/conversation';
import { startOptions } from '../../workflows/workflow-start';
import type { ApiDeps } from '../deps';
import { taskQueues } from '../workflow-calls';
import { buildWebhook, sameSecret, type BuiltWebhook } from './webhook-builder';
import { parseWhatsAppWebhook, type MarketingPreference, type ParsedWebhook } from './whatsapp-payload';

// Meta's webhook for WhatsApp, declared on the webhook builder. The platform's app posts to
// /webhooks/whatsapp; a tenant's own app to /webhooks/whatsapp/{appId}, whose secrets are looked
// up (and cached) by app id. Each new message is handed to its conversation workflow with
// signal-with-start, and the answer is 200 only once Temporal has accepted all of them (503
// otherwise: Meta retries). Everything else waits for the workflow: Meta wants a median under
// 250 ms.

interface MetaAppSecrets {
  metaAppId: string | null; // our row id; null for the platform's app
  appSecret: string;
  verifyToken: string;
}

interface ChannelRoute {
  phoneNumberId: string;
  channelId: string;
  tenantId: string;
  metaAppId: string | null;
  tenantStatus: string;
}

type MetaPayload = Extract<ParsedWebhook, { ok: true }>;

const SIGNAL_DEADLINE_MS = 5_000;
// Tenants' own apps: a few per tenant at most; a minute is how long a rotated App Secret may lag.
const META_APP_CACHE = { max: 1_000, ttlMs: 60_000 };

export function whatsappWebhook(deps: ApiDeps): BuiltWebhook {
  return buildWebhook<MetaAppSecrets, MetaPayload>(
    {
      name: 'whatsapp',
      paths: ['/webhooks/whatsapp', '/webhooks/whatsapp/:appId'],
      verification: { kind: 'hmac-sha256', header: 'X-Hub-Signature-256' },
      secret: {
        param: 'appId',
        static: () => {
          const { WHATSAPP_APP_SECRET: appSecret, WHATSAPP_VERIFY_TOKEN: verifyToken } = deps.config;
          return appSecret && verifyToken ? { metaAppId: null, appSecret, verifyToken } : null;
        },
        validKey: (appId) => /^\d{5,30}$/.test(appId),
        lookup: async (appId) => {
          const { rows } = await deps.knex.raw('SELECT * FROM webhook_find_app(?)', [appId]);
          const row = rows[0] as { id: string; app_secret_sealed: string; verify_token_sealed: string } | undefined;
          return row ? { metaAppId: row.id, appSecret: deps.secrets.open(row.app_secret_sealed), verifyToken: deps.secrets.open(row.verify_token_sealed) } : null;
        },
        cache: META_APP_CACHE,
        key: (app) => app.appSecret,
      },
      unknownAppDetail: 'Aplicativo Meta desconhecido.',
      handshake: (ctx, app) => {
        const mode = ctx.query['hub.mode'];
        const token = ctx.query['hub.verify_token'];
        const challenge = ctx.query['hub.challenge'];
        const ok = mode === 'subscribe' && typeof token === 'string' && typeof challenge === 'string' && sameSecret(token, app.verifyToken);
        return ok ? challenge : null;
      },
      parse: (json) => {
        const parsed = parseWhatsAppWebhook(json);
        return parsed.ok
          ? { ok: true, value: parsed }
          : { ok: false, detail: 'O payload não segue o formato de webhook do WhatsApp.', issues: parsed.issues };
      },
      accept: async ({ secret: app, payload, log }) => {
        if (payload.skipped.length) log.warn({ skipped: payload.skipped }, 'webhook items we cannot use were skipped; the rest is processed');
        if (payload.ignoredFields.length) log.info({ fields: payload.ignoredFields }, 'webhook changes for fields we do not handle were ignored');
        const routes = await channelRoutes(deps, [...payload.batches.map((b) => b.phoneNumberId), ...payload.preferences.map((p) => p.phoneNumberId)]);
        // Everything is recorded first, then delivered: a guest's messages keep their payload order
        // even when Meta splits them over several changes.
        const planned: Planned['messages'] = [];
        for (const batch of payload.batches) {
          const route = routes.get(batch.phoneNumberId);
          if (!route) {
            log.warn({ phoneNumberId: batch.phoneNumberId, wabaId: batch.wabaId }, 'webhook for an unknown phone number id acknowledged and dropped');
            continue;
          }
          if (route.metaAppId !== app.metaAppId) {
            log.warn({ phoneNumberId: batch.phoneNumberId }, 'webhook signed by an app the number is not connected to; dropped');
            continue;
          }
          if (route.tenantStatus !== 'active') {
            log.warn({ tenantId: route.tenantId, status: route.tenantStatus }, 'webhook for an inactive tenant; dropped');
            continue;
          }
          const plan = await recordBatch(deps, route, batch, log);
          planned.push(...plan.messages);
          void emitStatuses(deps, route.tenantId, plan.statuses);
        }
        const optOuts: (() => Promise<void>)[] = [];
        for (const preference of payload.preferences) {
          const route = routes.get(preference.phoneNumberId);
          if (!route || route.metaAppId !== app.metaAppId || route.tenantStatus !== 'active') {
            log.warn({ phoneNumberId: preference.phoneNumberId }, 'marketing preference for a number we do not route; dropped');
            continue;
          }
          if (preference.value === 'resume') {
            // LGPD: consent is given again explicitly (a form, a staff record), never inferred.
            log.info({ tenantId: route.tenantId, waId: preference.waId }, 'contact resumed marketing messages on WhatsApp; consent is not granted by it');
            continue;
          }
          optOuts.push(() => recordMetaOptOut(deps, route, preference));
        }
        return { deliveries: [...deliveries(deps, planned, log), ...optOuts], ack: planned.length ? `EVENT_RECEIVED ${planned.length}` : 'EVENT_RECEIVED' };
      },
    },
    { rateLimits: deps.rateLimits, invalidPerMinute: deps.config.RATE_LIMIT_WEBHOOK_INVALID_PER_MINUTE, log: deps.log },
  );
}

export function whatsappWebhookRouter(deps: ApiDeps): Router {
  return whatsappWebhook(deps).router;
}

async function channelRoutes(deps: ApiDeps, phoneNumberIds: string[]): Promise<Map<string, ChannelRoute>> {
  const unique = [...new Set(phoneNumberIds)];
  const { rows } = await deps.knex.raw('SELECT * FROM webhook_find_channels(?::text[])', [unique]);
  return new Map(
    (rows as { phone_number_id: string; channel_id: string; tenant_id: string; meta_app_id: string | null; tenant_status: string }[]).map((r) => [
      r.phone_number_id,
      { phoneNumberId: r.phone_number_id, channelId: r.channel_id, tenantId: r.tenant_id, metaAppId: r.meta_app_id, tenantStatus: r.tenant_status },
    ]),
  );
}

interface Planned {
  messages: { route: ChannelRoute; contactId: string; message: InboundMessage }[];
  statuses: { id: string; conversationId: string; status: string; error: unknown }[];
}

// One transaction per number: contacts resolved, identity changes applied in payload order,
// messages already stored filtered out, statuses recorded (once per message and status) and
// applied monotonically. Identity changes create no message and signal no workflow.
async function recordBatch(deps: ApiDeps, route: ChannelRoute, batch: WebhookBatch, log: ApiDeps['log']): Promise<Planned> {
  return withTenant(deps.knex, route.tenantId, async (trx) => {
    const wamids = batch.messages.map((m) => m.wamid);
    const stored = wamids.length
      ? new Set((await trx('messages').whereIn('wamid', wamids).pluck('wamid')) as string[])
      : new Set<string>();
    const contacts = new Map<string, string>();
    const changes = [...batch.identityChanges];
    const applyChangesUpTo = async (position: number) => {
      while (changes.length && changes[0]!.afterMessages <= position) {
        const change = changes.shift()!;
        const result = await applyIdentityChange(trx, route.tenantId, change);
        contacts.clear(); // identifiers moved: resolve again
        // 'unknown' is also what a redelivered notice finds once applied: only a conflict needs eyes.
        const level = result.outcome === 'conflict' ? 'warn' : 'info';
        log[level]({ tenantId: route.tenantId, wamid: change.wamid, kind: change.kind, ...result }, `contact identity change: ${result.outcome}`);
      }
    };
    const messages: Planned['messages'] = [];
    for (const [position, message] of batch.messages.entries()) {
      await applyChangesUpTo(position);
      if (stored.has(message.wamid)) continue;
      stored.add(message.wamid); // the same id twice in one payload
      const key = `${message.from.waId ?? ''}|${message.from.userId ?? ''}`;
      let contactId = contacts.get(key);
      if (!contactId) {
        contactId = await resolveContactId(trx, route.tenantId, message.from);
        contacts.set(key, contactId);
      }
      messages.push({ route, contactId, message });
    }
    await applyChangesUpTo(Infinity);
    let statuses: Planned['statuses'] = [];
    if (batch.statuses.length) {
      await trx('message_status_events')
        .insert(
          batch.statuses.map((st) => ({
            tenantId: route.tenantId,
            wamid: st.wamid,
            status: st.status,
            occurredAt: new Date(st.timestamp * 1000),
            errors: JSON.stringify(st.errors),
            callbackData: st.bizOpaqueCallbackData ?? null,
          })),
        )
        .onConflict(['tenantId', 'wamid', 'status'])
        .ignore();
      statuses = await applyStatusEvents(trx, route.tenantId, [...new Set(batch.statuses.map((st) => st.wamid))]);
    }
    return { messages, statuses };
  });
}

// Messages of one contact go in order; different contacts in parallel (one delivery each, which
// the builder runs and awaits together).
function deliveries(deps: ApiDeps, messages: Planned['messages'], log: ApiDeps['log']): (() => Promise<void>)[] {
  const byWorkflow = new Map<string, Planned['messages']>();
  for (const m of messages) {
    const id = conversationWorkflowId(m.route.tenantId, m.contactId);
    byWorkflow.set(id, [...(byWorkflow.get(id) ?? []), m]);
  }
  const { client } = deps.temporal;
  return [...byWorkflow].map(([workflowId, list]) => async () => {
    for (const { route, contactId, message } of list) {
      const input: ConversationInput = {
        tenantId: route.tenantId,
        contactId,
        channelId: route.channelId,
        options: { perCustomerIntervalMs: deps.config.WHATSAPP_PER_CUSTOMER_INTERVAL_MS },
      };
      const start = conversationStart(input);
      try {
        await deps.temporal.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
          client.workflow.signalWithStart(start.workflowType, {
            ...startOptions(start, taskQueues(deps)),
            signal: inboundMessageSignal,
            signalArgs: [{ message }],
          }),
        );
      } catch (err) {
        log.warn({ workflowId, wamid: message.wamid, err: (err as Error).message }, 'signal-with-start failed');
        throw err;
      }
    }
  });
}

async function emitStatuses(deps: ApiDeps, tenantId: string, statuses: Planned['statuses']): Promise<void> {
  for (const st of statuses) {
    const target = { tenantId, conversationId: st.conversationId };
    await deps.realtime.emit(target, 'message:status', {
      tenantId, conversationId: st.conversationId, messageId: st.id, status: st.status as 'sent', statusAt: new Date().toISOString(),
    });
    if (st.status === 'failed') {
      const first = ((st.error as { errors?: { code?: number; title?: string; message?: string }[] } | null)?.errors ?? [])[0];
      await deps.realtime.emit(target, 'message:failed', {
        tenantId, conversationId: st.conversationId, messageId: st.id,
        error: { code: first?.code ?? null, title: first?.title, message: first?.message }, failedAt: new Date().toISOString(),
      });
    }
  }
}

// Meta's "stop promotions": a marketing withdrawal in the ledger (channel meta_opt_out), and the
// contact's cadences stop. A redelivered notice records nothing twice.
async function recordMetaOptOut(deps: ApiDeps, route: ChannelRoute, p: MarketingPreference): Promise<void> {
  const contactId = await withTenant(deps.knex, route.tenantId, (trx) => resolveContactId(trx, route.tenantId, { waId: p.waId }));
  await withdrawMarketingConsent(deps, {
    tenantId: route.tenantId,
    contactId,
    channel: 'meta_opt_out',
    evidence: { waId: p.waId, phoneNumberId: p.phoneNumberId, timestamp: p.timestamp, ...(p.detail ? { detail: p.detail } : {}) },
    dedupeKey: `meta:${p.waId}:${p.timestamp}:stop`,
    actor: SYSTEM_ACTOR,
    occurredAt: new Date(p.timestamp * 1000),
  });
}
