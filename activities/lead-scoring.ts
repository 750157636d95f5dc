import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { z } from 'zod';
import { currentConsent } from '../db/consent';
import { Contact, Lead, LeadEvent } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { isWithinBusinessHours } from '../domain/calendar';
import { heuristicLeadScore, LEAD_SCORE_JSON_SCHEMA, leadTemperature, type LeadScoreInput } from '../domain/lead-score';
import type { LeadTemperature } from '../domain/sales-statuses';
import { DEFAULT_TENANT_SETTINGS } from '../domain/tenant-settings';
import type { ActivityDeps } from './deps';

// Scoring a lead: the AI when a key is configured (a JSON-schema structured answer, reasons in
// pt-BR), else — or when the AI fails or answers out of shape — the transparent heuristic of
// domain/lead-score.ts. Either way the score, its temperature and its reasons go on the lead and
// its timeline. Deliberately never fails on the AI: a lead without a score is worse than one with
// the heuristic's.

export interface ScoreLeadResult {
  score: number;
  temperature: LeadTemperature;
  reasons: string[];
  source: 'openai' | 'heuristic';
}

const aiScoreSchema = z.object({ score: z.number().int().min(0).max(100), reasons: z.array(z.string().min(1).max(300)).min(1).max(6) });

export function leadScoringActivities(deps: Pick<ActivityDeps, 'knex' | 'ai'>) {
  const clients = new Map<string, OpenAI>();
  const clientFor = (apiKey: string, baseURL: string | undefined) => {
    const key = `${baseURL ?? ''}|${apiKey}`;
    let c = clients.get(key);
    if (!c) {
      c = new OpenAI({ apiKey, baseURL, timeout: deps.ai?.timeoutMs ?? 20_000, maxRetries: 0 });
      if (clients.size > 20) clients.clear();
      clients.set(key, c);
    }
    return c;
  };

  async function askAi(input: LeadScoreInput & { interest: string }): Promise<{ score: number; reasons: string[] } | null> {
    const ai = deps.ai;
    if (!ai?.apiKey) return null;
    try {
      const completion = await clientFor(ai.apiKey, ai.baseUrl).chat.completions.create({
        model: ai.model,
        messages: [
          {
            role: 'system',
            content:
              'Você avalia leads de vendas de 0 a 100 (chance de compra em breve). Responda só com JSON: score e de 1 a 6 motivos curtos em português do Brasil, um por fato que pesou.',
          },
          { role: 'user', content: JSON.stringify(input) },
        ],
        response_format: { type: 'json_schema', json_schema: LEAD_SCORE_JSON_SCHEMA as unknown as OpenAI.ResponseFormatJSONSchema['json_schema'] },
      });
      const content = completion.choices?.[0]?.message?.content;
      if (!content) return null;
      const parsed = aiScoreSchema.safeParse(JSON.parse(content));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  return {
    async scoreLead({ tenantId, leadId }: { tenantId: string; leadId: string }): Promise<ScoreLeadResult> {
      const facts = await withTenant(deps.knex, tenantId, async (trx) => {
        const lead = await Lead.query(trx).findById(leadId).throwIfNotFound();
        const contact = await Contact.query(trx).findById(lead.contactId);
        const email = (contact as (Contact & { email?: string | null }) | undefined)?.email ?? null;
        const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
        const consent = await currentConsent(trx, tenantId, lead.contactId, 'marketing');
        const input: LeadScoreInput = {
          source: lead.source,
          hasOffering: lead.offeringId !== null,
          interest: lead.interest,
          hasEmail: Boolean(email),
          marketingConsent: consent.granted,
          arrivedInBusinessHours: isWithinBusinessHours(settings, lead.createdAt),
        };
        return { input, settings };
      });
      const fromAi = await askAi(facts.input);
      const scored = fromAi ?? heuristicLeadScore(facts.input);
      const source = fromAi ? 'openai' : 'heuristic';
      const temperature = leadTemperature(scored.score, facts.settings.sales.hotLeadScore);
      await withTenant(deps.knex, tenantId, async (trx) => {
        await Lead.query(trx).findById(leadId).patch({ score: scored.score, temperature, scoreReasons: scored.reasons, updatedAt: new Date() });
        await LeadEvent.query(trx).insert({
          id: randomUUID(),
          tenantId,
          leadId,
          type: 'scored',
          data: { score: scored.score, temperature, reasons: scored.reasons, source },
          actorType: 'system',
          actorId: null,
          occurredAt: new Date(),
        });
      });
      return { score: scored.score, temperature, reasons: scored.reasons, source };
    },
  };
}
