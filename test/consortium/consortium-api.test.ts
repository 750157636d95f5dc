import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueInstallment } from '../../db/consortium';
import { ConsortiumGroup, ConsortiumQuota } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { addMonths, monthOfDate } from '../../domain/assembly-calendar';
import { isBankBusinessDay } from '../../domain/late-charges';
import { todayIn } from '../../domain/contract-template';
import { DEFAULT_GROUP_RULES } from '../../domain/consortium-rules';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { addCalendarDays } from '../../domain/late-charges';
import { dunningWorkflowId } from '../../workflows/dunning';
import { addApiKey, addUser, provisionTenant, superAdmin, uid, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { PRIZES } from '../support/assembly-fixture';
import { until } from '../support/whatsapp';
import { consortiumTenant, seedFund, seedGroup, startAssembly } from './support';

// The consortium back office through the API: groups with their installment, versioned rules and
// assembly schedule; members with validated CPF/CNPJ; who may do what; the calendar and the
// group's report from real installments; a closed month that never reopens.

const TZ = DEFAULT_TENANT_SETTINGS.timeZone;
const today = () => todayIn(TZ, new Date());

// ABAC's example: R$ 30.000, 50 months, 15% fee, 2% reserve → R$ 702,00 a month.
const abac = (overrides: Record<string, unknown> = {}) => ({
  code: `G-${uid()}`,
  name: 'Grupo Automóveis 50',
  creditCents: 3_000_000,
  termMonths: 50,
  adminFeePercent: 15,
  reserveFundPercent: 2,
  quotaCount: 100,
  assemblyDay: 15,
  installmentDueDay: 10,
  firstAssemblyMonth: monthOfDate(today()),
  ...overrides,
});

const phone = () => `+55119${String(Math.floor(10_000_000 + Math.random() * 89_999_999))}`;

describe('consortium API', () => {
  let stack: TestStack;
  let t: TenantFixture;
  const auth = () => ({ token: t.admin.token });
  const groupsOf = async () => withTenant(stack.deps.knex, t.tenantId, async (trx) => ConsortiumGroup.query(trx).resultSize());

  before(async () => {
    stack = await startStack();
    t = await provisionTenant(stack, (await superAdmin(stack)).token);
  });
  after(async () => {
    await stack.stop();
  });

  it('creates a group with its installment (ABAC: 70200 centavos), rules v1 and its assembly schedule', async () => {
    const res = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac() });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.monthlyInstallmentCents, 70_200);
    assert.deepEqual(res.body.installment, { commonFundCents: 60_000, adminFeeCents: 9_000, reserveFundCents: 1_200, totalCents: 70_200 });
    assert.equal(res.body.rules.version, 1);
    assert.deepEqual(res.body.rules.rules, DEFAULT_GROUP_RULES);
    const schedule = await stack.deps.temporal.client.schedule.getHandle(res.body.scheduleId).describe();
    assert.equal(schedule.action.type, 'startWorkflow');
    assert.equal((schedule.action as { workflowType: string }).workflowType, 'openMonthlyAssembly');
    assert.equal(schedule.spec.timezone, TZ);
    const got = await stack.api.get(`/api/consortium/groups/${res.body.id}`, auth());
    assert.equal(got.status, 200);
    assert.equal(got.body.monthlyInstallmentCents, 70_200);
    const list = await stack.api.get('/api/consortium/groups', auth());
    assert.ok(list.body.items.some((g: { id: string }) => g.id === res.body.id));
    // The same group asked again (a retry after a lost answer) is that group, not a second one.
    const retry = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ code: res.body.code }) });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.id, res.body.id);
    const again = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ code: res.body.code, quotaCount: 50 }) });
    assert.equal(again.status, 409);
    assert.equal(again.body.detail, `Já existe um grupo com o código ${res.body.code}.`);
  });

  it('refuses bad terms and rules with a pt-BR 400, writing nothing', async () => {
    const before = await groupsOf();
    const tooBig = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ quotaCount: 2000 }) });
    assert.equal(tooBig.status, 400);
    assert.equal(tooBig.headers.get('content-type'), 'application/problem+json');
    assert.equal(tooBig.body.detail, 'A regra de sorteio loteria-15 serve para grupos de até 1.000 cotas; este grupo tem 2000.');
    const badRules = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ rules: { ...DEFAULT_GROUP_RULES, bidLimits: { ...DEFAULT_GROUP_RULES.bidLimits, minPercent: 90 } } }) });
    assert.equal(badRules.status, 400);
    assert.ok(badRules.body.errors.some((e: { path: string; message: string }) => e.path === 'body.rules.bidLimits.minPercent' && e.message === 'O lance mínimo não pode passar do máximo.'));
    const badMonth = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ firstAssemblyMonth: '2026-13' }) });
    assert.equal(badMonth.status, 400);
    assert.deepEqual(
      badMonth.body.errors.map((e: { path: string; message: string }) => [e.path, e.message]),
      [['body.firstAssemblyMonth', 'mês no formato AAAA-MM']],
    );
    // A radial group may be larger than 1000 quotas.
    const radial = await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ quotaCount: 2000, rules: { ...DEFAULT_GROUP_RULES, drawRule: 'radial' } }) });
    assert.equal(radial.status, 201, JSON.stringify(radial.body));
    assert.equal(await groupsOf(), before + 1);
  });

  it('versions the rules with their history (who, when, why)', async () => {
    const g = (await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ quotaCount: 1500, rules: { ...DEFAULT_GROUP_RULES, drawRule: 'radial' } }) })).body;
    const v2 = await stack.api.put(`/api/consortium/groups/${g.id}/rules`, { ...auth(), body: { rules: { ...DEFAULT_GROUP_RULES, drawRule: 'radial', contemplations: { byDraw: 1, byExcludedDraw: 0, byBid: 3 } }, note: 'Assembleia extraordinária: três lances por mês.' } });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    assert.equal(v2.body.version, 2);
    // A draw rule that does not fit the group is refused, and no version is written.
    const misfit = await stack.api.put(`/api/consortium/groups/${g.id}/rules`, { ...auth(), body: { rules: DEFAULT_GROUP_RULES, note: 'Voltar à loteria' } });
    assert.equal(misfit.status, 400);
    assert.equal(misfit.body.detail, 'A regra de sorteio loteria-15 serve para grupos de até 1.000 cotas; este grupo tem 1500.');
    const history = await stack.api.get(`/api/consortium/groups/${g.id}/rules`, auth());
    assert.equal(history.status, 200);
    assert.deepEqual(history.body.items.map((v: { version: number; note: string }) => [v.version, v.note]), [
      [1, 'Regulamento inicial do grupo.'],
      [2, 'Assembleia extraordinária: três lances por mês.'],
    ]);
    assert.equal(history.body.items[1].publishedBy, t.admin.id);
    assert.equal(history.body.items[1].rules.contemplations.byBid, 3);
    assert.equal(history.body.items[0].rules.contemplations.byBid, 2);
    const got = await stack.api.get(`/api/consortium/groups/${g.id}`, auth());
    assert.equal(got.body.rules.version, 2);
  });

  it('members: CPF/CNPJ check digits validated, lowest free number, taken number and full group → 409', async () => {
    const g = (await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ quotaCount: 3 }) })).body;
    const g2 = (await stack.api.post('/api/consortium/groups', { ...auth(), body: abac() })).body;
    const url = `/api/consortium/groups/${g.id}/quotas`;
    const bad = await stack.api.post(url, { ...auth(), body: { name: 'João da Silva', phone: phone(), taxId: '529.982.247-24' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.detail, 'CPF ou CNPJ inválido.');
    const badCnpj = await stack.api.post(url, { ...auth(), body: { name: 'Transportes Ltda', phone: phone(), taxId: '11.222.333/0001-80' } });
    assert.equal(badCnpj.status, 400);
    const badPhone = await stack.api.post(url, { ...auth(), body: { name: 'João', phone: '11987654321', taxId: '529.982.247-25' } });
    assert.equal(badPhone.status, 400);
    assert.equal(await withTenant(stack.deps.knex, t.tenantId, async (trx) => ConsortiumQuota.query(trx).where({ groupId: g.id }).resultSize()), 0);

    const second = await stack.api.post(url, { ...auth(), body: { name: 'Transportes Ltda', phone: phone(), taxId: '11.222.333/0001-81', number: 2 } });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.number, 2);
    assert.equal(second.body.contact.taxId, '11222333000181');
    const first = await stack.api.post(url, { ...auth(), body: { name: 'João da Silva', phone: phone(), taxId: '529.982.247-25' } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.number, 1, 'the lowest free number');
    assert.equal(first.body.status, 'active');
    assert.equal(first.body.installmentCents, 70_200);
    assert.equal(first.body.contact.taxId, '52998224725');
    const taken = await stack.api.post(url, { ...auth(), body: { name: 'Maria', phone: phone(), taxId: '390.533.447-05', number: 2 } });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.detail, 'A cota 2 já pertence a outro consorciado.');
    const outside = await stack.api.post(url, { ...auth(), body: { name: 'Maria', phone: phone(), taxId: '390.533.447-05', number: 4 } });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.detail, 'A cota deve estar entre 1 e 3.');
    // A retried sale with the same Idempotency-Key sells nothing more.
    const key = { headers: { 'idempotency-key': `venda-${uid()}` } };
    const sale = { name: 'Maria Souza', phone: phone(), taxId: '390.533.447-05' };
    const sold = await stack.api.post(url, { ...auth(), ...key, body: sale });
    assert.equal(sold.status, 201);
    assert.equal(sold.body.number, 3);
    const resold = await stack.api.post(url, { ...auth(), ...key, body: sale });
    assert.equal(resold.status, 200);
    assert.equal(resold.body.id, sold.body.id);
    const sixth = await stack.api.post(url.replace(g.id, g2.id), { ...auth(), body: { name: 'João da Silva', phone: phone(), taxId: '52998224725' } });
    assert.equal(sixth.status, 201);
    // The same member (by CPF) buys a quota in another group: one contact.
    assert.equal(sixth.body.contact.id, first.body.contact.id);
    const full = await stack.api.post(url, { ...auth(), body: { name: 'Maria', phone: phone(), taxId: '390.533.447-05' } });
    assert.equal(full.status, 409);
    assert.equal(full.body.detail, 'O grupo está completo: as 3 cotas já foram vendidas.');
    const listed = await stack.api.get(url, auth());
    assert.deepEqual(listed.body.items.map((q: { number: number }) => q.number), [1, 2, 3]);
  });

  it('roles and scopes: SALES is refused; an API key needs lottery:write to enter the lottery', async () => {
    const g = (await stack.api.post('/api/consortium/groups', { ...auth(), body: abac() })).body;
    const sales = await addUser(stack, t, 'SALES');
    const seen = await stack.api.get('/api/consortium/groups', { token: sales.token });
    assert.equal(seen.status, 403);
    const made = await stack.api.post('/api/consortium/groups', { token: sales.token, body: abac() });
    assert.equal(made.status, 403);
    const finance = await addUser(stack, t, 'FINANCE');
    assert.equal((await stack.api.get(`/api/consortium/groups/${g.id}`, { token: finance.token })).status, 200);

    const key = await addApiKey(stack, t, ['consortium:read', 'bids:write']);
    assert.equal((await stack.api.get(`/api/consortium/groups/${g.id}`, { apiKey: key.key })).status, 200);
    const month = g.firstAssemblyMonth;
    const lottery = await stack.api.put(`/api/consortium/groups/${g.id}/assemblies/${month}/lottery`, {
      apiKey: key.key,
      body: { contest: '5999', drawDate: today(), prizes: ['12345', '23456', '34567', '45678', '56789'] },
    });
    assert.equal(lottery.status, 403);
    assert.equal(lottery.body.detail, 'A chave de API precisa dos escopos: lottery:write.');
    const write = await stack.api.post('/api/consortium/groups', { apiKey: key.key, body: abac() });
    assert.equal(write.status, 403);
  });

  it('calendar and report: next assemblies, fund balance from paid installments, delinquent quotas', async () => {
    const g = (await stack.api.post('/api/consortium/groups', { ...auth(), body: abac({ quotaCount: 10 }) })).body;
    const quotas: { id: string; number: number }[] = [];
    for (const taxId of ['529.982.247-25', '390.533.447-05', '11.222.333/0001-81']) {
      const q = await stack.api.post(`/api/consortium/groups/${g.id}/quotas`, { ...auth(), body: { name: 'Consorciado', phone: phone(), taxId } });
      assert.equal(q.status, 201, JSON.stringify(q.body));
      quotas.push(q.body);
    }

    const cal = await stack.api.get(`/api/consortium/groups/${g.id}/calendar?months=3`, auth());
    assert.equal(cal.status, 200, JSON.stringify(cal.body));
    assert.equal(cal.body.items.length, 3);
    const [next, second, third] = cal.body.items;
    assert.ok(next.assemblyDate >= today(), 'the calendar starts at the next assembly to come');
    assert.equal(second.month, addMonths(next.month, 1));
    assert.equal(third.month, addMonths(next.month, 2));
    for (const m of cal.body.items) {
      assert.ok(isBankBusinessDay(m.assemblyDate), `${m.assemblyDate} is a business day`);
      assert.ok(m.assemblyDate >= `${m.month}-15`, 'the group’s day, or the next business day');
      assert.ok(m.extractionDate < m.assemblyDate);
      assert.ok([3, 6].includes(new Date(`${m.extractionDate}T12:00:00Z`).getUTCDay()), 'a Loteria Federal day (Wednesday or Saturday)');
      assert.ok(m.biddingOpensOn < m.extractionDate);
      assert.ok(new Date(m.biddingClosesAt).getTime() <= new Date(`${m.extractionDate}T22:00:00Z`).getTime(), 'bids close before the extraction (19:00 Brasília)');
      assert.equal(m.assembly, null);
    }
    assert.equal((await stack.api.get(`/api/consortium/groups/${g.id}/calendar?months=0`, auth())).status, 400);

    // Last month's installments: quota 1 paid, quotas 2 and 3 not (due ten days ago).
    const lastMonth = addMonths(monthOfDate(today()), -1);
    const dueDate = addCalendarDays(today(), -10);
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      const group = await ConsortiumGroup.query(trx).findById(g.id);
      for (const q of quotas) {
        const quota = await ConsortiumQuota.query(trx).findById(q.id);
        const inv = await issueInstallment(trx, group!, quota!, { month: lastMonth, dueDate, finePercent: 2, monthlyInterestPercent: 1 }, dunningWorkflowId);
        assert.ok(inv);
        if (q.number === 1) await trx('invoices').where({ id: inv.id }).update({ status: 'paid', paidCents: inv.amountCents, paidAt: new Date(`${addCalendarDays(dueDate, -1)}T15:00:00Z`) });
      }
    });
    const report = await stack.api.get(`/api/consortium/groups/${g.id}/report`, auth());
    assert.equal(report.status, 200, JSON.stringify(report.body));
    assert.deepEqual(report.body.fund, { commonCents: 60_000, reserveCents: 1_200 });
    assert.deepEqual(report.body.delinquent.map((d: { number: number; consecutiveMissed: number }) => [d.number, d.consecutiveMissed]), [
      [2, 1],
      [3, 1],
    ]);
    assert.deepEqual(report.body.excluded, []);
    assert.deepEqual(report.body.contemplated, []);
    const { assembly: _none, ...nextDates } = next;
    assert.deepEqual(report.body.nextAssembly, nextDates);
    const listed = await stack.api.get(`/api/consortium/groups/${g.id}/quotas`, auth());
    assert.deepEqual(listed.body.items.map((q: { number: number; standing: { upToDate: boolean; consecutiveMissed: number; commonFundPaidCents: number } }) => [q.number, q.standing.upToDate, q.standing.consecutiveMissed, q.standing.commonFundPaidCents]), [
      [1, true, 0, 60_000],
      [2, false, 1, 0],
      [3, false, 1, 0],
    ]);
    assert.ok(listed.body.items.every((q: { installmentsIssued: number }) => q.installmentsIssued === 1));
  });

  it('a closed month never reopens; a month before the group’s first is refused', async () => {
    const g = (await stack.api.post('/api/consortium/groups', { ...auth(), body: abac() })).body;
    const url = `/api/consortium/groups/${g.id}/assemblies`;
    const early = await stack.api.post(url, { ...auth(), body: { month: addMonths(g.firstAssemblyMonth, -1) } });
    assert.equal(early.status, 400);
    const month = addMonths(g.firstAssemblyMonth, 1);
    // The month's assembly as a closed one leaves it (the row the workflow writes).
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('consortium_assemblies').insert({
        id: randomUUID(),
        tenantId: t.tenantId,
        groupId: g.id,
        month,
        status: 'closed',
        workflowId: `assembly:${t.tenantId}:${g.id}:${month}`,
        ruleVersion: 1,
        assemblyDate: `${month}-15`,
        extractionDate: `${month}-12`,
        biddingClosesAt: new Date(),
        closedAt: new Date(),
      }),
    );
    const reopen = await stack.api.post(url, { ...auth(), body: { month } });
    assert.equal(reopen.status, 409);
    assert.equal(reopen.body.detail, `A assembleia de ${month.slice(5)}/${month.slice(0, 4)} já foi encerrada: nada reabre.`);
    const bid = await stack.api.post(`${url}/${month}/bids`, { ...auth(), body: { quotaNumber: 1, type: 'livre', percent: 30 } });
    assert.equal(bid.status, 404, 'no such quota in the group');
    const listed = await stack.api.get(url, auth());
    assert.deepEqual(listed.body.items.map((a: { month: string; status: string }) => [a.month, a.status]), [[month, 'closed']]);
    const noRecord = await stack.api.get(`${url}/${addMonths(month, 1)}/record`, auth());
    assert.equal(noRecord.status, 404);
    assert.equal(noRecord.body.detail, 'A ata desta assembleia só existe depois do encerramento.');
    const cal = await stack.api.get(`/api/consortium/groups/${g.id}/calendar?months=3`, auth());
    const entry = cal.body.items.find((m: { month: string }) => m.month === month);
    assert.equal(entry?.assembly?.status, 'closed');
  });
  it('an assembly through the API: bids, a late bid refused, lottery entry and correction, publish, payments, the record verifies, the month never reopens', async () => {
    // A tenant that notifies its members over WhatsApp, as the assembly does.
    const ct = await consortiumTenant(stack);
    const admin = { token: ct.admin.token };
    const g = await seedGroup(stack, ct.tenantId, { quotaCount: 20 });
    // The draw (R$ 10.000) and both bids (each the credit less its offer) fit the fund:
    // 2.300.000 − 1.000.000 − 500.000 − 600.000 = 200.000.
    await seedFund(stack, g, 2_300_000);
    const MONTH = '2026-12';
    const base = `/api/consortium/groups/${g.group.id}/assemblies`;
    await startAssembly(stack, g, MONTH, { biddingWindowMs: 15_000, bidPaymentWindowMs: 60_000 });
    const opened = await until('assembly row', async () => {
      const r = await stack.api.get(`${base}/${MONTH}`, admin);
      return r.status === 200 && r.body.assembly ? r.body : null;
    });
    assert.equal(opened.assembly.status, 'bidding');
    const started = await stack.api.post(base, { ...admin, body: { month: MONTH } });
    assert.equal(started.status, 409, 'the month runs already');

    const bot = await addApiKey(stack, ct, ['bids:write', 'consortium:read']);
    const b12 = await stack.api.post(`${base}/${MONTH}/bids`, { apiKey: bot.key, body: { quotaNumber: 12, type: 'fixo', percent: 50 } });
    assert.equal(b12.status, 201, JSON.stringify(b12.body));
    assert.equal(b12.body.amountCents, 500_000);
    const first10 = await stack.api.post(`${base}/${MONTH}/bids`, { ...admin, body: { quotaId: g.quota(10).id, type: 'livre', percent: 30 } });
    assert.equal(first10.status, 201, JSON.stringify(first10.body));
    const b10 = await stack.api.post(`${base}/${MONTH}/bids`, { ...admin, body: { quotaNumber: 10, type: 'livre', amountCents: 400_000 } });
    assert.equal(b10.status, 201);
    assert.equal(b10.body.percent, 40);
    assert.equal(b10.body.replacedBidId, first10.body.bidId);
    const tooHigh = await stack.api.post(`${base}/${MONTH}/bids`, { ...admin, body: { quotaNumber: 9, type: 'livre', percent: 90 } });
    assert.equal(tooHigh.status, 409);
    assert.equal(tooHigh.body.detail, 'O lance livre máximo deste grupo é 80% do crédito.');
    const b15 = await stack.api.post(`${base}/${MONTH}/bids`, { ...admin, body: { quotaNumber: 15, type: 'livre', percent: 10 } });
    assert.equal(b15.status, 201);
    const withdrawn = await stack.api.delete(`${base}/${MONTH}/bids/15`, admin);
    assert.equal(withdrawn.status, 200, JSON.stringify(withdrawn.body));
    assert.deepEqual(withdrawn.body, { bidId: b15.body.bidId });
    const live = await stack.api.get(`${base}/${MONTH}`, admin);
    assert.deepEqual(live.body.live.bids.map((b: { quota: number }) => b.quota), [10, 12]);

    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(live.body.live.biddingClosesAt) - Date.now() + 200)));
    const late = await stack.api.post(`${base}/${MONTH}/bids`, { ...admin, body: { quotaNumber: 5, type: 'livre', percent: 20 } });
    assert.equal(late.status, 409);
    assert.match(late.body.detail, /^O prazo de lances desta assembleia terminou em \d{2}\/\d{2}\/\d{4} às \d{2}:\d{2}\.$/);
    const waiting = await until('awaiting the result', async () => {
      const r = await stack.api.get(`${base}/${MONTH}`, admin);
      return r.body.live?.status === 'awaiting_result' ? r.body.live : null;
    });

    const lottery = (prizes: string[], extra: Record<string, unknown> = {}) => ({ contest: '06050', drawDate: waiting.extractionDate, prizes, ...extra });
    const notYet = await stack.api.post(`${base}/${MONTH}/publish`, admin);
    assert.equal(notYet.status, 409);
    const typo = ['12007', '34012', '56003', '78015', '90019'];
    const entered = await stack.api.put(`${base}/${MONTH}/lottery`, { ...admin, body: lottery(typo) });
    assert.equal(entered.status, 200, JSON.stringify(entered.body));
    assert.equal(entered.body.lottery.source, 'operator');
    const noReason = await stack.api.put(`${base}/${MONTH}/lottery`, { ...admin, body: lottery(PRIZES) });
    assert.equal(noReason.status, 409);
    assert.equal(noReason.body.detail, 'O resultado já foi informado: para corrigi-lo, diga o motivo da correção.');
    const corrected = await stack.api.put(`${base}/${MONTH}/lottery`, { ...admin, body: lottery(PRIZES, { reason: 'Quinto prêmio digitado errado.' }) });
    assert.equal(corrected.status, 200, JSON.stringify(corrected.body));
    assert.equal(corrected.body.corrections.length, 1);
    const published = await stack.api.post(`${base}/${MONTH}/publish`, admin);
    assert.equal(published.status, 200, JSON.stringify(published.body));
    assert.equal(published.body.published, true);
    assert.equal(published.body.result.draw.quota, 7);
    assert.deepEqual(published.body.pendingPayments.map((p: { quota: number }) => p.quota).sort((a: number, b: number) => a - b), [10, 12]);
    const afterPublish = await stack.api.put(`${base}/${MONTH}/lottery`, { ...admin, body: lottery(typo, { reason: 'de novo' }) });
    assert.equal(afterPublish.status, 409);
    const audit = await withTenant(stack.deps.knex, ct.tenantId, async (trx) => trx('audit_events').where({ action: 'consortium_lottery.corrected' }).first());
    assert.equal(audit.details.reason, 'Quinto prêmio digitado errado.');

    // FINANCE confirms both payments: the assembly closes.
    const finance = await addUser(stack, ct, 'FINANCE');
    for (const p of published.body.pendingPayments as { bidId: string }[]) {
      const paid = await stack.api.post(`${base}/${MONTH}/bids/${p.bidId}/payment`, { token: finance.token });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
    }
    const record = await until('record sealed', async () => {
      const r = await stack.api.get(`${base}/${MONTH}/record`, admin);
      return r.status === 200 ? r.body : null;
    }, 20_000);
    const dir = mkdtempSync(join(tmpdir(), 'assembly-'));
    const file = join(dir, 'record.json');
    writeFileSync(file, JSON.stringify(record));
    const verified = spawnSync('npm', ['run', '--silent', 'verify:assembly', '--', file], { encoding: 'utf8' });
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /OK: the result and hash match/);
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...record, inputs: { ...record.inputs, fund: { ...record.inputs.fund, commonCents: record.inputs.fund.commonCents + 1 } } }));
    assert.equal(spawnSync('npm', ['run', '--silent', 'verify:assembly', '--', tampered], { encoding: 'utf8' }).status, 1);

    const reopen = await stack.api.post(base, { ...admin, body: { month: MONTH } });
    assert.equal(reopen.status, 409);
    assert.equal(reopen.body.detail, 'A assembleia de 12/2026 já foi encerrada: nada reabre.');
    const closedBid = await stack.api.post(`${base}/${MONTH}/bids`, { ...admin, body: { quotaNumber: 5, type: 'livre', percent: 20 } });
    assert.equal(closedBid.status, 409);
    const report = await stack.api.get(`/api/consortium/groups/${g.group.id}/report`, admin);
    assert.deepEqual(report.body.contemplated.map((c: { kind: string; quotaNumber: number }) => `${c.kind}:${c.quotaNumber}`).sort(), ['bid:10', 'bid:12', 'draw:7']);
  });
});
