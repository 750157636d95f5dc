import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { withTenant } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';

const DEFAULT_SALES_SETTINGS = DEFAULT_TENANT_SETTINGS.sales;
import type { SentMessage } from '../../scripts/sandbox/graph-api';
import type { TestStack } from '../support/stack';
import { guestPhone, setTenantSettings, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// What the signing tests share: a tenant with fast signing clocks, a contact and a lead, the
// links and codes as the sandbox "delivered" them over WhatsApp.

export type SigningSettings = Partial<(typeof DEFAULT_SALES_SETTINGS)['signing']>;

export async function signingTenant(stack: TestStack, signing: SigningSettings = {}): Promise<WhatsAppTenant> {
  const t = await whatsappTenant(stack);
  await setTenantSettings(stack, t.tenantId, { sales: { ...DEFAULT_SALES_SETTINGS, signing: { ...DEFAULT_SALES_SETTINGS.signing, ...signing } } });
  return t;
}

export async function contactWithLead(stack: TestStack, tenantId: string, name = 'Ana Compradora') {
  const waId = guestPhone();
  const contactId = randomUUID();
  const leadId = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    await trx('contacts').insert({ id: contactId, tenantId, waId, name });
    await trx('leads').insert({
      id: leadId, tenantId, contactId, interest: 'Apartamento', interestKey: `apto-${leadId}`, source: 'staff', stage: 'proposal', workflowId: `lead:${tenantId}:${leadId}`,
    });
  });
  return { waId, contactId, leadId, name };
}

const templateParams = (m: SentMessage): string[] => {
  const t = m.body.template as { components?: { type: string; parameters: { text: string }[] }[] };
  return t.components?.find((c) => c.type === 'body')?.parameters.map((p) => p.text) ?? [];
};

const tokenFromUrl = (url: string) => {
  const m = /\/sign\/([A-Za-z0-9_-]{43})$/.exec(url);
  assert.ok(m, `no signing link in ${url}`);
  return m[1] as string;
};

export const sentTemplates = (stack: TestStack, waId: string, name: string) => stack.graph.sentTo(waId).filter((m) => m.templateName === name);

// The n-th (1-based) signing link or reminder a signer received, as a token.
export async function linkFor(stack: TestStack, waId: string, template = 'contrato_assinatura', nth = 1): Promise<string> {
  const m = await until(`${template} #${nth} to ${waId}`, async () => sentTemplates(stack, waId, template)[nth - 1], 20_000);
  return tokenFromUrl(templateParams(m).at(-1) as string);
}

export async function codeFor(stack: TestStack, waId: string, nth = 1): Promise<string> {
  const m = await until(`code #${nth} to ${waId}`, async () => sentTemplates(stack, waId, 'codigo_verificacao')[nth - 1], 20_000);
  const code = templateParams(m)[0] as string;
  assert.match(code, /^\d{6}$/);
  return code;
}

export const sha256 = (b: Buffer | Uint8Array | string) => createHash('sha256').update(b).digest('hex');

// Reads the document (recording the view) and signs it with the code from WhatsApp.
export async function signAs(stack: TestStack, waId: string, token: string) {
  const doc = await stack.api.get(`/api/public/signing/${token}/document`, { headers: { 'user-agent': `Navegador de ${waId}` } });
  assert.equal(doc.status, 200, JSON.stringify(doc.body));
  const pdf = Buffer.from(await (await fetch(`${stack.baseUrl}/api/public/signing/${token}/document`)).arrayBuffer());
  const sent = await stack.api.post(`/api/public/signing/${token}/code`);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const before = sentTemplates(stack, waId, 'codigo_verificacao').length;
  const code = await codeFor(stack, waId, Math.max(1, before));
  const signed = await stack.api.post(`/api/public/signing/${token}/sign`, {
    body: { code, documentSha256: sha256(pdf), accept: true },
    headers: { 'user-agent': `Navegador de ${waId}` },
  });
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  return { pdf, code };
}

export async function contractRow(stack: TestStack, tenantId: string, contractId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('contracts').where({ id: contractId }).first());
}

export async function untilStatus(stack: TestStack, tenantId: string, contractId: string, status: string, timeoutMs = 30_000) {
  return until(`contract ${status}`, async () => {
    const c = await contractRow(stack, tenantId, contractId);
    return c?.status === status && c;
  }, timeoutMs);
}
