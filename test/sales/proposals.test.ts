import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { startStack, type TestStack } from '../support/stack';
import { until, type WhatsAppTenant } from '../support/whatsapp';
import { contactWithLead, linkFor, sentTemplates, signingTenant, untilStatus } from './signing-support';

// Proposals from draft to contract: totals in centavos, the customer's link over WhatsApp,
// acceptance by the customer or by staff making one contract, expiry, and templates.

const tokenOf = (url: string) => /\/api\/public\/proposals\/([A-Za-z0-9_-]{43})$/.exec(url)?.[1] as string;

function pdfText(pdf: Buffer): string {
  let out = '';
  for (const m of pdf.toString('latin1').matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(m[1] as string, 'latin1')).toString('latin1');
    } catch {
      continue;
    }
    for (const h of content.matchAll(/<([0-9A-Fa-f]+)>\s*Tj/g)) out += Buffer.from(h[1] as string, 'hex').toString('latin1') + '\n';
  }
  return out;
}

describe('proposals', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  const tomorrow = () => new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);

  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0' } });
    t = await signingTenant(stack);
  });
  after(async () => stack.stop());

  const draft = async (leadId: string, body: Record<string, unknown> = {}) => {
    const res = await stack.api.post(`/api/leads/${leadId}/proposals`, {
      token: t.admin.token,
      body: { items: [{ description: 'Apartamento 101', quantity: 1, unitPriceCents: 50_000_000, discountCents: 1_000_000 }, { description: 'Vaga de garagem', quantity: 2, unitPriceCents: 2_000_000 }], discountCents: 500_000, validUntil: tomorrow(), ...body },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };

  it('drafts with totals in centavos, refuses a past validity, sends with a link; the customer accepts and the contract follows', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('leads').where({ id: ana.leadId }).update({ stage: 'qualified' }));
    const p = await draft(ana.leadId);
    assert.deepEqual(p.items.map((i: { totalCents: number }) => i.totalCents), [49_000_000, 4_000_000]);
    assert.equal(p.subtotalCents, 53_000_000);
    assert.equal(p.discountCents, 500_000);
    assert.equal(p.totalCents, 52_500_000);
    assert.equal(p.status, 'draft');

    const past = await stack.api.post(`/api/leads/${ana.leadId}/proposals`, { token: t.admin.token, body: { items: [{ description: 'x', quantity: 1, unitPriceCents: 1 }], validUntil: '2020-01-01' } });
    assert.equal(past.status, 400);
    assert.equal(past.body.errors[0].path, 'body.validUntil');

    const sent = await stack.api.post(`/api/proposals/${p.id}/send`, { token: t.admin.token });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.status, 'sent');
    const msg = await until('proposal message', async () => sentTemplates(stack, ana.waId, 'proposta_comercial')[0]);
    const params = (msg.body.template as { components: { parameters: { text: string }[] }[] }).components[0]?.parameters.map((x) => x.text) ?? [];
    assert.equal(params[2], 'R$ 525.000,00');
    const token = tokenOf(params[3] as string);
    assert.ok(token, `a link in ${params[3]}`);
    const lead = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('leads').where({ id: ana.leadId }).first());
    assert.equal(lead.stage, 'proposal');

    const view = await stack.api.get(`/api/public/proposals/${token}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.totalCents, 52_500_000);
    assert.equal((await stack.api.get(`/api/public/proposals/${'B'.repeat(43)}`)).status, 404);

    const accepted = await stack.api.post(`/api/public/proposals/${token}/accept`, { headers: { 'user-agent': 'Celular da Ana' } });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const row = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('proposals').where({ id: p.id }).first());
    assert.equal(row.status, 'accepted');
    assert.equal(row.decidedByType, 'customer');
    assert.equal(row.decisionEvidence.userAgent, 'Celular da Ana');
    assert.ok(row.decisionEvidence.ip);

    // One contract, whatever the retries; its signing link goes to the contact.
    const again = await stack.api.post(`/api/proposals/${p.id}/accept`, { token: t.admin.token, body: { signingOrder: 'sequential' } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const contracts = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contracts').where({ proposalId: p.id }));
    assert.equal(contracts.length, 1);
    assert.equal(again.body.contractId, contracts[0].id);
    assert.equal(Number(contracts[0].totalCents), 52_500_000);
    await linkFor(stack, ana.waId);
    const rejectLate = await stack.api.post(`/api/proposals/${p.id}/reject`, { token: t.admin.token, body: { reason: 'tarde' } });
    assert.equal(rejectLate.status, 409);

    const listed = await stack.api.get(`/api/proposals?leadId=${ana.leadId}&status=accepted`, { token: t.admin.token });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.items.map((x: { id: string; contractId: string }) => [x.id, x.contractId]), [[p.id, contracts[0].id]]);
  });

  it('staff reject with a reason; the customer rejects through the link', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    const p1 = await draft(ana.leadId);
    const rejected = await stack.api.post(`/api/proposals/${p1.id}/reject`, { token: t.admin.token, body: { reason: 'Cliente achou caro' } });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.equal(rejected.body.proposal.decisionReason, 'Cliente achou caro');
    assert.equal((await stack.api.post(`/api/proposals/${p1.id}/send`, { token: t.admin.token })).status, 409);

    const bia = await contactWithLead(stack, t.tenantId, 'Bia');
    const p2 = await draft(bia.leadId);
    await stack.api.post(`/api/proposals/${p2.id}/send`, { token: t.admin.token });
    const msg = await until('proposal message', async () => sentTemplates(stack, bia.waId, 'proposta_comercial')[0]);
    const url = (msg.body.template as { components: { parameters: { text: string }[] }[] }).components[0]?.parameters[3]?.text as string;
    const r = await stack.api.post(`/api/public/proposals/${tokenOf(url)}/reject`, { body: { reason: 'Vou pensar' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const row = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('proposals').where({ id: p2.id }).first());
    assert.equal(row.status, 'rejected');
    assert.equal(row.decisionReason, 'Vou pensar');
    assert.equal((await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contracts').where({ proposalId: p2.id }))).length, 0);
  });

  it('past its validity: the link answers 410 and staff cannot accept it', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    const p = await draft(ana.leadId);
    await stack.api.post(`/api/proposals/${p.id}/send`, { token: t.admin.token });
    const msg = await until('proposal message', async () => sentTemplates(stack, ana.waId, 'proposta_comercial')[0]);
    const url = (msg.body.template as { components: { parameters: { text: string }[] }[] }).components[0]?.parameters[3]?.text as string;
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('proposals').where({ id: p.id }).update({ validUntil: '2020-01-31' }));
    const gone = await stack.api.get(`/api/public/proposals/${tokenOf(url)}`);
    assert.equal(gone.status, 410);
    assert.match(gone.body.detail, /venceu em 31\/01\/2020/);
    assert.equal((await stack.api.post(`/api/public/proposals/${tokenOf(url)}/accept`)).status, 410);
    assert.equal((await stack.api.post(`/api/proposals/${p.id}/accept`, { token: t.admin.token, body: { signingOrder: 'parallel' } })).status, 410);
  });

  it('templates: unknown placeholders refused by name; the default one renders the contract', async () => {
    const bad = await stack.api.post('/api/contract-templates', { token: t.admin.token, body: { name: 'Ruim', title: 'Contrato', body: 'Olá {{contato.nome}} e {{contact.name}}' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /\{\{contato\.nome\}\}/);
    assert.equal(bad.body.errors[0].path, 'body.body');

    const created = await stack.api.post('/api/contract-templates', {
      token: t.admin.token,
      body: { name: 'Compra e venda', title: 'Compra e venda nº {{contract.number}}', body: 'Comprador: {{contact.name}}.\n\nItens:\n{{proposal.items}}\n\nTotal: {{proposal.total}}.', isDefault: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const patched = await stack.api.patch(`/api/contract-templates/${created.body.id}`, { token: t.admin.token, body: { body: `${created.body.body}\n\nFirmado em {{date}}.` } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.version, 2);
    assert.equal((await stack.api.patch(`/api/contract-templates/${created.body.id}`, { token: t.admin.token, body: { title: '{{nada}}' } })).status, 400);

    const ana = await contactWithLead(stack, t.tenantId, 'Ana Template');
    const p = await draft(ana.leadId);
    const accepted = await stack.api.post(`/api/proposals/${p.id}/accept`, { token: t.admin.token, body: { signingOrder: 'sequential' } });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const contractId = accepted.body.contractId as string;
    await linkFor(stack, ana.waId);
    const contract = await untilStatus(stack, t.tenantId, contractId, 'signing');
    assert.match(contract.title, /^Compra e venda nº \d+$/);
    const res = await fetch(`${stack.baseUrl}/api/contracts/${contractId}/document`, { headers: { authorization: `Bearer ${t.admin.token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    const text = pdfText(Buffer.from(await res.arrayBuffer()));
    assert.match(text, /Comprador: Ana Template\./);
    assert.match(text, /Total: R\$ 525\.000,00\./);
    assert.match(text, /Apartamento 101/);

    const list = await stack.api.get('/api/contract-templates', { token: t.admin.token });
    assert.equal(list.body.items[0].id, created.body.id);
    assert.equal((await stack.api.delete(`/api/contract-templates/${created.body.id}`, { token: t.admin.token })).status, 204);
    assert.equal((await stack.api.get(`/api/contract-templates/${created.body.id}`, { token: t.admin.token })).status, 404);
  });
});
