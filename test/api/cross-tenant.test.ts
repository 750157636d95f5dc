import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { apiRoutes, API_PREFIX } from '../../api/routes';
import { addApiKey, addUser, type TenantFixture } from '../support/fixtures';
import { conversationOf, guestPhone, guestSays, until, whatsappTenant } from '../support/whatsapp';
import { createInvoice } from '../../db/invoices';
import { withTenant } from '../../db/tenant-scope';
import { todayIn } from '../../domain/contract-template';
import { dunningWorkflowId } from '../../workflows/dunning';
import { startStack, type TestStack } from '../support/stack';
import { localParts, nextBusinessOpening, zonedTimeToUtc } from '../../domain/calendar';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { insertLead } from '../sales/appointment-support';
import { nurturingMatrixFixtures } from '../sales/nurturing-support';
import { addCalendarDays } from '../../domain/late-charges';
import { dunningMatrixFixtures } from '../billing/dunning-support';
import { assemblyDates } from '../../domain/assembly-calendar';
import { DEFAULT_GROUP_RULES } from '../../domain/consortium-rules';
import { placeBidUpdate } from '../../workflows/assembly';
import { PRIZES, sealedRecord } from '../support/assembly-fixture';
import { assemblyView, seedFund, seedGroup, startAssembly, SYSTEM } from '../consortium/support';

// Every route that takes an id, called by tenant A with tenant B's id, answers 404 and changes
// nothing — while the same call with A's own id succeeds, so the 404 is the isolation at work.
// New routes join the matrix by themselves; one with an unknown id parameter fails it.

// Appointment slots on the next business morning (default hours), 30 minutes each: the matrix's
// own booking at 08:00, the fixtures at 08:30 and 09:30, the reschedule to 09:00.
const TOMORROW = localParts(Date.now() + 86_400_000, DEFAULT_TENANT_SETTINGS.timeZone).date;
const MORNING = (nextBusinessOpening(DEFAULT_TENANT_SETTINGS, zonedTimeToUtc(TOMORROW, 0, DEFAULT_TENANT_SETTINGS.timeZone)) as Date).getTime();
const slot = (minutes: number) => new Date(MORNING + minutes * 60_000).toISOString();

// A route that ends what its id names gets a fixture of its own (the outcome after the cancel).
const FIXTURE_FOR: Record<string, Record<string, string>> = {
  'POST /appointments/:appointmentId/outcome': { appointmentId: 'openAppointmentId' },
  // The same proposal cannot be both accepted and rejected.
  'POST /proposals/:proposalId/reject': { proposalId: 'rejectableProposalId' },
  // Billing: a renegotiation and a cancellation each end their invoice's run.
  'POST /invoices/:invoiceId/renegotiate': { invoiceId: 'renegotiableInvoiceId' },
  'POST /invoices/:invoiceId/cancel': { invoiceId: 'cancellableInvoiceId' },
  'POST /collections/:collectionId/resolve': { collectionId: 'resolvableCollectionId' },
  // Consortium: a group with room for a quota and a month to start; a closed month's record; an
  // assembly awaiting its lottery result (entered, published, then its winning bid paid).
  'POST /consortium/groups/:groupId/quotas': { groupId: 'openGroupId' },
  'POST /consortium/groups/:groupId/assemblies': { groupId: 'openGroupId' },
  'GET /consortium/groups/:groupId/assemblies/:month/record': { month: 'closedMonth' },
  'PUT /consortium/groups/:groupId/assemblies/:month/lottery': { groupId: 'resultGroupId', month: 'resultMonth' },
  'POST /consortium/groups/:groupId/assemblies/:month/publish': { groupId: 'resultGroupId', month: 'resultMonth' },
  'POST /consortium/groups/:groupId/assemblies/:month/bids/:bidId/payment': { groupId: 'resultGroupId', month: 'resultMonth', bidId: 'winningBidId' },
  // LGPD: a request is decided once (confirmed or refused); an export exists once one is answered.
  'POST /data-subject-requests/:requestId/refuse': { requestId: 'refusableRequestId' },
  'GET /data-subject-requests/:requestId/export': { requestId: 'exportedRequestId' },
};

// The consortium fixtures' assemblies: December 2026 of groups meeting on the 20th.
const ASSEMBLY_MONTH = '2026-12';
const RESULT_EXTRACTION = assemblyDates(ASSEMBLY_MONTH, { assemblyDay: 20, installmentDueDay: 10, timeZone: DEFAULT_TENANT_SETTINGS.timeZone }, DEFAULT_GROUP_RULES).extractionDate;

const BODIES: Record<string, unknown> = {
  'POST /leads/:leadId/appointments': { kind: 'visit', startsAt: slot(0), durationMinutes: 30 },
  'POST /appointments/:appointmentId/reschedule': { startsAt: slot(60) },
  'POST /appointments/:appointmentId/cancel': { reason: 'Cliente desistiu' },
  'POST /appointments/:appointmentId/outcome': { outcome: 'attended' },
  'PATCH /users/:userId': { name: 'Nome Alterado' },
  'POST /conversations/:conversationId/reply': { text: 'Olá! Aqui é a recepção.' },
  'POST /conversations/:conversationId/notes': { text: 'Hóspede VIP' },
  'POST /conversations/:conversationId/transfer': { team: 'reservas' },
  'POST /conversations/:conversationId/escalate': { reason: 'teste' },
  'PATCH /offerings/:offeringId': { title: 'Título alterado' },
  'PATCH /contacts/:contactId': { name: 'Nome Alterado' },
  'POST /contacts/:contactId/consents': { purpose: 'marketing', action: 'granted', textVersion: 'marketing-v1' },
  'PATCH /leads/:leadId': { interest: 'Interesse alterado' },
  'POST /leads/:leadId/stage': { stage: 'contacted' },
  // Sales: nurturing (cadences, a lead's nurturing, tasks).
  'POST /cadences/:cadenceId/versions': { steps: [{ type: 'send_template', waitBusinessDays: 0, template: { name: 'oferta_nova' }, category: 'utility' }] },
  'POST /tasks/:taskId/complete': { outcome: 'Cliente atendido' },
  'POST /leads/:leadId/proposals': { items: [{ description: 'Casa', quantity: 1, unitPriceCents: 100_000 }], validUntil: '2999-12-31' },
  'POST /proposals/:proposalId/accept': { signingOrder: 'sequential' },
  'POST /proposals/:proposalId/reject': { reason: 'teste' },
  'PATCH /contract-templates/:templateId': { name: 'Outro nome' },
  'POST /contracts/:contractId/cancel': { reason: 'teste' },
  // Billing: a manual payment (baixa manual).
  'POST /invoices/:invoiceId/payments': { amountCents: 100, paidOn: todayIn('America/Sao_Paulo', new Date()), method: 'cash' },
  // Billing: dunning and the collectors' queue.
  'POST /invoices/:invoiceId/promise': { promisedDate: addCalendarDays(TOMORROW, 2) },
  'POST /invoices/:invoiceId/renegotiate': { installments: [{ dueDate: addCalendarDays(TOMORROW, 30), amountCents: 1_000 }] },
  'POST /invoices/:invoiceId/cancel': { reason: 'teste' },
  'POST /collections/:collectionId/resolve': { outcome: 'other' },
  // Billing: the subscription is paused, resumed and ended in that order (the routes' order).
  'POST /subscriptions/:subscriptionId/end': { reason: 'teste' },
  // Consortium: rules, a member, a month to start, a bid then its withdrawal, the lottery.
  'PUT /consortium/groups/:groupId/rules': { rules: DEFAULT_GROUP_RULES, note: 'Matriz' },
  'POST /consortium/groups/:groupId/quotas': { name: 'Consorciado Matriz', phone: '+5511988887777', taxId: '529.982.247-25' },
  'POST /consortium/groups/:groupId/assemblies': { month: '2027-03' },
  'POST /consortium/groups/:groupId/assemblies/:month/bids': { quotaNumber: 5, type: 'livre', percent: 30 },
  'PUT /consortium/groups/:groupId/assemblies/:month/lottery': { contest: '06050', drawDate: RESULT_EXTRACTION, prizes: PRIZES },
  'POST /data-subject-requests/:requestId/refuse': { reason: 'Teste da matriz' },
};

describe('cross-tenant isolation matrix', () => {
  let stack: TestStack;
  let a: TenantFixture;
  let b: TenantFixture;
  const ids: Record<'A' | 'B', Record<string, string>> = { A: {}, B: {} };

  before(async () => {
    stack = await startStack();
    const wa = await whatsappTenant(stack);
    const wb = await whatsappTenant(stack);
    a = wa;
    b = wb;
    for (const [name, t] of [['A', wa], ['B', wb]] as const) {
      ids[name].tenantId = t.tenantId;
      // The matrix calls every route twice within a minute, more than a person's 100 a minute.
      const limits = await stack.api.patch('/api/settings', { token: t.admin.token, body: { rateLimits: { apiPerUserPerMinute: 10_000 }, consortium: { notifyMembers: false } } });
      assert.equal(limits.status, 200, JSON.stringify(limits.body));
      ids[name].userId = (await addUser(stack, t, 'ATTENDANT')).id;
      ids[name].keyId = (await addApiKey(stack, t, ['users:read'])).id;
      const offering = await stack.api.post('/api/offerings', { token: t.admin.token, body: { kind: 'service', title: 'Vistoria', attributes: { durationMinutes: 60 } } });
      ids[name].offeringId = offering.body.id;
      const lead = await stack.api.post('/api/leads', { token: t.admin.token, body: { contact: { waId: guestPhone() }, interest: 'Apartamento' } });
      ids[name].leadId = lead.body.id;
      ids[name].contactId = lead.body.contact.id;
      ids[name].formId = (await stack.api.post('/api/lead-forms', { token: t.admin.token, body: { name: 'Site' } })).body.id;
      // A guest asking for a person: the conversation waits in the queue, so every action applies.
      const guest = guestPhone();
      await guestSays(stack, t, guest, 'Quero falar com um atendente, por favor');
      const conv = await until('escalated conversation', async () => {
        const c = await conversationOf(stack, t.tenantId, guest);
        return c?.status === 'escalated' && c;
      });
      ids[name].conversationId = conv.id;
      ids[name].leadId = await insertLead(stack, t.tenantId, conv.contactId, t.admin.id);
      for (const [fixture, minutes] of [['appointmentId', 30], ['openAppointmentId', 90]] as const) {
        const booked: { status: number; body: any } = await stack.api.post(`/api/leads/${ids[name].leadId}/appointments`, { token: t.admin.token, body: { kind: 'visit', startsAt: slot(minutes), durationMinutes: 30 } });
        assert.equal(booked.status, 201, JSON.stringify(booked.body));
        ids[name][fixture] = booked.body.id;
      }
      await salesFixtures(name, t);
      await privacyFixtures(name, t, conv.contactId as string);
      // The guest then hears a notice (a person is coming, or the team is out of hours); once it is
      // stored as sent, the conversation writes nothing more on its own during the matrix.
      await until('handoff notice sent', () =>
        withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('messages').where({ conversationId: conv.id, direction: 'outbound', status: 'accepted' }).first()),
      );
      // And the two appointments' confirmations.
      await until('appointment confirmations sent', async () =>
        (await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('messages').where({ conversationId: conv.id, direction: 'outbound', status: 'accepted', type: 'interactive' }))).length === 2,
      );
      // Sales: nurturing.
      Object.assign(ids[name], await nurturingMatrixFixtures(stack, t));
      // Billing: invoices whose runs wait weeks for their first reminder, and queue items.
      Object.assign(ids[name], await dunningMatrixFixtures(stack, t.tenantId));
      await billingFixtures(name, t);
      await consortiumFixtures(name, t);
    }
  });
  after(() => stack.stop());

  // The sales funnel's records: a lead, two draft proposals, a template, a contract whose signing
  // link is already stored as sent (so nothing of B's changes on its own during the matrix).
  async function salesFixtures(name: 'A' | 'B', t: TenantFixture) {
    const contactId = randomUUID();
    const leadId = randomUUID();
    const waId = guestPhone();
    await withTenant(stack.deps.knex, t.tenantId, async (trx) => {
      await trx('contacts').insert({ id: contactId, tenantId: t.tenantId, waId, name: 'Cliente Matriz' });
      await trx('leads').insert({ id: leadId, tenantId: t.tenantId, contactId, interestKey: `matriz-${leadId}`, source: 'staff', stage: 'qualified', workflowId: `lead:${t.tenantId}:${leadId}` });
    });
    ids[name].leadId = leadId;
    const proposal = () =>
      stack.api.post(`/api/leads/${leadId}/proposals`, { token: t.admin.token, body: { items: [{ description: 'Casa', quantity: 1, unitPriceCents: 100_000 }], validUntil: '2999-12-31' } });
    ids[name].proposalId = (await proposal()).body.id;
    ids[name].rejectableProposalId = (await proposal()).body.id;
    const template = await stack.api.post('/api/contract-templates', { token: t.admin.token, body: { name: 'Matriz', title: 'Contrato', body: 'Entre {{tenant.name}} e {{contact.name}}.' } });
    ids[name].templateId = template.body.id;
    const contract = await stack.api.post('/api/contracts', { token: t.admin.token, body: { contactId, totalCents: 100, signers: [{ name: 'Cliente Matriz', waId }] } });
    assert.equal(contract.status, 201, JSON.stringify(contract.body));
    ids[name].contractId = contract.body.id;
    // Billing: an invoice of the contact (its dunning is not started: nothing runs on its own).
    const invoice = await withTenant(stack.deps.knex, t.tenantId, (trx) =>
      createInvoice(trx, { tenantId: t.tenantId, contactId, origin: 'manual', description: 'Matriz', amountCents: 100_000, dueDate: '2999-12-31', finePercent: 2, monthlyInterestPercent: 1, billingType: 'BOLETO' }, dunningWorkflowId),
    );
    ids[name].invoiceId = invoice.id;
    await until('signing link stored as sent', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) =>
        trx('messages').join('conversations', 'conversations.id', 'messages.conversationId').where({ 'conversations.contactId': contactId, 'messages.direction': 'outbound', 'messages.status': 'accepted' }).first(),
      ),
    );
  }

  // Billing: a subscription (its first invoice weeks away, so nothing is issued during the
  // matrix), a manual invoice and an owner payout of it.
  async function billingFixtures(name: 'A' | 'B', t: TenantFixture) {
    const firstDueDate = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    const sub = await stack.api.post('/api/subscriptions', { token: t.admin.token, body: { contactId: ids[name].contactId, description: 'Plano', amountCents: 100_00, cycle: 'MONTHLY', firstDueDate } });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    ids[name].subscriptionId = sub.body.id;
    const dueDate = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    const invoice = await stack.api.post('/api/invoices', { token: t.admin.token, body: { contactId: ids[name].contactId, description: 'Taxa', amountCents: 50_00, dueDate } });
    assert.equal(invoice.status, 201, JSON.stringify(invoice.body));
    ids[name].invoiceId = invoice.body.id;
    ids[name].payoutId = randomUUID();
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('ownerPayouts').insert({ id: ids[name].payoutId, tenantId: t.tenantId, invoiceId: invoice.body.id, ownerName: 'Dono', ownerDocument: '52998224725', referenceMonth: '2025-07', grossCents: 50_00, feePercent: 10, feeCents: 5_00, netCents: 45_00, dueDate }),
    );
  }

  // Consortium: a group whose December assembly takes bids (quota 5 bids in the matrix), a group
  // with no quotas yet, a closed month with its record, and a group whose assembly closed bidding
  // with quota 12's bid live, waiting for the lottery. Members are not notified (settings), so
  // nothing is sent during the matrix.
  async function consortiumFixtures(name: 'A' | 'B', t: TenantFixture) {
    const g = await seedGroup(stack, t.tenantId, { quotaCount: 12 });
    ids[name].groupId = g.group.id;
    ids[name].month = ASSEMBLY_MONTH;
    ids[name].quotaNumber = '5';
    await startAssembly(stack, g, ASSEMBLY_MONTH, { biddingWindowMs: 30 * 60_000 });
    await until('bidding open', async () => (await assemblyView(stack, g, ASSEMBLY_MONTH).catch(() => null))?.status === 'bidding');
    ids[name].closedMonth = '2026-06';
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('consortium_assemblies').insert({
        id: randomUUID(), tenantId: t.tenantId, groupId: g.group.id, month: '2026-06', status: 'closed', workflowId: `assembly:${t.tenantId}:${g.group.id}:2026-06`, ruleVersion: 1,
        assemblyDate: '2026-06-22', extractionDate: '2026-06-20', biddingClosesAt: new Date(), record: sealedRecord(), closedAt: new Date(),
      }),
    );
    const open = await stack.api.post('/api/consortium/groups', {
      token: t.admin.token,
      body: { code: `M-${name}`, name: 'Grupo Matriz', creditCents: 1_000_000, termMonths: 50, adminFeePercent: 15, reserveFundPercent: 2, quotaCount: 10, assemblyDay: 20, installmentDueDay: 10, firstAssemblyMonth: '2026-01' },
    });
    assert.equal(open.status, 201, JSON.stringify(open.body));
    ids[name].openGroupId = open.body.id;
    const r = await seedGroup(stack, t.tenantId, { quotaCount: 12 });
    await seedFund(stack, r, 2_300_000);
    ids[name].resultGroupId = r.group.id;
    ids[name].resultMonth = ASSEMBLY_MONTH;
    const handle = await startAssembly(stack, r, ASSEMBLY_MONTH, { biddingWindowMs: 2_000, bidPaymentWindowMs: 30 * 60_000 });
    await until('bidding open', async () => (await assemblyView(stack, r, ASSEMBLY_MONTH).catch(() => null))?.status === 'bidding');
    const bid = await handle.executeUpdate(placeBidUpdate, { args: [{ quotaId: r.quota(12).id, type: 'fixo', percent: 50, actor: SYSTEM }] });
    ids[name].winningBidId = bid.bidId;
    const waiting = await until('awaiting the result', async () => {
      const v = await assemblyView(stack, r, ASSEMBLY_MONTH);
      return v.status === 'awaiting_result' ? v : null;
    });
    assert.equal(waiting.extractionDate, RESULT_EXTRACTION);
  }

  // Public routes have no tenant to cross: their token names one record (tested in test/sales/).
  // Routes only the platform administrator may call (a tenant's suspension) answer a tenant admin
  // 403 whoever's id it names: there is no tenant boundary to cross; the role tests cover them.
  const withIds = apiRoutes.filter((r) => r.path.includes(':') && r.access !== 'public' && r.access.roles.includes('TENANT_ADMIN'));

  it('covers every route with an id parameter', () => {
    assert.ok(withIds.length >= 6);
    for (const r of withIds) {
      for (const param of r.path.match(/:(\w+)/g) ?? []) {
        const fixture = FIXTURE_FOR[`${r.method.toUpperCase()} ${r.path}`]?.[param.slice(1)] ?? param.slice(1);
        assert.ok(fixture in ids.B, `${r.method.toUpperCase()} ${r.path}: no fixture for ${param}; add one to this matrix`);
      }
    }
  });

  for (const r of withIds) {
    const name = `${r.method.toUpperCase()} ${r.path}`;
    it(`${name} with another tenant's id → 404`, async () => {
      const url = (owner: 'A' | 'B') => API_PREFIX + r.path.replace(/:(\w+)/g, (_, p: string) => ids[owner][FIXTURE_FOR[name]?.[p] ?? p] as string);
      const body = BODIES[name];
      const before = await snapshot(b.tenantId);

      const foreign = await stack.api.request(r.method, url('B'), { token: a.admin.token, body });
      assert.equal(foreign.status, 404, `${name}: ${foreign.status} ${JSON.stringify(foreign.body)}`);
      assert.equal(foreign.headers.get('content-type'), 'application/problem+json');
      assert.ok(!JSON.stringify(foreign.body).includes(b.slug), 'the 404 reveals nothing of tenant B');
      assert.deepEqual(await snapshot(b.tenantId), before, `${name} changed tenant B's data`);

      const own = await stack.api.request(r.method, url('A'), { token: a.admin.token, body });
      assert.ok(own.status >= 200 && own.status < 300, `${name} with A's own id: ${own.status} ${JSON.stringify(own.body)}`);
    });
  }

  // LGPD requests: two waiting for the identity check (access and portability of the lead's
  // contact), and an access request of the guest, answered, whose export is ready.
  async function privacyFixtures(name: 'A' | 'B', t: TenantFixture, guestContactId: string) {
    const register = async (contactId: string, kind: string) => {
      const r = await stack.api.post('/api/data-subject-requests', { token: t.admin.token, body: { contactId, kind } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as string;
    };
    ids[name].requestId = await register(ids[name].contactId as string, 'access');
    ids[name].refusableRequestId = await register(ids[name].contactId as string, 'portability');
    const exported = await register(guestContactId, 'access');
    assert.equal((await stack.api.post(`/api/data-subject-requests/${exported}/confirm-identity`, { token: t.admin.token })).status, 200);
    await until('the export ready', async () => (await stack.api.get(`/api/data-subject-requests/${exported}`, { token: t.admin.token })).body.exportAvailable, 30_000);
    ids[name].exportedRequestId = exported;
  }

  async function snapshot(tenantId: string) {
    return withTenant(stack.deps.knex, tenantId, async (trx) => {
      const users: unknown[] = await trx('users').select('id', 'name', 'role', 'active', 'updatedAt').orderBy('id');
      const keys: unknown[] = await trx('api_keys').select('id', 'revokedAt').orderBy('id');
      const tenant: unknown = await trx('tenants').select('status', 'name').first();
      const conversations: unknown[] = await trx('conversations').select('id', 'status', 'assigneeId', 'team').orderBy('id');
      const messages: unknown[] = await trx('messages').select('id', 'status').orderBy('id');
      const sales: unknown[] = await Promise.all([
        trx('offerings').select('id', 'title', 'active').orderBy('id'),
        trx('contacts').select('id', 'name', 'email').orderBy('id'),
        trx('leads').select('id', 'stage', 'interest', 'ownerId').orderBy('id'),
        trx('consent_events').select('id').orderBy('id'),
        trx('lead_forms').select('id', 'active').orderBy('id'),
        // Billing: invoices, their payments, the gateway account.
        trx('invoices').select('id', 'status', 'paidCents').orderBy('id'),
        trx('payments').select('id').orderBy('id'),
        trx('billing_gateway_accounts').select('id', 'updatedAt').orderBy('id'),
      ]);
      const cadences: unknown[] = await trx('cadences').select('id', 'currentVersion', 'isDefault', 'active').orderBy('id');
      const leads: unknown[] = await trx('leads').select('id', 'nurturingStatus', 'ownerId', 'stage').orderBy('id');
      const tasks: unknown[] = await trx('tasks').select('id', 'status').orderBy('id');
      // Consortium: groups, rule versions, quotas, assemblies and bids.
      const consortium: unknown[] = await Promise.all([
        trx('consortium_groups').select('id', 'status', 'updatedAt').orderBy('id'),
        trx('consortium_rule_versions').select('id').orderBy('id'),
        trx('consortium_quotas').select('id', 'status', 'updatedAt').orderBy('id'),
        trx('consortium_assemblies').select('id', 'status', 'lottery', 'publishedAt', 'updatedAt').orderBy('id'),
        trx('consortium_bids').select('id', 'status').orderBy('id'),
      ]);
      return { users, keys, tenant, conversations, messages, sales, cadences, leads, tasks, consortium };
    });
  }
});
