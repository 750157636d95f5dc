import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScheduleNotFoundError } from '@temporalio/client';
import { contractActivities } from '../../activities/contracts';
import { createContract } from '../../api/contracts/contract-service';
import { HttpProblem } from '../../api/problem';
import { withTenant } from '../../db/tenant-scope';
import { nextDueDate } from '../../domain/billing-cycle';
import { dateOnly, todayIn } from '../../domain/contract-template';
import { addCalendarDays } from '../../domain/late-charges';
import { EntityIdKey, EntityTypeKey, TenantIdKey } from '../../domain/search-attributes';
import { dunningWorkflowId } from '../../workflows/dunning';
import { billingScheduleId } from '../../workflows/invoice-issuing';
import { provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { until } from '../support/whatsapp';
import { contactWithLead, linkFor, signAs, signingTenant, untilStatus } from '../sales/signing-support';

// Recurring billing end to end: a subscription's Temporal Schedule issuing its invoices (each
// with its dunning workflow), pause / resume / end of the schedule, and a signed contract's
// hand-off creating its subscription and first invoice.

const today = () => todayIn('America/Sao_Paulo', new Date());

async function contact(stack: TestStack, tenantId: string, document: string | null = null) {
  const id = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => trx('contacts').insert({ id, tenantId, waId: `5511${Math.floor(900000000 + Math.random() * 99999999)}`, name: 'Carla Cliente', document }));
  return id;
}

const invoicesOf = (stack: TestStack, tenantId: string, subscriptionId: string) =>
  withTenant(stack.deps.knex, tenantId, async (trx) => trx('invoices').where({ subscriptionId }).orderBy('sequence'));
const subscriptionRow = (stack: TestStack, tenantId: string, id: string) => withTenant(stack.deps.knex, tenantId, async (trx) => trx('subscriptions').where({ id }).first());

// "Days pass": the subscription's dates move back instead of the clock moving forward.
async function daysPass(stack: TestStack, tenantId: string, subscriptionId: string, days: number) {
  await withTenant(stack.deps.knex, tenantId, async (trx) =>
    trx('subscriptions')
      .where({ id: subscriptionId })
      .update({ firstDueDate: trx.raw('first_due_date - ?::int', [days]), nextDueDate: trx.raw('next_due_date - ?::int', [days]) }),
  );
}

// Triggers the schedule and waits for that firing's workflow to finish.
async function fire(stack: TestStack, scheduleId: string): Promise<string> {
  const handle = stack.deps.temporal.client.schedule.getHandle(scheduleId);
  const before = (await handle.describe()).info.numActionsTaken;
  await handle.trigger();
  const d = await until('the firing', async () => {
    const desc = await handle.describe();
    return desc.info.numActionsTaken > before && desc;
  }, 20_000);
  const last = d.info.recentActions[d.info.recentActions.length - 1];
  assert.ok(last);
  const workflowId = last.action.workflow.workflowId;
  await stack.deps.temporal.client.workflow.getHandle(workflowId).result();
  return workflowId;
}

async function running(stack: TestStack, workflowId: string) {
  return (await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
}

describe('subscriptions on Temporal Schedules', () => {
  let stack: TestStack;
  let t: TenantFixture;
  before(async () => {
    stack = await startStack();
    t = await provisionTenant(stack, (await superAdmin(stack)).token);
  });
  after(() => stack.stop());

  it('the schedule issues each invoice once, with its dunning; pause, resume and end drive the schedule', async () => {
    const contactId = await contact(stack, t.tenantId);
    // Weekly, first due in 15 days, issued 10 days before: nothing is due yet.
    const firstDueDate = addCalendarDays(today(), 15);
    const created = await stack.api.post('/api/subscriptions', {
      token: t.admin.token,
      body: { contactId, description: 'Plano semanal', amountCents: 49_90, cycle: 'WEEKLY', firstDueDate, issueDaysBeforeDue: 10, maxInvoices: 4 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const sub = created.body;
    assert.equal(sub.scheduleId, billingScheduleId(t.tenantId, sub.id));
    assert.equal(sub.status, 'active');
    assert.equal(sub.nextSequence, 1);
    assert.equal(sub.nextIssueDate, addCalendarDays(firstDueDate, -10));
    assert.deepEqual(await invoicesOf(stack, t.tenantId, sub.id), []);

    const handle = stack.deps.temporal.client.schedule.getHandle(sub.scheduleId);
    const described = await handle.describe();
    assert.equal(described.spec.timezone, 'America/Sao_Paulo');
    const weekday = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'][new Date(`${addCalendarDays(firstDueDate, -10)}T12:00:00Z`).getUTCDay()];
    const calendar = described.spec.calendars?.[0];
    assert.deepEqual(calendar?.dayOfWeek, [{ start: weekday, end: weekday, step: 1 }]);
    assert.deepEqual(calendar?.hour, [{ start: 6, end: 6, step: 1 }]);
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.workflowType, 'issueSubscriptionInvoices');
    assert.equal(described.state.paused, false);
    assert.equal(described.policies.overlap, 'BUFFER_ONE');

    // A firing with nothing due issues nothing.
    await fire(stack, sub.scheduleId);
    assert.deepEqual(await invoicesOf(stack, t.tenantId, sub.id), []);

    // Five days later the first invoice's issue day has come.
    await daysPass(stack, t.tenantId, sub.id, 5);
    const firstRun = await fire(stack, sub.scheduleId);
    let invoices = await invoicesOf(stack, t.tenantId, sub.id);
    assert.equal(invoices.length, 1);
    const anchor = addCalendarDays(firstDueDate, -5);
    assert.equal(invoices[0].sequence, 1);
    assert.equal(invoices[0].origin, 'subscription');
    assert.equal(invoices[0].amountCents, '4990');
    assert.equal(dateOnly(invoices[0].dueDate), anchor);
    assert.equal(invoices[0].workflowId, dunningWorkflowId(t.tenantId, invoices[0].id));
    assert.ok(await running(stack, invoices[0].workflowId), 'its dunning workflow runs');

    // The firing's workflow is found by the subscription's search attributes.
    const fired = await stack.deps.temporal.client.workflow.getHandle(firstRun).describe();
    assert.equal(fired.typedSearchAttributes.get(EntityTypeKey), 'subscription');
    assert.equal(fired.typedSearchAttributes.get(EntityIdKey), sub.id);
    assert.equal(fired.typedSearchAttributes.get(TenantIdKey), t.tenantId);

    // The same period fired again: nothing twice.
    await fire(stack, sub.scheduleId);
    assert.equal((await invoicesOf(stack, t.tenantId, sub.id)).length, 1);

    // A week later: the second.
    await daysPass(stack, t.tenantId, sub.id, 7);
    await fire(stack, sub.scheduleId);
    invoices = await invoicesOf(stack, t.tenantId, sub.id);
    assert.equal(invoices.length, 2);
    assert.equal(invoices[1].sequence, 2);
    assert.equal(dateOnly(invoices[1].dueDate), nextDueDate('WEEKLY', addCalendarDays(anchor, -7), 2));
    assert.ok(await running(stack, invoices[1].workflowId));
    const row = await subscriptionRow(stack, t.tenantId, sub.id);
    assert.equal(row.nextSequence, 3);

    // Paused: the schedule is paused and a firing issues nothing.
    const paused = await stack.api.post(`/api/subscriptions/${sub.id}/pause`, { token: t.admin.token });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.status, 'paused');
    assert.equal((await handle.describe()).state.paused, true);
    await daysPass(stack, t.tenantId, sub.id, 7);
    await fire(stack, sub.scheduleId);
    assert.equal((await invoicesOf(stack, t.tenantId, sub.id)).length, 2);

    const resumed = await stack.api.post(`/api/subscriptions/${sub.id}/resume`, { token: t.admin.token });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status, 'active');
    assert.equal((await handle.describe()).state.paused, false);
    // Resuming issues what came due for issue during the pause (the third's issue day is today).
    invoices = await invoicesOf(stack, t.tenantId, sub.id);
    assert.deepEqual(invoices.map((i) => i.sequence), [1, 2, 3]);

    const ended = await stack.api.post(`/api/subscriptions/${sub.id}/end`, { token: t.admin.token, body: { reason: 'Cliente cancelou' } });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.equal(ended.body.status, 'ended');
    await assert.rejects(handle.describe(), ScheduleNotFoundError);
    const again = await stack.api.post(`/api/subscriptions/${sub.id}/end`, { token: t.admin.token, body: { reason: 'de novo' } });
    assert.equal(again.status, 409);
    // Issued invoices keep their collection.
    assert.ok(await running(stack, invoices[0].workflowId));

    const listed = await stack.api.get(`/api/subscriptions?status=ended&contactId=${contactId}`, { token: t.admin.token });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.items.map((s: { id: string }) => s.id), [sub.id]);
    await recordHistory(stack, firstRun, 'invoice-issuing-weekly');
  });

  it('what is due at creation is issued at once; the last installment ends the subscription and deletes its schedule', async () => {
    const contactId = await contact(stack, t.tenantId);
    const created = await stack.api.post('/api/subscriptions', {
      token: t.admin.token,
      headers: { 'idempotency-key': `sub-${randomUUID()}` },
      body: { contactId, description: 'Mensalidade', amountCents: 100_00, cycle: 'MONTHLY', firstDueDate: today(), maxInvoices: 1, billingType: 'PIX' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'ended');
    const invoices = await invoicesOf(stack, t.tenantId, created.body.id);
    assert.equal(invoices.length, 1);
    assert.equal(invoices[0].billingType, 'PIX');
    assert.ok(await running(stack, invoices[0].workflowId));
    await assert.rejects(stack.deps.temporal.client.schedule.getHandle(created.body.scheduleId).describe(), ScheduleNotFoundError);
  });

  it('a rent with its owner: the periods that fell due while paused are not charged on resume', async () => {
    const contactId = await contact(stack, t.tenantId);
    const created = await stack.api.post('/api/subscriptions', {
      token: t.admin.token,
      body: { contactId, description: 'Aluguel Rua A, 10', amountCents: 2000_00, cycle: 'WEEKLY', firstDueDate: addCalendarDays(today(), 12), issueDaysBeforeDue: 10, ownerName: 'Pedro Proprietário', ownerDocument: '529.982.247-25' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.owner, { name: 'Pedro Proprietário', document: '52998224725', pixKey: null, agencyFeePercent: 10, payoutDay: 10 });
    assert.equal(created.body.maxInvoices, null);
    const id = created.body.id;
    assert.equal((await stack.api.post(`/api/subscriptions/${id}/pause`, { token: t.admin.token })).status, 200);
    // Twenty days paused: the first (due 8 days ago) and the second (due yesterday) fell due.
    await daysPass(stack, t.tenantId, id, 20);
    const resumed = await stack.api.post(`/api/subscriptions/${id}/resume`, { token: t.admin.token });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    const invoices = await invoicesOf(stack, t.tenantId, id);
    assert.deepEqual(invoices.map((i) => i.sequence), [3]);
    assert.equal(dateOnly(invoices[0].dueDate), addCalendarDays(today(), 6));
    assert.match(invoices[0].description, /Aluguel Rua A, 10 — vencimento/);
    assert.equal((await subscriptionRow(stack, t.tenantId, id)).nextSequence, 4);
    assert.equal((await stack.api.post(`/api/subscriptions/${id}/end`, { token: t.admin.token, body: { reason: 'Fim da locação' } })).status, 200);
  });

  it('refuses bad terms with pt-BR field errors', async () => {
    const person = await contact(stack, t.tenantId, '52998224725');
    const company = await contact(stack, t.tenantId, '11222333000181');
    const body = { description: 'Plano', amountCents: 100_00, cycle: 'MONTHLY', firstDueDate: addCalendarDays(today(), 5) };
    const fine = await stack.api.post('/api/subscriptions', { token: t.admin.token, body: { ...body, contactId: person, finePercent: 5 } });
    assert.equal(fine.status, 400);
    assert.equal(fine.body.errors[0].path, 'body.finePercent');
    assert.match(fine.body.detail, /CDC/);
    const b2b = await stack.api.post('/api/subscriptions', { token: t.admin.token, body: { ...body, contactId: company, finePercent: 5 } });
    assert.equal(b2b.status, 201, JSON.stringify(b2b.body));
    const past = await stack.api.post('/api/subscriptions', { token: t.admin.token, body: { ...body, contactId: person, firstDueDate: addCalendarDays(today(), -1) } });
    assert.equal(past.status, 400);
    assert.equal(past.body.errors[0].path, 'body.firstDueDate');
    const owner = await stack.api.post('/api/subscriptions', { token: t.admin.token, body: { ...body, contactId: person, ownerName: 'Dono', ownerDocument: '123' } });
    assert.equal(owner.status, 400);
    assert.ok(owner.body.errors.some((e: { path: string }) => e.path === 'body.ownerDocument'));
    const missing = await stack.api.post('/api/subscriptions', { token: t.admin.token, body: { ...body, contactId: randomUUID() } });
    assert.equal(missing.status, 404);
  });
});

describe('contract hand-off to billing', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0' } });
  });
  after(() => stack.stop());

  it('a signed contract gets its subscription, its schedule and its first invoice at once; a cancel ends them', async () => {
    const t = await signingTenant(stack);
    const ana = await contactWithLead(stack, t.tenantId);
    const firstDueDate = addCalendarDays(today(), 3);
    const contract = await createContract(stack.deps, t.tenantId, { type: 'user', id: t.admin.id }, {
      contactId: ana.contactId,
      leadId: ana.leadId,
      totalCents: 1000_00,
      billingTerms: { installments: 3, firstDueDate, ownerName: 'Pedro Proprietário', ownerDocument: '529.982.247-25', agencyFeePercent: 8 },
      signers: [{ name: ana.name, waId: ana.waId }],
    });
    await signAs(stack, ana.waId, await linkFor(stack, ana.waId));
    await untilStatus(stack, t.tenantId, contract.id, 'active');

    const sub = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('subscriptions').where({ contractId: contract.id }).first());
    assert.ok(sub, 'the contract has its subscription');
    assert.equal(sub.maxInvoices, 3);
    assert.equal(sub.amountCents, '33333');
    assert.equal(sub.firstAmountCents, '33334');
    assert.equal(sub.ownerDocument, '52998224725');
    assert.equal(Number(sub.agencyFeePercent), 8);
    const handoff = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('billingHandoffs').where({ contractId: contract.id }).first());
    assert.equal(handoff.status, 'started');
    assert.deepEqual(handoff.billingReference, { subscriptionId: sub.id });
    const invoices = await invoicesOf(stack, t.tenantId, sub.id);
    assert.equal(invoices.length, 1, 'the first invoice at once (its issue day has passed)');
    assert.equal(invoices[0].origin, 'contract');
    assert.equal(invoices[0].originId, contract.id);
    assert.equal(invoices[0].amountCents, '33334');
    assert.equal(dateOnly(invoices[0].dueDate), firstDueDate);
    assert.match(invoices[0].description, /parcela 1\/3/);
    assert.ok(await running(stack, invoices[0].workflowId));
    const schedule = await stack.deps.temporal.client.schedule.getHandle(sub.scheduleId).describe();
    assert.equal(schedule.spec.timezone, 'America/Sao_Paulo');

    // The hand-off retried (the workflow's retry after a lost answer): nothing twice.
    const activities = contractActivities({ knex: stack.deps.knex, secrets: stack.deps.secrets, whatsapp: { baseUrl: '', apiVersion: '' }, temporal: { client: stack.deps.temporal.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE } });
    assert.deepEqual(await activities.startContractBilling({ tenantId: t.tenantId, contractId: contract.id }), { status: 'started' });
    assert.equal((await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('subscriptions').where({ contractId: contract.id }))).length, 1);
    assert.equal((await invoicesOf(stack, t.tenantId, sub.id)).length, 1);

    const cancelled = await stack.api.post(`/api/contracts/${contract.id}/cancel`, { token: t.admin.token, body: { reason: 'Rescisão' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const ended = await subscriptionRow(stack, t.tenantId, sub.id);
    assert.equal(ended.status, 'ended');
    await assert.rejects(stack.deps.temporal.client.schedule.getHandle(sub.scheduleId).describe(), ScheduleNotFoundError);
    // The invoice already issued is left to its collection (staff cancel it if they must).
    const [left] = await invoicesOf(stack, t.tenantId, sub.id);
    assert.equal(left.status, 'open');
  });

  it('a contract whose billing terms billing cannot read is refused before anyone signs it', async () => {
    const t = await signingTenant(stack);
    const ana = await contactWithLead(stack, t.tenantId);
    const attempt = (billingTerms: Record<string, unknown>) =>
      createContract(stack.deps, t.tenantId, { type: 'user', id: t.admin.id }, { contactId: ana.contactId, totalCents: 100_00, billingTerms, signers: [{ name: ana.name, waId: ana.waId }] });
    for (const [terms, path] of [
      [{ finePercent: 3 }, 'body.billingTerms.finePercent'],
      [{ installments: 0 }, 'body.billingTerms.installments'],
      [{ cycle: 'DAILY' }, 'body.billingTerms.cycle'],
      [{ firstDueDate: '2025-02-30' }, 'body.billingTerms.firstDueDate'],
      [{ recurring: true }, 'body.billingTerms.amountCents'],
      [{ ownerName: 'Pedro', ownerDocument: '111.111.111-11' }, 'body.billingTerms.ownerDocument'],
      [{ payoutDay: 10 }, 'body.billingTerms.payoutDay'],
    ] as const) {
      await assert.rejects(attempt(terms), (err: unknown) => {
        assert.ok(err instanceof HttpProblem, String(err));
        assert.equal(err.status, 400);
        assert.ok(err.extra.errors?.some((e) => e.path === path), `${JSON.stringify(terms)}: ${JSON.stringify(err.extra.errors)}`);
        return true;
      });
    }
    const viaApi = await stack.api.post('/api/contracts', { token: t.admin.token, body: { contactId: ana.contactId, totalCents: 100_00, billingTerms: { finePercent: 10 }, signers: [{ name: ana.name, waId: ana.waId }] } });
    assert.equal(viaApi.status, 400);
    assert.equal(viaApi.body.errors[0].path, 'body.billingTerms.finePercent');
    assert.equal((await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contracts').where({ contactId: ana.contactId }))).length, 0);
  });
});
