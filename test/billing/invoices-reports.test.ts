import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createInvoice } from '../../db/invoices';
import { withTenant } from '../../db/tenant-scope';
import { todayIn } from '../../domain/contract-template';
import { addCalendarDays, amountDue } from '../../domain/late-charges';
import { dunningWorkflowId } from '../../workflows/dunning';
import { addApiKey, provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

// The invoices API (manual invoices with their dunning, the amount due on any date, the rule and
// the creditor, the printable page), the receivables reports and the owner payouts.

const today = () => todayIn('America/Sao_Paulo', new Date());

async function contact(stack: TestStack, tenantId: string, document: string | null = null) {
  const id = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => trx('contacts').insert({ id, tenantId, waId: `5511${Math.floor(900000000 + Math.random() * 99999999)}`, name: 'Carla <Cliente>', document }));
  return id;
}

describe('invoices API', () => {
  let stack: TestStack;
  let t: TenantFixture;
  before(async () => {
    stack = await startStack();
    t = await provisionTenant(stack, (await superAdmin(stack)).token);
    const settings = await stack.api.patch('/api/settings', {
      token: t.admin.token,
      body: { billing: { creditor: { legalName: 'Imobiliária Sol Ltda', taxId: '11222333000181', address: 'Rua das Flores, 100, São Paulo - SP' } } },
    });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
  });
  after(() => stack.stop());

  it('a manual invoice starts its dunning, shows what it owes today and on any date, the rule and the creditor', async () => {
    const contactId = await contact(stack, t.tenantId, '52998224725');
    const key = `inv-${randomUUID()}`;
    const dueDate = addCalendarDays(today(), 2);
    const body = { contactId, description: 'Taxa de vistoria <b>', amountCents: 100_00, dueDate };
    const created = await stack.api.post('/api/invoices', { token: t.admin.token, headers: { 'idempotency-key': key }, body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const inv = created.body;
    assert.equal(inv.origin, 'manual');
    assert.equal(inv.status, 'open');
    assert.equal(inv.finePercent, 2);
    assert.equal(inv.monthlyInterestPercent, 1);
    assert.equal(inv.billingType, 'UNDEFINED');
    assert.equal(inv.workflowId, dunningWorkflowId(t.tenantId, inv.id));
    assert.deepEqual(inv.amountDueToday, { principalCents: 100_00, fineCents: 0, interestCents: 0, totalCents: 100_00, daysLate: 0 });
    assert.match(inv.lateChargesRule, /multa de 2%/);
    assert.equal(inv.creditor.taxId, '11222333000181');
    assert.deepEqual(inv.payments, []);
    assert.equal(inv.charge, null);
    const run = await stack.deps.temporal.client.workflow.getHandle(inv.workflowId).describe();
    assert.equal(run.status.name, 'RUNNING');

    // The retry with the same key: the same invoice, nothing twice.
    const retried = await stack.api.post('/api/invoices', { token: t.admin.token, headers: { 'idempotency-key': key }, body });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.id, inv.id);
    assert.equal((await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('invoices').where({ contactId }))).length, 1);

    // 40 days after the due date: 2% fine + 1% a.m. pro rata die, as amountDue computes it.
    const on = addCalendarDays(dueDate, 40);
    const later = await stack.api.get(`/api/invoices/${inv.id}?on=${on}`, { token: t.admin.token });
    assert.equal(later.status, 200, JSON.stringify(later.body));
    const expected = amountDue({ amountCents: 100_00, dueDate, on, terms: { finePercent: 2, monthlyInterestPercent: 1 } });
    assert.deepEqual(later.body.amountDueOn, { on, ...expected });
    assert.equal(later.body.amountDueOn.fineCents, 2_00);
    assert.equal(later.body.amountDueOn.daysLate, 40);

    const bad = await stack.api.get(`/api/invoices/${inv.id}?on=2025-02-30`, { token: t.admin.token });
    assert.equal(bad.status, 400);

    // Its current charge at the gateway (written by the gateway's part) is shown with the invoice.
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('gatewayCharges').insert({
        id: randomUUID(), tenantId: t.tenantId, invoiceId: inv.id, provider: 'asaas', externalId: `pay_${randomUUID().slice(0, 8)}`, valueCents: 100_00, dueDate,
        invoiceUrl: 'https://sandbox.asaas.com/i/abc', boletoLine: '34191.79001 01043.510047 91020.150008 1 10010000010000', pixPayload: '00020126580014br.gov.bcb.pix0136abc5204000053039865406100.005802BR',
      }),
    );
    const withCharge = await stack.api.get(`/api/invoices/${inv.id}`, { token: t.admin.token });
    assert.equal(withCharge.body.charge.boletoLine, '34191.79001 01043.510047 91020.150008 1 10010000010000');
    assert.equal(withCharge.body.charge.invoiceUrl, 'https://sandbox.asaas.com/i/abc');
    assert.equal(withCharge.body.amountDueOn, null);

    const page = await stack.api.get(`/api/invoices/${inv.id}/document`, { token: t.admin.token });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.body, /Imobiliária Sol Ltda/);
    assert.match(page.body, /11\.222\.333\/0001-81/);
    assert.match(page.body, /Taxa de vistoria &lt;b&gt;/);
    assert.match(page.body, /Carla &lt;Cliente&gt;/);
    assert.match(page.body, /529\.982\.247-25/);
    assert.ok(!page.body.includes('<b>'), 'escaped');
    assert.match(page.body, /34191\.79001 01043\.510047/);
    assert.match(page.body, /br\.gov\.bcb\.pix/);
    assert.match(page.body, /Código Civil, art\. 354/);

    const listed = await stack.api.get(`/api/invoices?origin=manual&contactId=${contactId}&dueFrom=${dueDate}&dueTo=${dueDate}`, { token: t.admin.token });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.items.map((i: { id: string }) => i.id), [inv.id]);
    const none = await stack.api.get(`/api/invoices?status=paid&contactId=${contactId}`, { token: t.admin.token });
    assert.deepEqual(none.body.items, []);
  });

  it('refuses a due date in the past, a consumer fine above 2%, an unknown contact', async () => {
    const person = await contact(stack, t.tenantId);
    const base = { contactId: person, description: 'Taxa', amountCents: 10_00, dueDate: today() };
    const past = await stack.api.post('/api/invoices', { token: t.admin.token, body: { ...base, dueDate: addCalendarDays(today(), -1) } });
    assert.equal(past.status, 400);
    assert.equal(past.body.errors[0].path, 'body.dueDate');
    const fine = await stack.api.post('/api/invoices', { token: t.admin.token, body: { ...base, finePercent: 2.5 } });
    assert.equal(fine.status, 400);
    assert.equal(fine.body.errors[0].path, 'body.finePercent');
    const nobody = await stack.api.post('/api/invoices', { token: t.admin.token, body: { ...base, contactId: randomUUID() } });
    assert.equal(nobody.status, 404);
    assert.equal((await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('invoices').where({ contactId: person }))).length, 0);
  });

  it('is for billing roles only', async () => {
    const email = `att-${randomUUID()}@example.com.br`;
    const res = await stack.api.post('/api/users', { token: t.admin.token, body: { name: 'Atendente', email, role: 'ATTENDANT', password: 'senha-forte-123' } });
    assert.equal(res.status, 201);
    const login = await stack.api.post('/api/auth/login', { body: { email, password: 'senha-forte-123' } });
    const list = await stack.api.get('/api/invoices', { token: login.body.accessToken });
    assert.equal(list.status, 403);
    // Automations by scope: reading is not writing.
    const reader = await addApiKey(stack, t, ['invoices:read']);
    assert.equal((await stack.api.get('/api/invoices', { apiKey: reader.key })).status, 200);
    assert.equal((await stack.api.get('/api/billing/reports/aging', { apiKey: reader.key })).status, 200);
    const contactId = await contact(stack, t.tenantId);
    const body = { contactId, description: 'Taxa', amountCents: 10_00, dueDate: today() };
    assert.equal((await stack.api.post('/api/invoices', { apiKey: reader.key, body })).status, 403);
    const writer = await addApiKey(stack, t, ['invoices:write', 'subscriptions:write']);
    assert.equal((await stack.api.post('/api/invoices', { apiKey: writer.key, body })).status, 201);
    const sub = await stack.api.post('/api/subscriptions', { apiKey: writer.key, body: { contactId, description: 'Plano', amountCents: 10_00, cycle: 'MONTHLY', firstDueDate: addCalendarDays(today(), 40) } });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    assert.equal((await stack.api.post(`/api/subscriptions/${sub.body.id}/end`, { apiKey: writer.key, body: { reason: 'teste' } })).status, 200);
  });
});

describe('receivables reports and owner payouts', () => {
  let stack: TestStack;
  let t: TenantFixture;
  const on = '2025-06-30'; // a Monday
  before(async () => {
    stack = await startStack();
    t = await provisionTenant(stack, (await superAdmin(stack)).token);
  });
  after(() => stack.stop());

  async function invoice(trx: Parameters<typeof createInvoice>[0], contactId: string, dueDate: string, amountCents: number, status = 'open') {
    const row = await createInvoice(trx, { tenantId: t.tenantId, contactId, origin: 'manual', description: `Fatura ${dueDate}`, amountCents, dueDate, finePercent: 2, monthlyInterestPercent: 1, billingType: 'BOLETO' }, dunningWorkflowId);
    if (status !== 'open') await trx('invoices').where({ id: row.id }).update({ status });
    return row;
  }

  it('aging, delinquency, recovery by stage and payouts due, from the invoices and payments', async () => {
    const contactId = await contact(stack, t.tenantId);
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      await invoice(trx, contactId, '2025-07-10', 100_00); // current
      await invoice(trx, contactId, '2025-06-27', 100_00, 'overdue'); // 3 days: fine 2,00, interest 0,10
      const partly = await invoice(trx, contactId, '2025-05-30', 200_00, 'overdue'); // 31 days, 50,00 paid on time
      await trx('payments').insert({ id: randomUUID(), tenantId: t.tenantId, invoiceId: partly.id, kind: 'payment', amountCents: 50_00, paidOn: '2025-05-30', method: 'pix', source: 'manual', dunningStage: 'due' });
      await invoice(trx, contactId, '2025-03-31', 100_00, 'overdue'); // 91 days
      const paid = await invoice(trx, contactId, '2025-06-10', 80_00, 'paid');
      await trx('payments').insert({ id: randomUUID(), tenantId: t.tenantId, invoiceId: paid.id, kind: 'payment', amountCents: 80_00, paidOn: '2025-06-20', method: 'boleto', source: 'gateway', dunningStage: 'overdue' });
      await invoice(trx, contactId, '2025-06-15', 999_00, 'cancelled');
    });
    const aging = await stack.api.get(`/api/billing/reports/aging?on=${on}`, { token: t.admin.token });
    assert.equal(aging.status, 200, JSON.stringify(aging.body));
    // 3 days late: fine 2% of 100,00 = 2,00; interest 100,00 × 1% ÷ 30 × 3 = 0,10.
    // 31 days: 150,00 open; fine 3,00; interest 150,00 × 1% ÷ 30 × 31 = 1,55.
    // 91 days: fine 2,00; interest 100,00 × 1% ÷ 30 × 91 = 3,0333… → 3,03.
    assert.deepEqual(aging.body.buckets, [
      { bucket: 'current', count: 1, principalCents: 100_00, totalCents: 100_00 },
      { bucket: '1-30', count: 1, principalCents: 100_00, totalCents: 102_10 },
      { bucket: '31-60', count: 1, principalCents: 150_00, totalCents: 154_55 },
      { bucket: '61-90', count: 0, principalCents: 0, totalCents: 0 },
      { bucket: '90+', count: 1, principalCents: 100_00, totalCents: 105_03 },
    ]);
    assert.deepEqual(aging.body.totals, { count: 4, principalCents: 450_00, totalCents: 461_68 });

    const delinquency = await stack.api.get(`/api/billing/reports/delinquency?on=${on}`, { token: t.admin.token });
    assert.equal(delinquency.status, 200, JSON.stringify(delinquency.body));
    assert.equal(delinquency.body.openCents, 461_68);
    assert.equal(delinquency.body.overdueCents, 361_68);
    assert.equal(delinquency.body.rate, 0.7834); // 361,68 / 461,68
    // Due in 2025-06-01 .. 06-30: 06-27 (unpaid past grace) and 06-10 (paid).
    assert.deepEqual(delinquency.body.recent, { from: '2025-06-01', to: on, dueCount: 2, unpaidPastGraceCount: 1, rate: 0.5 });
    assert.ok(delinquency.body.definitions.rate);

    const recovery = await stack.api.get('/api/billing/reports/recovery?from=2025-06-01&to=2025-06-30', { token: t.admin.token });
    assert.equal(recovery.status, 200, JSON.stringify(recovery.body));
    assert.deepEqual(recovery.body.stages, [{ stage: 'overdue', paymentCount: 1, receivedCents: 80_00, refundedCents: 0, netCents: 80_00 }]);
    const backwards = await stack.api.get('/api/billing/reports/recovery?from=2025-07-01&to=2025-06-30', { token: t.admin.token });
    assert.equal(backwards.status, 400);
  });

  it('owner payouts: listed, marked paid once, and the monthly statement per owner', async () => {
    const contactId = await contact(stack, t.tenantId);
    const owner = '52998224725';
    const ids = await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      const out: string[] = [];
      for (const [due, gross, status] of [['2025-07-10', 2000_00, 'due'], ['2025-07-12', 1500_00, 'due'], ['2025-07-10', 900_00, 'cancelled']] as const) {
        const inv = await invoice(trx, contactId, addCalendarDays(due, -15), gross, 'paid');
        const id = randomUUID();
        const fee = Math.floor((gross * 10) / 100);
        await trx('ownerPayouts').insert({ id, tenantId: t.tenantId, invoiceId: inv.id, ownerName: 'Pedro Proprietário', ownerDocument: owner, ownerPixKey: 'pedro@example.com', referenceMonth: '2025-07', grossCents: gross, feePercent: 10, feeCents: fee, netCents: gross - fee, dueDate: due, status });
        out.push(id);
      }
      return out;
    });
    const due = await stack.api.get('/api/billing/reports/payouts-due', { token: t.admin.token });
    assert.equal(due.status, 200, JSON.stringify(due.body));
    assert.deepEqual(due.body.days, [
      { dueDate: '2025-07-10', count: 1, grossCents: 2000_00, feeCents: 200_00, netCents: 1800_00 },
      { dueDate: '2025-07-12', count: 1, grossCents: 1500_00, feeCents: 150_00, netCents: 1350_00 },
    ]);
    assert.equal(due.body.totals.netCents, 3150_00);

    const paid = await stack.api.post(`/api/payouts/${ids[0]}/paid`, { token: t.admin.token });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, 'paid');
    const again = await stack.api.post(`/api/payouts/${ids[0]}/paid`, { token: t.admin.token });
    assert.equal(again.status, 200);
    assert.equal(again.body.paidAt, paid.body.paidAt);
    const cancelled = await stack.api.post(`/api/payouts/${ids[2]}/paid`, { token: t.admin.token });
    assert.equal(cancelled.status, 409);

    const listed = await stack.api.get(`/api/payouts?status=due&ownerDocument=529.982.247-25&month=2025-07`, { token: t.admin.token });
    assert.deepEqual(listed.body.items.map((p: { id: string }) => p.id), [ids[1]]);

    const statement = await stack.api.get('/api/owner-statements?ownerDocument=529.982.247-25&month=2025-07', { token: t.admin.token });
    assert.equal(statement.status, 200, JSON.stringify(statement.body));
    assert.equal(statement.body.owner.name, 'Pedro Proprietário');
    assert.equal(statement.body.lines.length, 3);
    assert.deepEqual(statement.body.totals, { grossCents: 3500_00, feeCents: 350_00, netCents: 3150_00, paidNetCents: 1800_00, dueNetCents: 1350_00 });
    const html = await stack.api.get('/api/owner-statements?ownerDocument=52998224725&month=2025-07&format=html', { token: t.admin.token });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(html.body, /Pedro Proprietário/);
    assert.match(html.body, /529\.982\.247-25/);
    assert.match(html.body, /repassado/);
    const badDoc = await stack.api.get('/api/owner-statements?ownerDocument=123&month=2025-07', { token: t.admin.token });
    assert.equal(badDoc.status, 400);
  });
});
