import { AiSettingsRow, FaqEntry, Tenant } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { aiDecisions, type DecideReplyResult, type TranscriptTurn } from './ai';
import type { ActivityDeps } from './deps';

// The conversation's question to the AI, with the tenant's own FAQ, name and AI settings read in
// the tenant's scope: row-level security guarantees nothing of another tenant reaches the prompt.
// What decideReplyUnlessTenantEndpoint answers for a tenant with its own AI endpoint: the
// workflow then asks decideReplyAtTenantEndpoint on the tenant-endpoint queue
// (activities/tenant-endpoints.ts), since a local activity runs in the worker's own slots.
export interface AtTenantEndpoint {
  atTenantEndpoint: true;
}

interface TriageInput {
  tenantId: string;
  transcript: TranscriptTurn[];
  latestText: string;
}

export function triageActivities(deps: ActivityDeps) {
  const { knex, secrets } = deps;
  const config = deps.ai ?? { model: 'gpt-4o-mini', timeoutMs: 20_000 };
  const ai = aiDecisions({ ai: config });
  const rulesOnly = aiDecisions({ ai: { ...config, apiKey: undefined } });
  const contextOf = (tenantId: string) =>
    withTenant(knex, tenantId, async (trx) => ({
      tenant: await Tenant.query(trx).findById(tenantId).throwIfNotFound(),
      faq: await FaqEntry.query(trx).orderBy('position'),
      settings: await AiSettingsRow.query(trx).findById(tenantId),
    }));
  // As aiDecisions decides: a tenant's URL is used only with the tenant's own key.
  const atTenantEndpoint = (s: AiSettingsRow | undefined) => Boolean(s?.enabled && s.apiKeySealed && s.baseUrl?.trim());
  return {
    async decideReply(a: TriageInput): Promise<DecideReplyResult> {
      return decide(await contextOf(a.tenantId), a);
    },
    async decideReplyUnlessTenantEndpoint(a: TriageInput): Promise<DecideReplyResult | AtTenantEndpoint> {
      const context = await contextOf(a.tenantId);
      return atTenantEndpoint(context.settings) ? { atTenantEndpoint: true } : decide(context, a);
    },
    async decideReplyAtTenantEndpoint(a: TriageInput): Promise<DecideReplyResult> {
      return decide(await contextOf(a.tenantId), a);
    },
  };

  function decide(context: Awaited<ReturnType<typeof contextOf>>, a: TriageInput): Promise<DecideReplyResult> {
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
  }
}
