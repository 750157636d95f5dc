import { AiSettingsRow, FaqEntry, Tenant } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { aiDecisions, type DecideReplyResult, type TranscriptTurn } from './ai';
import type { ActivityDeps } from './deps';

// The conversation's question to the AI, with the tenant's own FAQ, name and AI settings read in
// the tenant's scope: row-level security guarantees nothing of another tenant reaches the prompt.
export function triageActivities(deps: ActivityDeps) {
  const { knex, secrets } = deps;
  const config = deps.ai ?? { model: 'gpt-4o-mini', timeoutMs: 20_000 };
  const ai = aiDecisions({ ai: config });
  const rulesOnly = aiDecisions({ ai: { ...config, apiKey: undefined } });
  return {
    async decideReply(a: { tenantId: string; transcript: TranscriptTurn[]; latestText: string }): Promise<DecideReplyResult> {
      const context = await withTenant(knex, a.tenantId, async (trx) => ({
        tenant: await Tenant.query(trx).findById(a.tenantId).throwIfNotFound(),
        faq: await FaqEntry.query(trx).orderBy('position'),
        settings: await AiSettingsRow.query(trx).findById(a.tenantId),
      }));
      const s = context.settings;
      // A tenant that switched the AI off gets the rule-based triage.
      return (s && !s.enabled ? rulesOnly : ai).decide({
        tenantId: a.tenantId,
        businessName: context.tenant.name,
        faq: context.faq.map((f) => ({ question: f.question, answer: f.answer, keywords: f.keywords })),
        transcript: a.transcript,
        latestText: a.latestText,
        tenantAi:
          s && s.enabled
            ? {
                apiKey: s.apiKeySealed ? secrets.open(s.apiKeySealed) : undefined,
                model: s.model ?? undefined,
                baseUrl: s.baseUrl ?? undefined,
                systemPrompt: s.systemPrompt ?? undefined,
              }
            : undefined,
      });
    },
  };
}
