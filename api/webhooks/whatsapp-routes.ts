import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { resolveContactId } from '../../db/contacts';
import { applyStatusEvents } from '../../db/message-status';
import { withTenant } from '../../db/tenant-scope';
import type { InboundMessage, WebhookBatch } from '../../domain/whatsapp-messages';
import { conversationStart, conversationWorkflowId, inboundMessageSignal, type ConversationInput } from '../../workflows/conversation';
import { startOptions } from '../../workflows/workflow-start';
import type { ApiDeps } from '../deps';
import { taskQueues } from '../workflow-calls';
import { badRequest, HttpProblem, notFound, serviceUnavailable, tooManyRequests, unauthorized } from '../problem';
import { verifySha256Signature } from '../../infra/hmac-signature';
import { parseWhatsAppWebhook } from './whatsapp-payload';

// Meta's webhook for WhatsApp. The platform's app posts to /webhooks/whatsapp; a tenant's own
// app to /webhooks/whatsapp/{appId}. The signature is checked over the raw bytes before anything
// is parsed. Each new message is handed to its conversation workflow with signal-with-start, and
// the answer is 200 only once Temporal has accepted all of them (503 otherwise: Meta retries).
// Everything else waits for the workflow: Meta wants a median under 250 ms.

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

const SIGNAL_DEADLINE_MS = 5_000;
const APP_CACHE_MS = 60_000;

export function whatsappWebhookRouter(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/webhooks/whatsapp' });
  const apps = new Map<string, { at: number; app: MetaAppSecrets | null }>();

  async function appFor(appId: string | undefined): Promise<MetaAppSecrets | null> {
    if (!appId) {
      const { WHATSAPP_APP_SECRET: appSecret, WHATSAPP_VERIFY_TOKEN: verifyToken } = deps.config;
      return appSecret && verifyToken ? { metaAppId: null, appSecret, verifyToken } : null;
    }
    if (!/^\d{5,30}$/.test(appId)) return null;
    const hit = apps.get(appId);
    if (hit && Date.now() - hit.at < APP_CACHE_MS) return hit.app;
    const { rows } = await deps.knex.raw('SELECT * FROM webhook_find_app(?)', [appId]);
    const row = rows[0] as { id: string; app_secret_sealed: string; verify_token_sealed: string } | undefined;
    const app = row ? { metaAppId: row.id, appSecret: deps.secrets.open(row.app_secret_sealed), verifyToken: deps.secrets.open(row.verify_token_sealed) } : null;
    apps.set(appId, { at: Date.now(), app });
    return app;
  }

  const verify = async (ctx: Koa.Context) => {
    ctx.state.routePath = ctx.params.appId ? '/webhooks/whatsapp/:appId' : '/webhooks/whatsapp';
    const app = await appFor(ctx.params.appId);
    const mode = ctx.query['hub.mode'];
    const token = ctx.query['hub.verify_token'];
    const challenge = ctx.query['hub.challenge'];
    if (app && mode === 'subscribe' && typeof token === 'string' && typeof challenge === 'string' && sameSecret(token, app.verifyToken)) {
      ctx.status = 200;
      ctx.type = 'text/plain';
      ctx.body = challenge;
      return;
    }
    throw new HttpProblem(403, 'Forbidden', 'Token de verificação inválido.');
  };

  const receive = async (ctx: Koa.Context) => {
    ctx.state.routePath = ctx.params.appId ? '/webhooks/whatsapp/:appId' : '/webhooks/whatsapp';
    const app = await appFor(ctx.params.appId);
    if (ctx.params.appId && !app) throw notFound('Aplicativo Meta desconhecido.');
    const raw: Buffer = ctx.state.rawBody ?? Buffer.alloc(0);
    if (!app || !verifySha256Signature(raw, ctx.get('x-hub-signature-256') || undefined, app.appSecret)) {
      // Only forgeries are limited: Meta's own deliveries must never be turned away.
      const decision = await deps.rateLimits.consume('webhook-invalid', ctx.ip, deps.config.RATE_LIMIT_WEBHOOK_INVALID_PER_MINUTE, 60);
      if (!decision.allowed) throw tooManyRequests(decision.retryAfterSeconds);
      throw unauthorized('Assinatura X-Hub-Signature-256 ausente ou inválida.');
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`JSON malformado: ${(err as Error).message}`);
    }
    const parsed = parseWhatsAppWebhook(json);
    if (!parsed.ok) {
      throw badRequest('O payload não segue o formato de webhook do WhatsApp.', parsed.issues.map((i) => ({ path: `body${i.path ? `.${i.path}` : ''}`, message: i.message })));
    }

    const routes = await channelRoutes(deps, parsed.batches.map((b) => b.phoneNumberId));
    // Everything is recorded first, then delivered: a guest's messages keep their payload order
    // even when Meta splits them over several changes.
    const planned: Planned['messages'] = [];
    for (const batch of parsed.batches) {
      const route = routes.get(batch.phoneNumberId);
      if (!route) {
        ctx.state.log.warn({ phoneNumberId: batch.phoneNumberId, wabaId: batch.wabaId }, 'webhook for an unknown phone number id acknowledged and dropped');
        continue;
      }
      if (route.metaAppId !== app.metaAppId) {
        ctx.state.log.warn({ phoneNumberId: batch.phoneNumberId }, 'webhook signed by an app the number is not connected to; dropped');
        continue;
      }
      if (route.tenantStatus !== 'active') {
        ctx.state.log.warn({ tenantId: route.tenantId, status: route.tenantStatus }, 'webhook for an inactive tenant; dropped');
        continue;
      }
      const plan = await recordBatch(deps, route, batch);
      planned.push(...plan.messages);
      void emitStatuses(deps, route.tenantId, plan.statuses);
    }
    try {
      await deliver(deps, planned, ctx.state.log);
    } catch (err) {
      ctx.state.log.warn({ err }, 'Temporal did not accept every message; Meta will redeliver');
      throw serviceUnavailable('Não foi possível registrar todas as mensagens agora; reenvie.');
    }
    const accepted = planned.length;
    ctx.status = 200;
    ctx.type = 'text/plain';
    ctx.body = accepted ? `EVENT_RECEIVED ${accepted}` : 'EVENT_RECEIVED';
  };

  router.get('/', verify);
  router.get('/:appId', verify);
  router.post('/', receive);
  router.post('/:appId', receive);
  return router;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
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

// One transaction per number: contacts resolved, messages already stored filtered out, statuses
// recorded (once per message and status) and applied monotonically.
async function recordBatch(deps: ApiDeps, route: ChannelRoute, batch: WebhookBatch): Promise<Planned> {
  return withTenant(deps.knex, route.tenantId, async (trx) => {
    const wamids = batch.messages.map((m) => m.wamid);
    const stored = wamids.length
      ? new Set((await trx('messages').whereIn('wamid', wamids).pluck('wamid')) as string[])
      : new Set<string>();
    const contacts = new Map<string, string>();
    const messages: Planned['messages'] = [];
    for (const message of batch.messages) {
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

// Messages of one contact go in order; different contacts in parallel. Every signal settles
// before this returns, so a refusal is reported once, as a whole.
async function deliver(deps: ApiDeps, messages: Planned['messages'], log: ApiDeps['log']): Promise<void> {
  const byWorkflow = new Map<string, Planned['messages']>();
  for (const m of messages) {
    const id = conversationWorkflowId(m.route.tenantId, m.contactId);
    byWorkflow.set(id, [...(byWorkflow.get(id) ?? []), m]);
  }
  const { client } = deps.temporal;
  const results = await Promise.allSettled(
    [...byWorkflow].map(async ([workflowId, list]) => {
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
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
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
