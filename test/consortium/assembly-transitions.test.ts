import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LotteryEntry } from '../../domain/assembly-record';
import { ASSEMBLY_REFUSALS, type LiveBid } from '../../workflows/assembly/definitions';
import * as rules from '../../workflows/assembly/transitions';

// The assembly run's pure decisions, table by table: what is refused and with which pt-BR text,
// how a bid replaces the quota's previous one, how a second lottery entry becomes an audited
// correction, and which status a result leaves.

const TZ = 'America/Sao_Paulo';
const actor = { type: 'system' as const, id: null };
const bid = (quota: number, percent: number, bidId = `b-${quota}-${percent}`): LiveBid => ({
  bidId, quotaId: `q-${quota}`, quota, type: 'livre', percent, amountCents: percent * 10_000, placedAt: '2026-12-10T12:00:00.000Z', actor,
});
const entry = (prizes: string[]): LotteryEntry => ({ contest: '06050', drawDate: '2026-12-19', prizes, source: 'operator', actor, at: '2026-12-19T23:00:00.000Z' });
const PRIZES = ['12007', '34012', '56003', '78015', '90018'];

describe('assembly transitions', () => {
  it('refuses bids after the deadline with the deadline in the tenant calendar', () => {
    const closesAt = '2026-12-20T03:00:00.000Z'; // 00:00 on the 20th in São Paulo
    const table: [string, Parameters<typeof rules.biddingClosedRefusal>[0], number, string | null][] = [
      ['open, before the deadline', 'bidding', Date.parse(closesAt) - 1, null],
      ['open, at the deadline', 'bidding', Date.parse(closesAt), 'O prazo de lances desta assembleia terminou em 20/12/2026 às 00:00.'],
      ['awaiting the result', 'awaiting_result', Date.parse(closesAt) - 60_000, 'O prazo de lances desta assembleia terminou em 20/12/2026 às 00:00.'],
      ['closed', 'closed', 0, 'O prazo de lances desta assembleia terminou em 20/12/2026 às 00:00.'],
    ];
    for (const [name, status, now, message] of table) {
      const r = rules.biddingClosedRefusal(status, now, closesAt, TZ);
      assert.deepEqual(r, message === null ? null : { type: ASSEMBLY_REFUSALS.biddingClosed, message }, name);
    }
    assert.equal(rules.localDeadline('2026-12-18T21:59:00.000Z', 'America/Manaus'), '18/12/2026 às 17:59');
  });

  it('maps checkBid refusals to their types', () => {
    assert.equal(rules.bidCheckRefusal({ ok: true, percent: 10, amountCents: 100 }), null);
    assert.deepEqual(rules.bidCheckRefusal({ ok: false, code: 'quota_not_eligible', reason: 'A cota 3 tem parcelas em atraso; regularize para ofertar lance.' }), {
      type: ASSEMBLY_REFUSALS.quotaNotEligible, message: 'A cota 3 tem parcelas em atraso; regularize para ofertar lance.',
    });
    assert.equal(rules.bidCheckRefusal({ ok: false, code: 'invalid_bid', reason: 'x' })?.type, ASSEMBLY_REFUSALS.invalidBid);
  });

  it('keeps one live bid per quota: a new one replaces the old; withdrawing needs a bid', () => {
    const start = [bid(4, 30), bid(10, 30)];
    const r = rules.replaceBid(start, bid(10, 40));
    assert.deepEqual(r.bids.map((b) => [b.quota, b.percent]), [[4, 30], [10, 40]]);
    assert.equal(r.replaced?.bidId, 'b-10-30');
    const fresh = rules.replaceBid(start, bid(2, 15));
    assert.equal(fresh.replaced, null);
    assert.deepEqual(fresh.bids.map((b) => b.quota), [2, 4, 10]);
    const w = rules.withdrawBid(start, 'q-4');
    assert.ok(!('type' in w));
    assert.deepEqual([w.withdrawn.bidId, w.bids.map((b) => b.quota)], ['b-4-30', [10]]);
    assert.deepEqual(rules.withdrawBid(start, 'q-7'), { type: ASSEMBLY_REFUSALS.noBid, message: 'Esta cota não tem lance ativo nesta assembleia.' });
  });

  it('checks lottery entries: after bidding, the right extraction, five 5-digit prizes, a reason for a correction, none once published', () => {
    const base: rules.LotteryState = { status: 'awaiting_result', published: false, extractionDate: '2026-12-19', lottery: null };
    const ok = { drawDate: '2026-12-19', prizes: PRIZES };
    const table: [string, rules.LotteryState, Parameters<typeof rules.lotteryRefusal>[1], string | null][] = [
      ['first entry', base, ok, null],
      ['during bidding', { ...base, status: 'bidding' }, ok, ASSEMBLY_REFUSALS.notReady],
      ['another extraction', base, { ...ok, drawDate: '2026-12-16' }, ASSEMBLY_REFUSALS.lotteryInvalid],
      ['four prizes', base, { ...ok, prizes: PRIZES.slice(0, 4) }, ASSEMBLY_REFUSALS.lotteryInvalid],
      ['a 4-digit prize', base, { ...ok, prizes: ['1200', ...PRIZES.slice(1)] }, ASSEMBLY_REFUSALS.lotteryInvalid],
      ['correction without a reason', { ...base, lottery: entry(PRIZES) }, ok, ASSEMBLY_REFUSALS.lotteryInvalid],
      ['correction with a blank reason', { ...base, lottery: entry(PRIZES) }, { ...ok, reason: '  ' }, ASSEMBLY_REFUSALS.lotteryInvalid],
      ['correction with a reason', { ...base, lottery: entry(PRIZES) }, { ...ok, reason: 'Prêmio trocado.' }, null],
      ['published', { ...base, published: true, lottery: entry(PRIZES) }, { ...ok, reason: 'Prêmio trocado.' }, ASSEMBLY_REFUSALS.alreadyPublished],
      ['confirming bids', { ...base, status: 'confirming_bids', lottery: entry(PRIZES) }, { ...ok, reason: 'x y z' }, ASSEMBLY_REFUSALS.alreadyPublished],
    ];
    for (const [name, state, req, type] of table) assert.equal(rules.lotteryRefusal(state, req)?.type ?? null, type, name);
    assert.equal(
      rules.lotteryRefusal(base, { ...ok, drawDate: '2026-12-16' })?.message,
      'Esta assembleia usa a extração da Loteria Federal de 19/12/2026; o resultado informado é de 16/12/2026.',
    );
  });

  it('turns a second entry into a correction that keeps who, when, before, after and why', () => {
    const first = rules.enterLottery(null, [], entry(['00000', ...PRIZES.slice(1)]), null);
    assert.deepEqual(first.corrections, []);
    const fixed = entry(PRIZES);
    const second = rules.enterLottery(first.lottery, first.corrections, fixed, ' Primeiro prêmio digitado errado. ');
    assert.equal(second.lottery, fixed);
    assert.deepEqual(second.corrections, [{ previous: first.lottery, next: fixed, reason: 'Primeiro prêmio digitado errado.' }]);
  });

  it('publishes only with a result, once; confirms only pending bids; closes once every bid is settled', () => {
    assert.equal(rules.publishRefusal({ published: false, lottery: null, status: 'awaiting_result' })?.type, ASSEMBLY_REFUSALS.notReady);
    assert.equal(rules.publishRefusal({ published: false, lottery: entry(PRIZES), status: 'bidding' })?.type, ASSEMBLY_REFUSALS.notReady);
    assert.equal(rules.publishRefusal({ published: false, lottery: entry(PRIZES), status: 'awaiting_result' }), null);
    assert.equal(rules.publishRefusal({ published: true, lottery: entry(PRIZES), status: 'awaiting_result' })?.type, ASSEMBLY_REFUSALS.alreadyPublished);
    assert.equal(rules.bidPaymentRefusal([{ bidId: 'a' }], 'a'), null);
    assert.equal(rules.bidPaymentRefusal([{ bidId: 'a' }], 'b')?.type, ASSEMBLY_REFUSALS.unknownBid);
    assert.equal(rules.statusAfterResult({ complete: true }), 'closed');
    assert.equal(rules.statusAfterResult({ complete: false }), 'confirming_bids');
    const pending = [{ bidId: 'a', dueAt: '2026-12-22T03:00:00.000Z' }, { bidId: 'b', dueAt: '2026-12-23T03:00:00.000Z' }];
    assert.deepEqual(rules.overdueBids(pending, Date.parse('2026-12-22T03:00:00.000Z'), new Set()), ['a']);
    assert.deepEqual(rules.overdueBids(pending, Date.parse('2026-12-24T00:00:00.000Z'), new Set(['a'])), ['b']);
  });
});
