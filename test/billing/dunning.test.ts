import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { addCalendarDays } from '../../domain/late-charges';
import type { Activities } from '../../activities';
import { cancelInvoiceUpdate, dunningReopenStart, promiseToPayUpdate, renegotiateUpdate, DUNNING_REFUSALS } from '../../workflows/dunning';
import { startOptions } from '../../workflows/workflow-start';
import { recordHistory } from '../support/histories';
import { liveEvents } from '../support/live-events';
import { startStack, type TestStack } from '../support/stack';
import { until, type WhatsAppTenant } from '../support/whatsapp';
import {
  billingTenant,
  businessDueDate,
  COLLECTION_TEMPLATES,
  collectionSent,
  CREDITOR_LINE,
  DAY_MS,
  debtor,
  eventsOf,
  handleOf,
  invoiceRow,
  newInvoice,
  paramsOf,
  pay,
  SCHEDULE,
  startDunning,
  todayIn,
  untilDelivered,
  untilDone,
  untilStage,
  viewOf,
} from './dunning-support';

// Dunning end to end on the real stack: invoices written as every creation path writes them,
// the run on the dev server with a 1.5 s day, messages through the conversation's send path to
// the WhatsApp sandbox, payments recorded as the gateway would record them. The gateway itself
// is a stand-in that writes the invoice's current charge (its link is what the notices carry).

const SYSTEM = { type: 'user' as const, id: null };
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dunning', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  const chargeCalls: string[] = [];
  const live = liveEvents(() => stack);

  before(async () => {
    const overrides: Partial<Activities> = {
      async ensureInvoiceCharge(a: { tenantId: string; invoiceId: string }) {
        chargeCalls.push(a.invoiceId);
        const url = `https://pagar.test/i/${a.invoiceId}/${chargeCalls.filter((x) => x === a.invoiceId).length}`;
        await withTenant(stack.deps.knex, a.tenantId, async (trx) => {
          await trx('gateway_charges').where({ invoiceId: a.invoiceId, current: true }).update({ current: false });
          await trx('gateway_charges').insert({ id: crypto.randomUUID(), tenantId: a.tenantId, invoiceId: a.invoiceId, provider: 'asaas', externalId: `pay_${crypto.randomUUID()}`, valueCents: 1, dueDate: '2030-01-01', invoiceUrl: url, current: true });
        });
        return { chargeId: 'c', externalId: 'e', invoiceUrl: url, boletoLine: null, pixPayload: null, valueCents: 1, dueDate: '2030-01-01' };
      },
    };
    stack = await startStack({ activityOverrides: overrides });
    t = await billingTenant(stack);
  });
  after(async () => {
    live.close();
    await stack.stop();
  });

  it('walks every stage: reminder, due date, overdue and notices, collectors, final notice, consequence; a payment ends it and lifts the mark', async () => {
    const D = businessDueDate();
    const { contactId, waId } = await debtor(stack, t.tenantId);
    const bystander = await debtor(stack, t.tenantId, { name: 'Vizinha Qualquer' });
    const dash = await live.connect(t.admin.token);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: D });
    await startDunning(stack, t.tenantId, inv.id);

    const v = await untilStage(stack, t.tenantId, inv.id, 'exhausted', 40_000);
    assert.equal(v.nextAction?.kind, 'await_payment');
    const sent = await untilDelivered(stack, t.tenantId, inv.id, waId);
    assert.deepEqual(sent.map((m) => m.templateName), ['cobranca_lembrete', 'cobranca_vencimento', 'cobranca_atraso', 'cobranca_atraso', 'cobranca_aviso_final']);
    // R$ 1.000,00, 2 % fine, 1 % a month: D+1 1.000,00 + 20,00 + 0,33 (1.000,00 × 1 % ÷ 30,
    // truncated to the centavo); D+3 + 1,00; D+5 + 1,66.
    const dd = D.split('-').reverse().join('/');
    const expected = ['R$ 1.000,00', 'R$ 1.000,00', 'R$ 1.020,33', 'R$ 1.021,00', 'R$ 1.021,66'];
    sent.forEach((m, i) => {
      const p = paramsOf(m);
      assert.equal(p[0], 'Ana Devedora');
      assert.equal(p[1], String(inv.number));
      assert.equal(p[2], expected[i], `${m.templateName} #${i}`);
      assert.equal(p[3], dd);
      assert.match(p[4]!, new RegExp(`^https://pagar.test/i/${inv.id}/`));
      assert.equal(p[5], CREDITOR_LINE);
    });
    // Never anyone but the debtor.
    assert.deepEqual(stack.graph.sentTo(bystander.waId), []);

    const row = await invoiceRow(stack, t.tenantId, inv.id);
    assert.equal(row.status, 'overdue');
    assert.ok(row.overdueAt);
    assert.equal(row.dunningStage, 'exhausted');
    const events = await eventsOf(stack, t.tenantId, inv.id);
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.stepKey}`),
      ['started:started', 'reminder_sent:reminder:-2', 'reminder_sent:due', 'overdue:overdue', 'notice_sent:notice:+1', 'notice_sent:notice:+3', 'escalated:escalate', 'final_notice_sent:final_notice', 'consequence_applied:consequence', 'exhausted:exhausted'],
    );
    const item = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('collection_items').where({ invoiceId: inv.id }).first());
    assert.equal(item.status, 'open');
    assert.equal(Number(item.amountDueCents), 102_133); // D+4: 1.000,00 + 20,00 + 1,33
    assert.equal(item.daysLate, 4);
    await until('collection live event', async () => dash.events.find((e) => e.name === 'collection:updated' && e.payload.invoiceId === inv.id));
    assert.ok(dash.events.some((e) => e.name === 'invoice:updated' && e.payload.invoiceId === inv.id && e.payload.dunningStage === 'exhausted'));
    const marked = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: contactId }).first());
    assert.ok(marked.delinquentSince, 'the debtor is marked delinquent');

    // Paid in full: the run ends, the mark is lifted, the queue item resolved, a confirmation sent.
    await pay(stack, t.tenantId, inv.id, 102_200, v.today, { settles: true });
    assert.equal(await handleOf(stack, t.tenantId, inv.id).result(), 'paid');
    const after = await withTenant(stack.deps.knex, t.tenantId, async (trx) => ({
      contact: await trx('contacts').where({ id: contactId }).first(),
      item: await trx('collection_items').where({ invoiceId: inv.id }).first(),
      consequence: await trx('dunning_consequences').where({ invoiceId: inv.id }).first(),
    }));
    assert.equal(after.contact.delinquentSince, null);
    assert.equal(after.item.status, 'resolved');
    assert.equal(after.item.outcome, 'paid');
    assert.equal(after.consequence.kind, 'mark_delinquent');
    assert.ok(after.consequence.liftedAt);
    const last = collectionSent(stack, waId).at(-1)!;
    assert.equal(last.templateName, 'cobranca_pagamento_confirmado');
    assert.equal((await invoiceRow(stack, t.tenantId, inv.id)).dunningStage, 'paid');
    await recordHistory(stack, inv.workflowId, 'dunning-every-stage-paid');
  });

  it('a full payment in the middle of each stage stops it at once', async () => {
    const stages = ['upcoming', 'due', 'overdue', 'escalated', 'final_notice', 'exhausted'] as const;
    await Promise.all(
      stages.map(async (stage) => {
        const { contactId, waId } = await debtor(stack, t.tenantId);
        const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
        await startDunning(stack, t.tenantId, inv.id);
        const v = await untilStage(stack, t.tenantId, inv.id, stage, 40_000);
        await pay(stack, t.tenantId, inv.id, v.amountDueToday.totalCents, v.today, { settles: true });
        assert.equal(await handleOf(stack, t.tenantId, inv.id).result(), 'paid', stage);
        const before = collectionSent(stack, waId).filter((m) => COLLECTION_TEMPLATES.includes(m.templateName!)).length;
        await sleepMs(3 * DAY_MS);
        const after = collectionSent(stack, waId);
        assert.equal(after.filter((m) => COLLECTION_TEMPLATES.includes(m.templateName!)).length, before, `${stage}: nothing more after the payment`);
        assert.equal(after.at(-1)?.templateName, 'cobranca_pagamento_confirmado', stage);
        const row = await invoiceRow(stack, t.tenantId, inv.id);
        assert.equal(row.dunningStage, 'paid', stage);
        const open = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('collection_items').where({ invoiceId: inv.id }).whereNot({ status: 'resolved' }));
        assert.deepEqual(open, [], stage);
      }),
    );
  });

  it('a partial payment: the run goes on, the next notice shows the lower amount and a new link', async () => {
    const D = businessDueDate();
    const { contactId, waId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: D });
    await startDunning(stack, t.tenantId, inv.id);
    const v = await untilDone(stack, t.tenantId, inv.id, 'reminder:-2');
    const calls = chargeCalls.filter((x) => x === inv.id).length;
    await pay(stack, t.tenantId, inv.id, 40_000, v.today, { settles: false });
    await untilDone(stack, t.tenantId, inv.id, 'notice:+1', 20_000);
    assert.ok(chargeCalls.filter((x) => x === inv.id).length > calls, 'the charge is renewed for what is left');
    const notice = await until('the D+1 notice', async () => collectionSent(stack, waId).find((m) => m.templateName === 'cobranca_atraso'));
    // 600,00 left before the due date: D+1 600,00 + 12,00 fine + 0,20 interest (600,00 × 1 % ÷ 30).
    assert.equal(paramsOf(notice)[2], 'R$ 612,20');
    assert.equal(paramsOf(notice)[4], `https://pagar.test/i/${inv.id}/${calls + 1}`);
    const events = await eventsOf(stack, t.tenantId, inv.id);
    assert.ok(events.some((e) => e.type === 'payment'));
    const view = await handleOf(stack, t.tenantId, inv.id).executeUpdate(cancelInvoiceUpdate, { args: [{ actor: SYSTEM, reason: 'teste' }] });
    assert.equal(view.stage, 'cancelled');
    assert.equal(await handleOf(stack, t.tenantId, inv.id).result(), 'cancelled');
    assert.equal((await invoiceRow(stack, t.tenantId, inv.id)).status, 'cancelled');
    await recordHistory(stack, inv.workflowId, 'dunning-partial-cancelled');
  });

  it('a broken promise pauses everything until the promised day, then resumes; a kept one ends it', async () => {
    const D = businessDueDate();
    const { contactId, waId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: D });
    // Days of 3 s: the refusals and the promise must land before notice:+3, two days after
    // notice:+1, even on a loaded box (with 1.5 s days it sometimes went out first).
    await startDunning(stack, t.tenantId, inv.id, { dayMs: DAY_MS * 2 });
    const at = await untilDone(stack, t.tenantId, inv.id, 'notice:+1', 30_000);
    const h = handleOf(stack, t.tenantId, inv.id);
    // Refused: in the past, too far ahead.
    await assert.rejects(h.executeUpdate(promiseToPayUpdate, { args: [{ promisedDate: addCalendarDays(at.today, -1), actor: SYSTEM }] }), (e: any) => e.cause?.type === DUNNING_REFUSALS.invalidPromise);
    await assert.rejects(h.executeUpdate(promiseToPayUpdate, { args: [{ promisedDate: addCalendarDays(at.today, 11), actor: SYSTEM }] }), (e: any) => e.cause?.type === DUNNING_REFUSALS.invalidPromise);
    const promised = await h.executeUpdate(promiseToPayUpdate, { args: [{ promisedDate: addCalendarDays(at.today, 2), actor: SYSTEM }] });
    assert.equal(promised.stage, 'promised');
    assert.equal(promised.waitingFor, 'promise');
    const sentAtPromise = (await untilDelivered(stack, t.tenantId, inv.id, waId)).length;
    // notice:+3 and the escalation fall inside the promise: nothing happens until it is broken.
    // Read what the Graph server holds before the events: a count read while the promise still
    // stands cannot include the resumed notice.
    let sentDuringPromise = sentAtPromise;
    await until('promise broken', async () => {
      const sentNow = collectionSent(stack, waId).length;
      const broken = (await eventsOf(stack, t.tenantId, inv.id)).some((e) => e.type === 'promise_broken');
      if (!broken) sentDuringPromise = sentNow;
      return broken;
    }, 20_000);
    const events = await eventsOf(stack, t.tenantId, inv.id);
    const brokenAt = events.findIndex((e) => e.type === 'promise_broken');
    assert.ok(events.slice(events.findIndex((e) => e.type === 'promise_made'), brokenAt).every((e) => e.type === 'promise_made'), 'nothing during the promise');
    assert.equal(sentDuringPromise, sentAtPromise);
    // Resumed on D+4: the one passed notice (D+3) goes out with today's amount, then the collectors.
    const resumed = await untilDone(stack, t.tenantId, inv.id, 'escalate', 20_000);
    const notice = await until('the resumed notice', async () => collectionSent(stack, waId)[sentAtPromise]);
    assert.equal(notice.templateName, 'cobranca_atraso');
    assert.equal(paramsOf(notice)[2], 'R$ 1.021,33'); // D+4: 1.000,00 + 20,00 + 1,33
    // A second promise, kept: paid before the date.
    await h.executeUpdate(promiseToPayUpdate, { args: [{ promisedDate: addCalendarDays(resumed.today, 3), actor: SYSTEM }] });
    await pay(stack, t.tenantId, inv.id, 102_200, resumed.today, { settles: true });
    assert.equal(await h.result(), 'paid');
    assert.ok((await eventsOf(stack, t.tenantId, inv.id)).some((e) => e.type === 'promise_kept'));
    await recordHistory(stack, inv.workflowId, 'dunning-promise-broken-kept');
  });

  it('a renegotiation replaces the invoice with new ones, each with its own run', async () => {
    const { contactId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, t.tenantId, inv.id);
    const v = await untilStage(stack, t.tenantId, inv.id, 'overdue', 30_000);
    const h = handleOf(stack, t.tenantId, inv.id);
    await assert.rejects(h.executeUpdate(renegotiateUpdate, { args: [{ actor: SYSTEM, installments: [] }] }), (e: any) => e.cause?.type === DUNNING_REFUSALS.invalidRenegotiation);
    const installments = [
      { dueDate: addCalendarDays(todayIn(), 20), amountCents: 51_000 },
      { dueDate: addCalendarDays(todayIn(), 50), amountCents: 51_000 },
    ];
    assert.ok(v.today <= installments[0]!.dueDate);
    const r = await h.executeUpdate(renegotiateUpdate, { args: [{ actor: SYSTEM, installments }] });
    assert.equal(r.invoiceIds.length, 2);
    assert.equal(await h.result(), 'renegotiated');
    assert.equal((await invoiceRow(stack, t.tenantId, inv.id)).status, 'renegotiated');
    for (const [i, id] of r.invoiceIds.entries()) {
      const row = await invoiceRow(stack, t.tenantId, id);
      assert.equal(row.renegotiatedFrom, inv.id);
      assert.equal(Number(row.amountCents), installments[i]!.amountCents);
      assert.equal(row.contactId, contactId);
      const nv = await until('new run', async () => viewOf(stack, t.tenantId, id).catch(() => null));
      assert.equal(nv.stage, 'upcoming');
      assert.equal((await handleOf(stack, t.tenantId, id).describe()).status.name, 'RUNNING');
      await handleOf(stack, t.tenantId, id).executeUpdate(cancelInvoiceUpdate, { args: [{ actor: SYSTEM }] });
    }
    // Settled: a second renegotiation or a cancellation is refused by the ended run.
    await recordHistory(stack, inv.workflowId, 'dunning-renegotiated');
  });

  it('the tenant’s consequence: a subscription’s service suspended (and back on payment) across continue-as-new; a consortium quota counted toward exclusion', async () => {
    const suspend = await billingTenant(stack, { dunning: { ...SCHEDULE, consequence: 'suspend_service' } });
    const exclusion = await billingTenant(stack, { dunning: { ...SCHEDULE, consequence: 'count_toward_exclusion' } });
    const D = businessDueDate();
    const a = await debtor(stack, suspend.tenantId);
    const subscriptionId = crypto.randomUUID();
    await withTenant(stack.deps.knex, suspend.tenantId, async (trx) =>
      trx('subscriptions').insert({
        id: subscriptionId, tenantId: suspend.tenantId, contactId: a.contactId, description: 'Internet 300 MB', amountCents: 100_000, cycle: 'MONTHLY', billingType: 'PIX',
        finePercent: 2, monthlyInterestPercent: 1, firstDueDate: D, nextDueDate: addCalendarDays(D, 30), scheduleId: `subscription:${subscriptionId}`,
      }),
    );
    const subInvoice = await newInvoice(stack, suspend.tenantId, a.contactId, { dueDate: D, subscriptionId });
    const first = await startDunning(stack, suspend.tenantId, subInvoice.id, { dayMs: DAY_MS, maxHistoryEvents: 60 });
    const b = await debtor(stack, exclusion.tenantId);
    const quotaId = crypto.randomUUID();
    const quotaInvoice = await newInvoice(stack, exclusion.tenantId, b.contactId, { dueDate: D, origin: 'consortium_quota', originId: quotaId });
    await startDunning(stack, exclusion.tenantId, quotaInvoice.id);

    const v = await untilStage(stack, suspend.tenantId, subInvoice.id, 'exhausted', 40_000);
    const h = handleOf(stack, suspend.tenantId, subInvoice.id);
    assert.notEqual((await h.describe()).runId, first.firstExecutionRunId, 'the run continued as new');
    // Every step once, whatever run carried it out.
    const events = await eventsOf(stack, suspend.tenantId, subInvoice.id);
    assert.equal(events.filter((e) => e.type === 'started').length, 1);
    assert.equal(collectionSent(stack, a.waId).length, 5);
    const sub = () => withTenant(stack.deps.knex, suspend.tenantId, async (trx) => trx('subscriptions').where({ id: subscriptionId }).first());
    assert.equal((await sub()).serviceSuspended, true);
    await pay(stack, suspend.tenantId, subInvoice.id, 102_200, v.today, { settles: true });
    assert.equal(await h.result(), 'paid');
    assert.equal((await sub()).serviceSuspended, false);

    await untilStage(stack, exclusion.tenantId, quotaInvoice.id, 'exhausted', 20_000);
    const mark = await withTenant(stack.deps.knex, exclusion.tenantId, async (trx) => trx('dunning_consequences').where({ invoiceId: quotaInvoice.id }).first());
    assert.equal(mark.kind, 'count_toward_exclusion');
    assert.equal(mark.targetType, 'consortium_quota');
    assert.equal(mark.targetId, quotaId);
    assert.equal(mark.liftedAt, null);
    await handleOf(stack, exclusion.tenantId, quotaInvoice.id).executeUpdate(cancelInvoiceUpdate, { args: [{ actor: SYSTEM, reason: 'fim do teste' }] });
    await recordHistory(stack, subInvoice.workflowId, 'dunning-continued-suspended-paid');
  });

  it('a refund reopens a paid invoice: a new run under the same id, catching up without repeating what was sent', async () => {
    const { contactId, waId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, t.tenantId, inv.id);
    const v = await untilDone(stack, t.tenantId, inv.id, 'reminder:-2');
    await pay(stack, t.tenantId, inv.id, 100_000, v.today, { settles: true });
    assert.equal(await handleOf(stack, t.tenantId, inv.id).result(), 'paid');
    const sentBefore = collectionSent(stack, waId).filter((m) => COLLECTION_TEMPLATES.includes(m.templateName!)).length;
    // The gateway records the refund and reopens the invoice, then starts the run again.
    const refundId = crypto.randomUUID();
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      await trx('payments').insert({ id: refundId, tenantId: t.tenantId, invoiceId: inv.id, kind: 'refund', amountCents: 100_000, paidOn: v.today, method: 'pix', source: 'manual' });
      await trx('invoices').where({ id: inv.id }).update({ status: 'open', paidCents: 0, paidAt: null });
    });
    const start = dunningReopenStart(t.tenantId, inv.id, refundId, { dayMs: DAY_MS });
    await stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
    await untilDone(stack, t.tenantId, inv.id, 'due', 20_000);
    const events = await eventsOf(stack, t.tenantId, inv.id);
    assert.ok(events.some((e) => e.type === 'reopened' && e.stepKey === `reopened:${refundId}`));
    assert.equal(events.filter((e) => e.type === 'started').length, 1, 'not announced again');
    // The reminder already sent is not repeated; the due-date one is new.
    const after = collectionSent(stack, waId).filter((m) => COLLECTION_TEMPLATES.includes(m.templateName!));
    assert.deepEqual(after.slice(sentBefore).map((m) => m.templateName), ['cobranca_vencimento']);
    const again = await viewOf(stack, t.tenantId, inv.id);
    await pay(stack, t.tenantId, inv.id, 100_000, again.today, { settles: true });
    assert.equal(await handleOf(stack, t.tenantId, inv.id).result(), 'paid');
    assert.ok((await eventsOf(stack, t.tenantId, inv.id)).some((e) => e.stepKey === `paid:${refundId}`));
    await recordHistory(stack, inv.workflowId, 'dunning-reopened-by-refund');
  });

  it('do-not-contact: nothing sent, the step recorded as skipped', async () => {
    const { contactId, waId } = await debtor(stack, t.tenantId, { doNotContact: true });
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, t.tenantId, inv.id);
    await untilDone(stack, t.tenantId, inv.id, 'reminder:-2');
    const e = (await eventsOf(stack, t.tenantId, inv.id)).find((x) => x.stepKey === 'reminder:-2');
    assert.equal(e.type, 'message_skipped');
    assert.equal(e.data.reason, 'do_not_contact');
    assert.deepEqual(stack.graph.sentTo(waId), []);
    await handleOf(stack, t.tenantId, inv.id).executeUpdate(cancelInvoiceUpdate, { args: [{ actor: SYSTEM }] });
  });

  it('no creditor configured: no collection message (CDC art. 42-A)', async () => {
    const bare = await billingTenant(stack, { creditor: { legalName: null, taxId: null, address: null } });
    const { contactId, waId } = await debtor(stack, bare.tenantId);
    const inv = await newInvoice(stack, bare.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, bare.tenantId, inv.id);
    await untilDone(stack, bare.tenantId, inv.id, 'reminder:-2');
    const e = (await eventsOf(stack, bare.tenantId, inv.id)).find((x) => x.stepKey === 'reminder:-2');
    assert.equal(e.type, 'message_skipped');
    assert.equal(e.data.reason, 'creditor_missing');
    assert.deepEqual(stack.graph.sentTo(waId), []);
    await handleOf(stack, bare.tenantId, inv.id).executeUpdate(cancelInvoiceUpdate, { args: [{ actor: SYSTEM }] });
  });

  it('quiet hours: outside the collection window nothing goes out, the view waits for the opening', async () => {
    // A zone where it is about 01:00 now; the window opens at 12:00 every day.
    const offset = ((1 - new Date().getUTCHours() + 36) % 24) - 12;
    const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const hours = Object.fromEntries(['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((d) => [d, { open: '12:00', close: '13:00' }]));
    const quiet = await billingTenant(stack, { collectionWindow: { preset: 'custom', hours: hours as any, observeNationalHolidays: false } }, { timeZone: zone });
    const { contactId, waId } = await debtor(stack, quiet.tenantId);
    const inv = await newInvoice(stack, quiet.tenantId, contactId, { dueDate: businessDueDate(todayIn(zone)) });
    await startDunning(stack, quiet.tenantId, inv.id);
    const v = await until('waiting for the window', async () => {
      const x = await viewOf(stack, quiet.tenantId, inv.id);
      return x.waitingFor === 'collection_window' ? x : null;
    });
    const { zonedTimeToUtc } = await import('../../domain/calendar');
    assert.equal(v.nextAction?.dueAt, zonedTimeToUtc(todayIn(zone), 12 * 60, zone).toISOString());
    // The messages wait for the window; the overdue mark does not.
    await untilDone(stack, quiet.tenantId, inv.id, 'overdue', 20_000);
    assert.deepEqual(stack.graph.sentTo(waId), []);
    assert.equal((await invoiceRow(stack, quiet.tenantId, inv.id)).status, 'overdue');
    const events = await eventsOf(stack, quiet.tenantId, inv.id);
    assert.ok(events.some((e) => e.type === 'window_wait'));
    assert.ok(!events.some((e) => /_sent$/.test(e.type)), 'nothing sent outside the window');
    await handleOf(stack, quiet.tenantId, inv.id).executeUpdate(cancelInvoiceUpdate, { args: [{ actor: SYSTEM }] });
  });
});
