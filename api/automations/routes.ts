import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AutomationEndpoint } from '../../db/models';
import { AUTOMATION_EVENTS } from '../../domain/automation-events';
import { checkOutboundUrl, outboundPolicyFromConfig } from '../../infra/guarded-fetch';
import { OUTBOUND_REFUSAL_DETAIL } from '../../infra/outbound-guard';
import { replyUpdate } from '../../workflows/conversation';
import { updateContactConversation } from '../conversations/conversation-calls';
import { replyBody, replyResultView } from '../conversations/schema';
import { badRequest, notFound } from '../problem';
import { route } from '../route';

// The hotel-bot seed's n8n routes. Automations act on conversations through the conversation
// routes with an API key (read, reply, escalate, resolve); these add sending by phone number and
// the endpoint where Orquestra posts signed events back.

const endpointView = z.object({
  url: z.url(),
  events: z.array(z.enum(AUTOMATION_EVENTS)),
  active: z.boolean(),
  updatedAt: z.iso.datetime(),
  // Shown once, when Orquestra generated it.
  secret: z.string().optional(),
});

export const sendByPhone = route({
  method: 'post',
  path: '/automations/messages',
  summary: 'Send to a guest by WhatsApp id (text needs the 24-hour window; templates always go); the conversation is started if none is open',
  tags: ['automations'],
  access: { roles: ['TENANT_ADMIN'], scopes: ['messages:send'] },
  idempotencyKey: true,
  body: z.object({ to: z.string().regex(/^\d{8,20}$/, 'wa_id: digits only'), message: replyBody }).strict(),
  responses: { 200: { description: 'Accepted by Meta or failed with a reason', schema: replyResultView }, 409: { description: 'Outside the 24-hour window for free text' }, 503: { description: 'Temporal unavailable; retry' } },
  async handler({ body, deps, tenantId, actor, idempotencyKey }) {
    const result = await updateContactConversation(
      deps, tenantId, { waId: body.to }, replyUpdate,
      [{ actor, content: body.message, source: 'automation' }],
      idempotencyKey,
    );
    return { body: result };
  },
});

export const getAutomationEndpoint = route({
  method: 'get',
  path: '/automation-endpoint',
  summary: 'Where the tenant’s automation events are posted',
  tags: ['automations'],
  access: { roles: ['TENANT_ADMIN'] },
  responses: { 200: { description: 'The endpoint', schema: endpointView }, 404: { description: 'None configured' } },
  async handler({ db, tenantId }) {
    const row = await AutomationEndpoint.query(db).findById(tenantId);
    if (!row) throw notFound('Nenhum endpoint de automação configurado.');
    return { body: { url: row.url, events: row.events as (typeof AUTOMATION_EVENTS)[number][], active: row.active, updatedAt: row.updatedAt.toISOString() } };
  },
});

export const putAutomationEndpoint = route({
  method: 'put',
  path: '/automation-endpoint',
  summary: 'Set the URL that receives signed events (X-Orquestra-Signature-256: sha256=HMAC of the body)',
  tags: ['automations'],
  access: { roles: ['TENANT_ADMIN'] },
  body: z
    .object({
      url: z.url({ protocol: /^https?$/ }).max(2000),
      events: z.array(z.enum(AUTOMATION_EVENTS)).min(1),
      active: z.boolean().default(true),
      secret: z.string().min(16).max(200).optional(),
    })
    .strict(),
  responses: { 200: { description: 'Saved', schema: endpointView }, 400: { description: 'Invalid, or an internal address (loopback, private, link-local…), or a host name that does not resolve' } },
  async handler({ body, db, deps, audit, tenantId }) {
    // The worker posts to this URL from inside our network: internal addresses are refused now,
    // and again when each event is posted (the name may resolve elsewhere by then).
    const check = await checkOutboundUrl(body.url, outboundPolicyFromConfig(deps.config));
    if (!check.ok) {
      const detail = OUTBOUND_REFUSAL_DETAIL[check.reason];
      throw badRequest(detail, [{ path: 'body.url', message: detail, code: `outbound_${check.reason}` }]);
    }
    const secret = body.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
    const row = { tenantId, url: body.url, events: [...new Set(body.events)], active: body.active, secretSealed: deps.secrets.seal(secret), updatedAt: new Date() };
    await db('automation_endpoints').insert(row).onConflict('tenantId').merge();
    await audit({ action: 'automation_endpoint.set', entityType: 'automation_endpoint', entityId: tenantId, details: { url: body.url, events: row.events, active: body.active } });
    return { body: { url: row.url, events: row.events, active: row.active, updatedAt: row.updatedAt.toISOString(), ...(body.secret ? {} : { secret }) } };
  },
});

export const automationRoutes = [sendByPhone, getAutomationEndpoint, putAutomationEndpoint];
