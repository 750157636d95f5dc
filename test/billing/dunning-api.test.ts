import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { addCalendarDays } from '../../domain/late-charges';
import { addUser } from '../support/fixtures';
import { liveEvents } from '../support/live-events';
import { startStack, type TestStack } from '../support/stack';
import { until, type WhatsAppTenant } from '../support/whatsapp';
import { billingTenant, businessDueDate, debtor, eventsOf, handleOf, newInvoice, startDunning, untilDone } from './dunning-support';

// Staff acting on a collection through the API: promise, renegotiation, cancellation (updates of
// the run, refusals as 409 in pt-BR), the run's view with its timeline, the collectors' queue,
// and the contact's CPF/CNPJ and do-not-contact flag.

describe('dunning API', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  const live = liveEvents(() => stack);
  const auth = () => ({ token: t.admin.token });

  before(async () => {
    stack = await startStack();
    t = await billingTenant(stack);
  });
  after(async () => {
    live.close();
    await stack.stop();
  });

  it('contacts: CPF/CNPJ validated and stored as digits, do-not-contact with its reason', async () => {
    const { contactId } = await debtor(stack, t.tenantId);
    const bad = await stack.api.patch(`/api/contacts/${contactId}`, { ...auth(), body: { document: '123.456.789-00' } });
    assert.equal(bad.status, 400);
    assert.ok(JSON.stringify(bad.body).includes('CPF ou CNPJ inválido.'));
    const ok = await stack.api.patch(`/api/contacts/${contactId}`, { ...auth(), body: { document: '529.982.247-25', doNotContact: true, doNotContactReason: 'nao_me_ligue' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.document, '52998224725');
    assert.equal(ok.body.doNotContact, true);
    assert.equal(ok.body.doNotContactReason, 'nao_me_ligue');
    const row = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: contactId }).first());
    assert.ok(row.doNotContactAt);
    const lifted = await stack.api.patch(`/api/contacts/${contactId}`, { ...auth(), body: { doNotContact: false } });
    assert.equal(lifted.body.doNotContact, false);
    assert.equal(lifted.body.doNotContactReason, null);
  });

  it('promise, view with timeline, cancellation; a settled invoice refuses with 409', async () => {
    const { contactId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, t.tenantId, inv.id);
    const v = await untilDone(stack, t.tenantId, inv.id, 'reminder:-2');
    const past = await stack.api.post(`/api/invoices/${inv.id}/promise`, { ...auth(), body: { promisedDate: addCalendarDays(v.today, -1) } });
    assert.equal(past.status, 409);
    assert.equal(past.body.detail, 'A data prometida já passou.');
    const promised = await stack.api.post(`/api/invoices/${inv.id}/promise`, { ...auth(), body: { promisedDate: addCalendarDays(v.today, 5), note: 'Cliente recebe o salário dia 5' } });
    assert.equal(promised.status, 200, JSON.stringify(promised.body));
    assert.equal(promised.body.stage, 'promised');
    const seen = await stack.api.get(`/api/invoices/${inv.id}/dunning`, auth());
    assert.equal(seen.status, 200);
    assert.equal(seen.body.workflow.stage, 'promised');
    assert.equal(seen.body.workflow.nextAction.kind, 'promise_check');
    assert.deepEqual(seen.body.timeline.map((e: any) => e.type), ['started', 'reminder_sent', 'promise_made']);
    const cancelled = await stack.api.post(`/api/invoices/${inv.id}/cancel`, { ...auth(), body: { reason: 'Cobrança indevida' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.stage, 'cancelled');
    assert.equal(await handleOf(stack, t.tenantId, inv.id).result(), 'cancelled');
    const again = await stack.api.post(`/api/invoices/${inv.id}/cancel`, { ...auth(), body: { reason: 'de novo' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.detail, 'Esta fatura já foi quitada, cancelada ou renegociada.');
    const after = await stack.api.post(`/api/invoices/${inv.id}/promise`, { ...auth(), body: { promisedDate: v.today } });
    assert.equal(after.status, 409);
  });

  it('renegotiation through the API: the new invoices and their runs', async () => {
    const { contactId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, t.tenantId, inv.id);
    const v = await untilDone(stack, t.tenantId, inv.id, 'reminder:-2');
    const refused = await stack.api.post(`/api/invoices/${inv.id}/renegotiate`, { ...auth(), body: { installments: [{ dueDate: addCalendarDays(v.today, -3), amountCents: 100 }] } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.detail, 'Parcela 1: o vencimento já passou.');
    const r = await stack.api.post(`/api/invoices/${inv.id}/renegotiate`, {
      ...auth(),
      body: { installments: [30, 60, 90].map((d) => ({ dueDate: addCalendarDays(v.today, d), amountCents: 34_000 })) },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.invoiceIds.length, 3);
    for (const id of r.body.invoiceIds) {
      const seen = await until('new run', async () => {
        const s = await stack.api.get(`/api/invoices/${id}/dunning`, auth());
        return s.body.workflow ? s : null;
      });
      assert.equal(seen.body.workflow.stage, 'upcoming');
      await stack.api.post(`/api/invoices/${id}/cancel`, { ...auth(), body: { reason: 'fim do teste' } });
    }
  });

  it('the collectors’ queue: the escalated invoice, claimed and resolved, live to billing roles only', async () => {
    const dash = await live.connect(t.admin.token);
    const sales = await addUser(stack, t, 'SALES');
    assert.equal((await stack.api.get('/api/collections', { token: sales.token })).status, 403);
    const { contactId } = await debtor(stack, t.tenantId);
    const inv = await newInvoice(stack, t.tenantId, contactId, { dueDate: businessDueDate() });
    await startDunning(stack, t.tenantId, inv.id, { dayMs: 600 });
    // The step, not the stage: at 600 ms a day the run moves on to its final notice in about a
    // second, and a poll could miss the escalated stage between two looks.
    await untilDone(stack, t.tenantId, inv.id, 'escalate', 30_000);
    const list = await stack.api.get('/api/collections?limit=100', auth());
    assert.equal(list.status, 200);
    const item = list.body.items.find((i: any) => i.invoiceId === inv.id);
    assert.ok(item, 'the invoice is in the queue');
    assert.equal(item.status, 'open');
    const claimed = await stack.api.post(`/api/collections/${item.id}/claim`, auth());
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
    assert.equal(claimed.body.assigneeId, t.admin.id);
    const resolved = await stack.api.post(`/api/collections/${item.id}/resolve`, { ...auth(), body: { outcome: 'unreachable', note: 'Telefone não atende' } });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.status, 'resolved');
    assert.equal((await stack.api.post(`/api/collections/${item.id}/resolve`, { ...auth(), body: { outcome: 'other' } })).status, 409);
    await until('live resolved', async () => dash.events.find((e) => e.name === 'collection:updated' && e.payload.collectionId === item.id && e.payload.status === 'resolved'));
    const open = await stack.api.get('/api/collections?limit=100', auth());
    assert.ok(!open.body.items.some((i: any) => i.id === item.id), 'resolved items leave the queue');
    await stack.api.post(`/api/invoices/${inv.id}/cancel`, { ...auth(), body: { reason: 'fim do teste' } });
    assert.ok((await eventsOf(stack, t.tenantId, inv.id)).some((e) => e.type === 'cancelled'));
  });
});
