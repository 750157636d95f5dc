import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { verifyAssemblyRecord } from '../../domain/assembly-record';
import { monthlyInstallment } from '../../domain/consortium-installment';
import {
  assemblyScheduleId,
  confirmBidPaymentUpdate,
  enterLotteryResultUpdate,
  openMonthlyAssemblyStart,
  placeBidUpdate,
  publishResultUpdate,
  withdrawBidUpdate,
  ASSEMBLY_REFUSALS,
  type AssemblyOutcome,
} from '../../workflows/assembly';
import { dunningWorkflowId } from '../../workflows/dunning';
import { startOptions } from '../../workflows/workflow-start';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { until, type WhatsAppTenant } from '../support/whatsapp';
import { PRIZES } from '../support/assembly-fixture';
import {
  assemblyHandle,
  assemblyView,
  consortiumTenant,
  refusalOf,
  rowsOf,
  seedFund,
  seedGroup,
  seedInstallments,
  setQuotaStatus,
  startAssembly,
  SYSTEM,
  type SeededGroup,
} from './support';

// The monthly assembly end to end on the real stack: groups and quotas written as the API writes
// them, the run on the dev server with a bidding window and payment deadlines of seconds, bids
// and lottery entries through the workflow's updates, notices through each member's
// conversation to the WhatsApp sandbox. The prizes are the fixture's (test/support/assembly-
// fixture.ts): loteria-15 candidates 7, 200, 120, 12, 401, …, so quota 7 is drawn when it can be.

const MONTH = '2026-12';
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
const templatesTo = (stack: TestStack, waId: string) => stack.graph.sentTo(waId).map((m) => m.templateName).filter(Boolean);

describe('consortium assembly', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;

  before(async () => {
    stack = await startStack();
    t = await consortiumTenant(stack);
  });
  after(async () => {
    await stack.stop();
  });

  const assemblyRow = async (g: SeededGroup) => (await rowsOf(stack, t.tenantId, 'consortium_assemblies', { groupId: g.group.id }))[0];
  const bidRows = async (g: SeededGroup) => {
    const a = await assemblyRow(g);
    return withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('consortium_bids').where({ assemblyId: a.id }).orderBy('placedAt'));
  };
  const quotaRow = async (g: SeededGroup, n: number) => (await rowsOf(stack, t.tenantId, 'consortium_quotas', { id: g.quota(n).id }))[0];
  const lotteryFor = (extractionDate: string, prizes = PRIZES, extra: Record<string, unknown> = {}) => ({
    contest: '06050', drawDate: extractionDate, prizes, source: 'operator' as const, actor: SYSTEM, ...extra,
  });

  it('takes bids until the deadline, contemplates what the fund covers, disqualifies an unpaid winning bid for the next in line and applies the paid ones', async () => {
    const g = await seedGroup(stack, t.tenantId, { quotaCount: 20, rules: { contemplations: { byDraw: 1, byExcludedDraw: 0, byBid: 3 } } });
    // Quota 3 missed November's installment: late today and on the extraction date.
    await seedInstallments(stack, g, 3, [{ month: '2026-11', paid: false }]);
    // A draw (R$ 10.000) and two bids fit: 2.300.000 − 1.000.000 − 500.000 − 600.000 = 200.000.
    await seedFund(stack, g, 2_300_000);
    const handle = await startAssembly(stack, g, MONTH, { biddingWindowMs: 15_000, bidPaymentWindowMs: 3_000 });
    const bid = (n: number, type: 'livre' | 'fixo' | 'embutido', percent: number) => handle.executeUpdate(placeBidUpdate, { args: [{ quotaId: g.quota(n).id, type, percent, actor: SYSTEM }] });

    const first = await bid(10, 'livre', 30);
    const second = await bid(10, 'livre', 40);
    assert.equal(second.replacedBidId, first.bidId);
    const b12 = await bid(12, 'fixo', 50);
    assert.equal(b12.amountCents, 500_000);
    await bid(4, 'livre', 30);
    await bid(14, 'embutido', 25);
    const b15 = await bid(15, 'livre', 10);
    assert.deepEqual(await handle.executeUpdate(withdrawBidUpdate, { args: [{ quotaId: g.quota(15).id, actor: SYSTEM }] }), { bidId: b15.bidId });
    const noBid = await refusalOf(handle.executeUpdate(withdrawBidUpdate, { args: [{ quotaId: g.quota(15).id, actor: SYSTEM }] }));
    assert.equal(noBid.type, ASSEMBLY_REFUSALS.noBid);

    const tooHigh = await refusalOf(bid(9, 'livre', 90));
    assert.deepEqual(tooHigh, { type: ASSEMBLY_REFUSALS.invalidBid, message: 'O lance livre máximo deste grupo é 80% do crédito.' });
    const fixo = await refusalOf(bid(9, 'fixo', 30));
    assert.equal(fixo.type, ASSEMBLY_REFUSALS.invalidBid);
    assert.match(fixo.message, /lance fixo deste grupo é de 25% ou 50%/);
    const late = await refusalOf(bid(3, 'livre', 60));
    assert.deepEqual(late, { type: ASSEMBLY_REFUSALS.quotaNotEligible, message: 'A cota 3 tem parcelas em atraso; regularize para ofertar lance.' });

    // The database holds one live bid per quota; the first of quota 10 was replaced.
    const rows = await bidRows(g);
    const of10 = rows.filter((r) => r.quotaNumber === 10);
    assert.deepEqual(of10.map((r) => [r.id, r.status]), [[first.bidId, 'replaced'], [second.bidId, 'live']]);
    assert.equal(rows.find((r) => r.id === b15.bidId)?.status, 'withdrawn');
    assert.deepEqual(rows.filter((r) => r.status === 'live').map((r) => r.quotaNumber).sort((a, b) => a - b), [4, 10, 12, 14]);
    const live = await assemblyView(stack, g, MONTH);
    assert.deepEqual(live.bids.map((b) => b.quota), [4, 10, 12, 14]);
    assert.equal(live.status, 'bidding');

    // The deadline passed: refused with the deadline in the tenant's calendar.
    await sleepMs(Math.max(0, Date.parse(live.biddingClosesAt) - Date.now() + 200));
    const closed = await refusalOf(bid(5, 'livre', 20));
    assert.equal(closed.type, ASSEMBLY_REFUSALS.biddingClosed);
    assert.match(closed.message, /^O prazo de lances desta assembleia terminou em \d{2}\/\d{2}\/\d{4} às \d{2}:\d{2}\.$/);
    const waiting = await until('awaiting the result', async () => {
      const v = await assemblyView(stack, g, MONTH);
      return v.status === 'awaiting_result' ? v : null;
    });

    // The lottery: the extraction the rules name, five 5-digit prizes; a correction says why.
    const enter = (req: ReturnType<typeof lotteryFor>) => handle.executeUpdate(enterLotteryResultUpdate, { args: [req] });
    assert.equal((await refusalOf(enter(lotteryFor('2026-12-05')))).type, ASSEMBLY_REFUSALS.lotteryInvalid);
    assert.equal((await refusalOf(enter(lotteryFor(waiting.extractionDate, ['12007', '340'])))).type, ASSEMBLY_REFUSALS.lotteryInvalid);
    assert.equal((await refusalOf(handle.executeUpdate(publishResultUpdate, { args: [{ actor: SYSTEM }] }))).type, ASSEMBLY_REFUSALS.notReady);
    const typo = ['12007', '34012', '56003', '78015', '90019'];
    await enter(lotteryFor(waiting.extractionDate, typo));
    const noReason = await refusalOf(enter(lotteryFor(waiting.extractionDate)));
    assert.deepEqual(noReason, { type: ASSEMBLY_REFUSALS.lotteryInvalid, message: 'O resultado já foi informado: para corrigi-lo, diga o motivo da correção.' });
    const corrected = await enter(lotteryFor(waiting.extractionDate, PRIZES, { reason: 'Quinto prêmio digitado errado.', actor: { type: 'user', id: t.admin.id } }));
    assert.deepEqual(corrected.lottery?.prizes, PRIZES);
    assert.equal(corrected.corrections.length, 1);
    const audited = await assemblyRow(g);
    assert.deepEqual(audited.lotteryCorrections.map((c: { previous: { prizes: string[] }; next: { prizes: string[]; actor: unknown }; reason: string }) => [c.previous.prizes, c.next.prizes, c.next.actor, c.reason]), [
      [typo, PRIZES, { type: 'user', id: t.admin.id }, 'Quinto prêmio digitado errado.'],
    ]);
    assert.equal(audited.publishedAt, null);

    const pub = await handle.executeUpdate(publishResultUpdate, { args: [{ actor: SYSTEM }] });
    assert.equal(pub.published, true);
    assert.equal(pub.status, 'confirming_bids');
    const r = pub.result!;
    assert.equal(r.draw.quota, 7);
    // 12 fixo 50 %, 10 livre 40 %, 4 livre 30 %, 14 embutido 25 %.
    assert.deepEqual(r.ranking.map((x) => x.quota), [12, 10, 4, 14]);
    assert.deepEqual(r.contemplations.map((c) => `${c.kind}:${c.quota}:${c.status}`), ['draw:7:confirmed', 'bid:12:pending_payment', 'bid:10:pending_payment']);
    // The fund, not the three bids the rules allow, stops the contemplations.
    assert.equal(r.bidOutcomes[(await bidRows(g)).find((x) => x.quotaNumber === 4 && x.status !== 'replaced')!.id]?.reason, 'O fundo comum não comporta mais contemplações.');
    assert.deepEqual(pub.pendingPayments.map((p) => p.quota).sort((a, b) => a - b), [10, 12]);
    assert.equal((await refusalOf(enter(lotteryFor(waiting.extractionDate, PRIZES, { reason: 'de novo' })))).type, ASSEMBLY_REFUSALS.alreadyPublished);
    assert.equal((await quotaRow(g, 7)).status, 'contemplated');
    assert.equal((await quotaRow(g, 12)).status, 'contemplated');

    // Quota 12 pays: its bid pays off the last installments (R$ 234,00 each, 50 of them).
    assert.equal(monthlyInstallment(1_000_000, 50, 15, 2).totalCents, 23_400);
    assert.equal((await refusalOf(handle.executeUpdate(confirmBidPaymentUpdate, { args: [{ bidId: first.bidId, actor: SYSTEM }] }))).type, ASSEMBLY_REFUSALS.unknownBid);
    await handle.executeUpdate(confirmBidPaymentUpdate, { args: [{ bidId: b12.bidId, actor: SYSTEM }] });
    const q12 = await quotaRow(g, 12);
    // 500.000 = 21 × 23.400 + 8.600: 29 installments left, the last one 14.800.
    assert.deepEqual([q12.installmentCount, Number(q12.installmentCents), Number(q12.lastInstallmentCents)], [29, 23_400, 14_800]);

    // Quota 10 does not pay: disqualified, and quota 4, next in line, is contemplated pending payment.
    const next = await until('quota 4 pending', async () => {
      const v = await assemblyView(stack, g, MONTH);
      return v.pendingPayments.some((p) => p.quota === 4) ? v : null;
    }, 15_000, 50);
    const b4 = next.pendingPayments.find((p) => p.quota === 4)!;
    await handle.executeUpdate(confirmBidPaymentUpdate, { args: [{ bidId: b4.bidId, actor: SYSTEM }] });
    const outcome: AssemblyOutcome = await handle.result();
    assert.deepEqual(outcome.contemplated, [7, 12, 4]);

    const q10 = await quotaRow(g, 10);
    assert.equal(q10.status, 'active');
    const contemplations = await rowsOf(stack, t.tenantId, 'consortium_contemplations', { assemblyId: outcome.assemblyId });
    assert.deepEqual(contemplations.map((c) => `${c.kind}:${c.quotaNumber}:${c.status}`).sort(), ['bid:10:disqualified', 'bid:12:confirmed', 'bid:4:confirmed', 'draw:7:confirmed']);
    assert.deepEqual((await bidRows(g)).map((b) => `${b.quotaNumber}:${b.status}`).sort(), ['10:disqualified', '10:replaced', '12:won', '14:lost', '15:withdrawn', '4:won']);
    assert.equal(Number(contemplations.find((c) => c.quotaNumber === 12).bidPaidCents), 500_000);

    // The record: sealed, stored with its hash, recomputable from itself.
    const row = await assemblyRow(g);
    assert.equal(row.status, 'closed');
    assert.equal(row.recordSha256, outcome.recordSha256);
    const check = verifyAssemblyRecord(row.record);
    assert.deepEqual(check.problems, []);
    assert.equal(check.sha256, row.recordSha256);
    assert.equal(row.record.inputs.quotas.find((q: { number: number }) => q.number === 3).upToDate, false);
    assert.equal(row.record.lotteryCorrections.length, 1);

    // Members heard of it over WhatsApp with the tenant's templates.
    await until('notices delivered', async () =>
      templatesTo(stack, g.quota(1).waId).includes('consorcio_assembleia_aberta') &&
      templatesTo(stack, g.quota(7).waId).includes('consorcio_contemplacao') &&
      templatesTo(stack, g.quota(4).waId).includes('consorcio_contemplacao') &&
      templatesTo(stack, g.quota(10).waId).includes('consorcio_lance_desclassificado'),
    30_000);
    assert.ok(!templatesTo(stack, g.quota(14).waId).includes('consorcio_contemplacao'));

    await recordHistory(stack, handle.workflowId, 'assembly-bids-disqualified-next');
  });

  it('freezes eligibility at the extraction: excludes a quota after N unpaid installments (never a contemplated one), draws past an ineligible quota, publishes an automation result, and a closed month does not reopen', async () => {
    const g = await seedGroup(stack, t.tenantId, { quotaCount: 20, rules: { exclusionAfterUnpaid: 3, contemplations: { byDraw: 1, byExcludedDraw: 1, byBid: 2 } } });
    const months = (paid: boolean[]) => ['2026-08', '2026-09', '2026-10', '2026-11'].map((month, i) => ({ month, paid: paid[i]! }));
    await seedInstallments(stack, g, 5, months([true, false, false, false]));
    await seedInstallments(stack, g, 18, months([true, false, false, false]));
    await setQuotaStatus(stack, g, 18, 'contemplated');
    await seedInstallments(stack, g, 7, months([true, true, true, false]));
    await seedFund(stack, g, 2_000_000);
    const handle = await startAssembly(stack, g, MONTH, { biddingWindowMs: 1_500 });
    const v = await until('awaiting the result', async () => {
      const x = await assemblyView(stack, g, MONTH);
      return x.status === 'awaiting_result' ? x : null;
    });

    const published = await handle.executeUpdate(enterLotteryResultUpdate, { args: [{ ...lotteryFor(v.extractionDate), source: 'automation', publish: true }] });
    assert.equal(published.published, true);
    const outcome: AssemblyOutcome = await handle.result();

    const q5 = await quotaRow(g, 5);
    assert.equal(q5.status, 'excluded');
    assert.ok(q5.excludedAt);
    assert.match(q5.exclusionReason, /^Excluída na assembleia de 12\/2026: 3 parcela\(s\) consecutiva\(s\) sem pagamento/);
    // Restitution base: what it paid into the common fund (one installment's common part).
    const common = monthlyInstallment(1_000_000, 50, 15, 2).commonFundCents;
    assert.equal(Number(q5.restitutionCents), common);
    assert.equal((await quotaRow(g, 18)).status, 'contemplated', 'a contemplated quota is never excluded');
    assert.equal((await quotaRow(g, 7)).status, 'active', 'one missed installment: late, not excluded');

    // 7 is late on the extraction date: the first candidate that is an eligible quota is 12.
    // Among excluded quotas [5], radial from 7: 7, 8, 6, 9, 5.
    const r = published.result!;
    assert.equal(r.draw.quota, 12);
    assert.deepEqual(r.excludedDraws.map((d) => d.quota), [5]);
    assert.deepEqual(outcome.contemplated, [12, 5]);
    const row = await assemblyRow(g);
    assert.equal(row.record.inputs.quotas.find((q: { number: number }) => q.number === 5).status, 'excluded');
    assert.deepEqual(verifyAssemblyRecord(row.record).problems, []);
    assert.equal(verifyAssemblyRecord(row.record).sha256, row.recordSha256);
    assert.ok((await quotaRow(g, 5)).restitutedAt);
    await until('exclusion notice', async () => templatesTo(stack, g.quota(5).waId).includes('consorcio_cota_excluida'), 30_000);

    await recordHistory(stack, handle.workflowId, 'assembly-exclusion-automation');

    // Started again: returns at once, the row untouched.
    const again = await startAssembly(stack, g, MONTH, { biddingWindowMs: 1_500 });
    const second: AssemblyOutcome = await again.result();
    assert.equal(second.alreadyClosed, true);
    assert.equal(second.recordSha256, row.recordSha256);
    const after = await assemblyRow(g);
    assert.deepEqual([after.status, after.recordSha256, new Date(after.updatedAt).getTime()], [row.status, row.recordSha256, new Date(row.updatedAt).getTime()]);
  });

  it('continues as new during bidding and keeps every bid', async () => {
    const g = await seedGroup(stack, t.tenantId, { quotaCount: 20 });
    await seedFund(stack, g, 5_000_000);
    const handle = await startAssembly(stack, g, MONTH, { biddingWindowMs: 15_000, maxHistoryEvents: 25 });
    for (const [n, p] of [[1, 20], [2, 25], [3, 10], [4, 15], [1, 30]] as const) {
      await handle.executeUpdate(placeBidUpdate, { args: [{ quotaId: g.quota(n).id, type: 'embutido', percent: p, actor: SYSTEM }] });
    }
    // Once the members were told (the announcement belongs to the first run), the long history
    // continues as new, still taking bids.
    await until('continued as new', async () => (await handle.describe()).runId !== handle.firstExecutionRunId, 7_000);
    const v = await assemblyView(stack, g, MONTH);
    assert.equal(v.status, 'bidding');
    assert.deepEqual(v.bids.map((b) => [b.quota, b.percent]), [[1, 30], [2, 25], [3, 10], [4, 15]]);
    const closed = await until('awaiting the result', async () => {
      const x = await assemblyView(stack, g, MONTH);
      return x.status === 'awaiting_result' ? x : null;
    }, 30_000);
    await handle.executeUpdate(enterLotteryResultUpdate, { args: [{ ...lotteryFor(closed.extractionDate), source: 'automation', publish: true }] });
    const outcome: AssemblyOutcome = await assemblyHandle(stack, g, MONTH).result();
    // Drawn 7; embutido bids are confirmed at once: 30 % and 25 % win.
    assert.deepEqual(outcome.contemplated, [7, 1, 2]);
    const row = await assemblyRow(g);
    assert.deepEqual(row.record.inputs.bids.map((b: { quota: number }) => b.quota), [1, 2, 3, 4]);
    assert.deepEqual(verifyAssemblyRecord(row.record).problems, []);
    const q1 = await quotaRow(g, 1);
    assert.equal(Number(q1.creditReleasedCents), 700_000, 'an embutido bid comes out of the credit');
    assert.ok(q1.installmentCount < 50, 'and is applied to the plan at once');
  });

  it('openMonthlyAssembly issues the month\'s installments with their dunning and starts the month\'s assembly once', async () => {
    const g = await seedGroup(stack, t.tenantId, { quotaCount: 4, firstAssemblyMonth: '2026-12' });
    await setQuotaStatus(stack, g, 4, 'excluded');
    // Bidding for December (assembly Monday 21st) opens on the 11th.
    const input = { tenantId: t.tenantId, groupId: g.group.id, options: { asOf: '2026-12-15T12:00:00.000Z', assembly: { biddingWindowMs: 60_000 } } };
    const run = async (suffix: string) => {
      const start = openMonthlyAssemblyStart(input);
      const h = await stack.deps.temporal.client.workflow.start(start.workflowType, { ...startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }), workflowId: `${assemblyScheduleId(t.tenantId, g.group.id)}-${suffix}` });
      return { handle: h, result: await h.result() };
    };
    const first = await run('1');
    assert.deepEqual(first.result, { workflowId: `assembly:${t.tenantId}:${g.group.id}:2026-12`, month: '2026-12', started: true });
    const installments = await rowsOf(stack, t.tenantId, 'consortium_installments', { groupId: g.group.id });
    assert.deepEqual(installments.map((i) => i.month), ['2026-12', '2026-12', '2026-12'], 'the excluded quota is not billed');
    const invoices = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('invoices').whereIn('id', installments.map((i) => i.invoiceId)));
    assert.ok(invoices.every((i) => i.dueDate instanceof Date ? i.dueDate.getDate() === 10 : String(i.dueDate).endsWith('-10')));
    for (const i of installments) {
      const d = await stack.deps.temporal.client.workflow.getHandle(dunningWorkflowId(t.tenantId, i.invoiceId)).describe();
      assert.equal(d.type, 'dunning');
    }
    const child = await stack.deps.temporal.client.workflow.getHandle(first.result.workflowId!).describe();
    assert.equal(child.type, 'assembly');

    const second = await run('2');
    assert.deepEqual(second.result, { workflowId: first.result.workflowId, month: '2026-12', started: false });
    assert.equal((await rowsOf(stack, t.tenantId, 'consortium_installments', { groupId: g.group.id })).length, 3);

    // Before the window opens: nothing to do.
    const early = openMonthlyAssemblyStart({ ...input, options: { asOf: '2026-12-02T12:00:00.000Z' } });
    const none = await stack.deps.temporal.client.workflow.execute(early.workflowType, { ...startOptions(early, { main: stack.config.TEMPORAL_TASK_QUEUE }), workflowId: `${assemblyScheduleId(t.tenantId, g.group.id)}-3` });
    assert.deepEqual(none, { workflowId: null, month: '', started: false });

    await recordHistory(stack, first.handle.workflowId, 'open-monthly-assembly-started');
    // The runs it started would go on for days of real time: the test ends them (once the
    // assembly's announcement is out).
    await until('announced', async () => [1, 2, 3].every((n) => templatesTo(stack, g.quota(n).waId).includes('consorcio_assembleia_aberta')), 30_000);
    assert.deepEqual(templatesTo(stack, g.quota(4).waId), []);
    await stack.deps.temporal.client.workflow.getHandle(first.result.workflowId!).terminate('test over');
    for (const i of installments) await stack.deps.temporal.client.workflow.getHandle(dunningWorkflowId(t.tenantId, i.invoiceId)).terminate('test over');
  });
});
