import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AiSettingsRow, FaqEntry } from '../../db/models';
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
  responses: { 200: { description: 'Saved', schema: aiView } },
  async handler({ body, db, deps, audit, tenantId }) {
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
    await db('ai_settings').insert(next).onConflict('tenantId').merge();
    await audit({ action: 'ai_settings.set', entityType: 'ai_settings', entityId: tenantId, details: { enabled: next.enabled, model: next.model, baseUrl: next.baseUrl, apiKeyChanged: body.apiKey !== undefined } });
    return { body: { enabled: next.enabled, model: next.model, baseUrl: next.baseUrl, systemPrompt: next.systemPrompt, hasApiKey: Boolean(next.apiKeySealed) } };
  },
});

export const assistantRoutes = [getFaq, putFaq, getAiSettings, putAiSettings];
