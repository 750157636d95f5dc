import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AiSettingsRow, FaqEntry } from '../../db/models';
import { checkOutboundUrl, outboundPolicyFromConfig } from '../../infra/guarded-fetch';
import { OUTBOUND_REFUSAL_DETAIL, splitList } from '../../infra/outbound-guard';
import { badRequest } from '../problem';
import { route } from '../route';

// What the virtual assistant knows and which model it uses. The FAQ is the only knowledge the
// AI (and the rule-based fallback) answers from.

const faqEntry = z
  .object({
    question: z.string().trim().min(3).max(500),
    answer: z.string().trim().min(1).max(2000),
    keywords: z.array(z.string().trim().min(2).max(60)).max(20).default([]),
  })
  .strict();

export const getFaq = route({
  method: 'get',
  path: '/assistant/faq',
  summary: 'The tenant’s FAQ, in order',
  tags: ['assistant'],
  access: { roles: ['TENANT_ADMIN', 'MANAGER'] },
  responses: { 200: { description: 'FAQ entries', schema: z.object({ items: z.array(faqEntry.extend({ id: z.uuid() })) }) } },
  async handler({ db }) {
    const rows = await FaqEntry.query(db).orderBy('position');
    return { body: { items: rows.map((r) => ({ id: r.id, question: r.question, answer: r.answer, keywords: r.keywords })) } };
  },
});

export const putFaq = route({
  method: 'put',
  path: '/assistant/faq',
  summary: 'Replace the FAQ (the whole list, in order)',
  tags: ['assistant'],
  access: { roles: ['TENANT_ADMIN', 'MANAGER'] },
  body: z.object({ items: z.array(faqEntry).max(200) }).strict(),
  responses: { 200: { description: 'Saved', schema: z.object({ count: z.number().int() }) } },
  async handler({ body, db, principal, audit }) {
    await FaqEntry.query(db).delete();
    if (body.items.length) {
      await db('faq_entries').insert(body.items.map((e, position) => ({ id: randomUUID(), tenantId: principal.tenantId, position, ...e })));
    }
    await audit({ action: 'faq.replaced', entityType: 'faq', entityId: principal.tenantId, details: { count: body.items.length } });
    return { body: { count: body.items.length } };
  },
});

const aiView = z.object({ enabled: z.boolean(), model: z.string().nullable(), baseUrl: z.string().nullable(), systemPrompt: z.string().nullable(), hasApiKey: z.boolean() });

export const getAiSettings = route({
  method: 'get',
  path: '/assistant/ai',
  summary: 'The tenant’s AI settings (the key itself is never shown)',
  tags: ['assistant'],
  access: { roles: ['TENANT_ADMIN'] },
  responses: { 200: { description: 'AI settings', schema: aiView } },
  async handler({ db, tenantId }) {
    const s = await AiSettingsRow.query(db).findById(tenantId);
    return { body: { enabled: s?.enabled ?? true, model: s?.model ?? null, baseUrl: s?.baseUrl ?? null, systemPrompt: s?.systemPrompt ?? null, hasApiKey: Boolean(s?.apiKeySealed) } };
  },
});

export const putAiSettings = route({
  method: 'put',
  path: '/assistant/ai',
  summary: 'Set the tenant’s own model, endpoint, key and instructions; enabled=false keeps only the rule-based triage',
  tags: ['assistant'],
  access: { roles: ['TENANT_ADMIN'] },
  body: z
    .object({
      enabled: z.boolean(),
      model: z.string().trim().min(1).max(100).nullable().optional(),
      baseUrl: z.url({ protocol: /^https?$/ }).max(500).nullable().optional(),
      // Write-only: null removes it, absent keeps it.
      apiKey: z.string().min(10).max(500).nullable().optional(),
      systemPrompt: z.string().trim().max(4000).nullable().optional(),
    })
    .strict(),
  responses: { 200: { description: 'Saved', schema: aiView }, 400: { description: 'Invalid, an internal or unresolvable base URL, or a model the platform’s key does not serve' } },
  async handler({ body, db, deps, audit, tenantId }) {
    // The worker calls this URL from inside our network: internal addresses are refused now, and
    // again at every call.
    if (body.baseUrl) {
      const check = await checkOutboundUrl(body.baseUrl, outboundPolicyFromConfig(deps.config));
      if (!check.ok) {
        const detail = OUTBOUND_REFUSAL_DETAIL[check.reason];
        throw badRequest(detail, [{ path: 'body.baseUrl', message: detail, code: `outbound_${check.reason}` }]);
      }
    }
    const current = await AiSettingsRow.query(db).findById(tenantId);
    const next = {
      tenantId,
      enabled: body.enabled,
      model: body.model === undefined ? (current?.model ?? null) : body.model,
      baseUrl: body.baseUrl === undefined ? (current?.baseUrl ?? null) : body.baseUrl,
      systemPrompt: body.systemPrompt === undefined ? (current?.systemPrompt ?? null) : body.systemPrompt,
      apiKeySealed: body.apiKey === undefined ? (current?.apiKeySealed ?? null) : body.apiKey === null ? null : deps.secrets.seal(body.apiKey),
      updatedAt: new Date(),
    };
    // Without its own key the tenant runs on the platform's, which serves only the allowed models.
    // (activities/ai.ts applies the same rule at every call.)
    const platformModels = [...new Set([deps.config.OPENAI_MODEL, ...splitList(deps.config.OPENAI_ALLOWED_MODELS)])];
    if (body.model && !next.apiKeySealed && deps.config.OPENAI_API_KEY && !platformModels.includes(body.model)) {
      const detail = `O modelo ${body.model} só pode ser usado com a chave de API da sua empresa. Com a chave da plataforma, use um destes: ${platformModels.join(', ')}.`;
      throw badRequest(detail, [{ path: 'body.model', message: detail, code: 'model_not_allowed' }]);
    }
    await db('ai_settings').insert(next).onConflict('tenantId').merge();
    await audit({ action: 'ai_settings.set', entityType: 'ai_settings', entityId: tenantId, details: { enabled: next.enabled, model: next.model, baseUrl: next.baseUrl, apiKeyChanged: body.apiKey !== undefined } });
    return { body: { enabled: next.enabled, model: next.model, baseUrl: next.baseUrl, systemPrompt: next.systemPrompt, hasApiKey: Boolean(next.apiKeySealed) } };
  },
});

export const assistantRoutes = [getFaq, putFaq, getAiSettings, putAiSettings];
