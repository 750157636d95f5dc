import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { automationEventWorkflowId } from '../../workflows/automation-delivery';
import { nurturingWorkflowId } from '../../workflows/nurturing/definitions';
import { addApiKey, provisionTenant, superAdmin, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, until } from '../support/whatsapp';

// Leads end to end through the API: the catalog, intake and its dedupe, automations with an
// Idempotency-Key, the public lead form, the board, the timeline and the consent ledger.

const property = { purpose: 'sale', type: 'apartment', areaM2: 68, bedrooms: 2, bathrooms: 1, parkingSpaces: 1, neighborhood: 'Batel', city: 'Curitiba', state: 'PR' };

describe('leads', () => {
  let stack: TestStack;
  let t: TenantFixture;
  before(async () => {
    stack = await startStack();
    t = await provisionTenant(stack, (await superAdmin(stack)).token);
  });
  after(() => stack.stop());

  const post = (path: string, body: unknown, o: { token?: string; apiKey?: string; headers?: Record<string, string> } = {}) =>
    stack.api.post(path, { token: o.apiKey ? undefined : (o.token ?? t.admin.token), apiKey: o.apiKey, body, headers: o.headers });
  const get = (path: string, token = t.admin.token) => stack.api.get(path, { token });
  // Signals reach the history whether or not a worker runs the workflow's body yet (buffered
  // while a workflow task is in flight, hence the waits).
  const signalsOf = async (workflowId: string) => {
    const history = await stack.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap((e) => (e.workflowExecutionSignaledEventAttributes?.signalName ? [e.workflowExecutionSignaledEventAttributes.signalName] : []));
  };
  const db = <T>(work: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.deps.knex, t.tenantId, work);

  it('offerings are validated per kind, filtered and archived', async () => {
    const created = await post('/api/offerings', { kind: 'property', title: 'Apto 2 quartos no Batel', priceCents: 65_000_000, attributes: property });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.priceCents, 65_000_000);
    const wrong = await post('/api/offerings', { kind: 'property', title: 'Onix', attributes: { make: 'Chevrolet', model: 'Onix', year: 2022, km: 1000, fuel: 'flex', transmission: 'manual', condition: 'used' } });
    assert.equal(wrong.status, 400);
    assert.ok(wrong.body.errors.every((e: { path: string }) => e.path.startsWith('body.attributes')), JSON.stringify(wrong.body));
    const car = await post('/api/offerings', { kind: 'vehicle', title: 'Onix LT', attributes: { make: 'Chevrolet', model: 'Onix', year: 2022, km: 1000, fuel: 'flex', transmission: 'manual', condition: 'used', plate: 'abc-1d23' } });
    assert.equal(car.status, 201, JSON.stringify(car.body));
    assert.equal(car.body.attributes.plate, 'ABC1D23');
    const vehicles = await get('/api/offerings?kind=vehicle');
    assert.deepEqual(vehicles.body.items.map((o: { id: string }) => o.id), [car.body.id]);
    const badPatch = await stack.api.patch(`/api/offerings/${car.body.id}`, { token: t.admin.token, body: { attributes: property } });
    assert.equal(badPatch.status, 400, 'a vehicle keeps vehicle attributes');
    assert.equal((await stack.api.delete(`/api/offerings/${car.body.id}`, { token: t.admin.token })).status, 204);
    const active = await get('/api/offerings?active=true&kind=vehicle');
    assert.deepEqual(active.body.items, []);
  });

  it('a duplicate arrival joins the open lead; its nurturing starts once', async () => {
    const waId = guestPhone();
    const first = await post('/api/leads', { contact: { waId, name: 'Ana Souza' }, interest: 'Apartamento  Centro', source: 'walk_in' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.created, true);
    assert.equal(first.body.source, 'walk_in');
    assert.equal(first.body.contact.name, 'Ana Souza');
    const again = await post('/api/leads', { contact: { waId }, interest: 'apartamento centro', source: 'portal', sourceDetail: 'ZAP Imóveis' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.created, false);
    assert.equal(again.body.id, first.body.id);
    const other = await post('/api/leads', { contact: { waId }, interest: 'Casa no Ahú' });
    assert.equal(other.status, 201, 'another interest is another lead');
    assert.notEqual(other.body.id, first.body.id);

    const events = await db((trx) => trx('lead_events').where({ leadId: first.body.id }).whereIn('type', ['created', 'joined']).orderBy('seq').select('type', 'data'));
    // (Its nurturing workflow writes its own rows meanwhile: scored, assigned.)
    assert.deepEqual(events.map((e) => e.type), ['created', 'joined']);
    assert.equal(events[1].data.sourceDetail, 'ZAP Imóveis');
    const handle = stack.deps.temporal.client.workflow.getHandle(nurturingWorkflowId(t.tenantId, first.body.id));
    assert.equal((await handle.describe()).type, 'leadNurturing', 'its nurturing was started');

    // Closed, the interest is free again: the next arrival opens a new lead.
    const lost = await post(`/api/leads/${first.body.id}/stage`, { stage: 'lost', reason: 'Comprou com outra imobiliária' });
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    assert.equal(lost.body.stage, 'lost');
    await until('nurturing told of the loss', async () => (await signalsOf(handle.workflowId)).includes('leadStageChanged'));
    const refused = await post(`/api/leads/${first.body.id}/stage`, { stage: 'qualified' });
    assert.equal(refused.status, 409);
    const reopened = await post('/api/leads', { contact: { waId }, interest: 'Apartamento Centro' });
    assert.equal(reopened.status, 201);
    assert.notEqual(reopened.body.id, first.body.id);
  });

  it('automations post leads with an API key; the same Idempotency-Key acts once', async () => {
    const key = await addApiKey(stack, t, ['leads:write']);
    const reader = await addApiKey(stack, t, ['leads:read']);
    const body = { contact: { waId: guestPhone(), name: 'Bruno' }, interest: 'Consórcio de imóvel', sourceDetail: 'n8n: RD Station' };
    const headers = { 'idempotency-key': `rd-${Date.now()}` };
    const one = await post('/api/leads', body, { apiKey: key.key, headers });
    assert.equal(one.status, 201, JSON.stringify(one.body));
    assert.equal(one.body.source, 'automation');
    const two = await post('/api/leads', body, { apiKey: key.key, headers });
    assert.equal(two.status, 201, 'the retry answers as the first did');
    assert.equal(two.body.id, one.body.id);
    const events = await db((trx) => trx('lead_events').where({ leadId: one.body.id }).whereIn('type', ['created', 'joined']).select('type'));
    assert.deepEqual(events.map((e) => e.type), ['created'], 'the retry wrote nothing');
    assert.equal((await post('/api/leads', body, { apiKey: reader.key })).status, 403);
    const bad = await post('/api/leads', body, { apiKey: key.key, headers: { 'idempotency-key': 'não vale' } });
    assert.equal(bad.status, 400);
  });

  it('the board filters, counts per stage and pages without repeating', async () => {
    const detail = `feira-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post('/api/leads', { contact: { waId: guestPhone(), name: `Visitante ${i}` }, interest: `Onix ${detail}`, source: 'walk_in', sourceDetail: detail });
      assert.equal(r.status, 201);
      ids.push(r.body.id);
    }
    const moved = await post(`/api/leads/${ids[0]}/stage`, { stage: 'contacted' });
    assert.equal(moved.status, 200);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs = new URLSearchParams({ q: detail, limit: '2', ...(cursor ? { cursor } : {}) });
      const page = await get(`/api/leads?${qs}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.equal(page.body.counts.new, 4);
      assert.equal(page.body.counts.contacted, 1);
      seen.push(...page.body.items.map((l: { id: string }) => l.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse(), 'newest first, each once');
    const contacted = await get(`/api/leads?q=${detail}&stage=contacted`);
    assert.deepEqual(contacted.body.items.map((l: { id: string }) => l.id), [ids[0]]);
    const byName = await get(`/api/leads?q=${encodeURIComponent('Visitante 3')}&source=walk_in`);
    assert.ok(byName.body.items.some((l: { id: string }) => l.id === ids[3]));
    const none = await get(`/api/leads?q=${detail}&source=portal`);
    assert.deepEqual(none.body.items, []);
    const unowned = await get(`/api/leads?q=${detail}&ownerId=none`);
    assert.equal(unowned.body.items.length, 5);
  });

  it('the timeline merges lead events, consent and messages, newest first', async () => {
    const lead = (await post('/api/leads', { contact: { waId: guestPhone(), name: 'Carla' }, interest: 'Test drive Onix' })).body;
    await post(`/api/contacts/${lead.contact.id}/consents`, { purpose: 'marketing', action: 'granted', channel: 'in_person', textVersion: 'marketing-v1', evidence: { note: 'assinou na loja' } });
    await post(`/api/leads/${lead.id}/stage`, { stage: 'qualified' });
    const patched = await stack.api.patch(`/api/leads/${lead.id}`, { token: t.admin.token, body: { ownerId: t.admin.id, score: 85, temperature: 'hot' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.ownerId, t.admin.id);
    assert.equal(patched.body.score, 85);
    const page = await get(`/api/leads/${lead.id}/timeline?limit=3`);
    assert.equal(page.body.items.length, 3);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const rest = await get(`/api/leads/${lead.id}/timeline?limit=50&cursor=${page.body.nextCursor}`);
    // The nurturing workflow scores and assigns on its own, at its own pace: what staff did is the point here.
    const all = [...page.body.items, ...rest.body.items];
    const items = all.filter((i: { type: string; data: { actor?: { type: string } } }) => !(i.type === 'lead_event' && i.data.actor?.type === 'system'));
    assert.equal(rest.body.nextCursor, null);
    // The owner and the score changed in one PATCH: the same instant, in either order.
    items.splice(0, 2, ...items.slice(0, 2).sort((a: { data: { event: string } }, b: { data: { event: string } }) => a.data.event.localeCompare(b.data.event)));
    const summary = items.map((i: { type: string; data: { event?: string; action?: string } }) => `${i.type}:${i.data.event ?? i.data.action}`);
    assert.deepEqual(summary, ['lead_event:assigned', 'lead_event:scored', 'lead_event:stage_changed', 'consent:granted', 'lead_event:created']);
    const ats = all.map((i: { at: string }) => i.at);
    assert.deepEqual(ats, [...ats].sort().reverse());

    // What the other sales processes write shows up too (rows as their workflows leave them).
    const later = (ms: number) => new Date(Date.now() + ms);
    const ids = { appointment: randomUUID(), proposal: randomUUID(), contract: randomUUID() };
    await db(async (trx) => {
      await trx('appointments').insert({ id: ids.appointment, tenantId: t.tenantId, leadId: lead.id, contactId: lead.contact.id, kind: 'test_drive', startsAt: later(86_400_000), endsAt: later(90_000_000), workflowId: `appointment:${t.tenantId}:${ids.appointment}`, createdAt: later(1_000) });
      await trx('proposals').insert({ id: ids.proposal, tenantId: t.tenantId, leadId: lead.id, contactId: lead.contact.id, number: 1, items: JSON.stringify([]), subtotalCents: 8_990_000, totalCents: 8_990_000, validUntil: '2027-01-31', createdAt: later(2_000) });
      await trx('contracts').insert({ id: ids.contract, tenantId: t.tenantId, leadId: lead.id, contactId: lead.contact.id, proposalId: ids.proposal, number: 1, title: 'Compra e venda', totalCents: 8_990_000, workflowId: `contract:${t.tenantId}:${ids.contract}`, createdAt: later(3_000) });
    });
    const top = await get(`/api/leads/${lead.id}/timeline?limit=3`);
    assert.deepEqual(
      top.body.items.map((i: { type: string; id: string }) => [i.type, i.id]),
      [['contract', ids.contract], ['proposal', ids.proposal], ['appointment', ids.appointment]],
    );
    assert.equal(top.body.items[1].data.totalCents, 8_990_000);
    assert.equal(top.body.items[2].data.kind, 'test_drive');
  });

  it('the consent ledger is append-only and a withdrawal stops the cadences at once', async () => {
    const lead = (await post('/api/leads', { contact: { waId: guestPhone() }, interest: 'Plano de assinatura' })).body;
    const contactId = lead.contact.id;
    const grant = await post(`/api/contacts/${contactId}/consents`, { purpose: 'marketing', action: 'granted', channel: 'api', textVersion: 'marketing-v2' });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    assert.equal((await post(`/api/contacts/${contactId}/consents`, { purpose: 'marketing', action: 'granted', channel: 'api' })).status, 400, 'a grant names its text');
    let state = await get(`/api/contacts/${contactId}/consents`);
    assert.equal(state.body.current.marketing.granted, true);
    assert.equal(state.body.current.marketing.textVersion, 'marketing-v2');
    assert.equal(state.body.current.data_sharing.granted, false);

    const withdraw = await post(`/api/contacts/${contactId}/consents`, { purpose: 'marketing', action: 'withdrawn', channel: 'api' });
    assert.equal(withdraw.status, 201, JSON.stringify(withdraw.body));
    state = await get(`/api/contacts/${contactId}/consents`);
    assert.equal(state.body.current.marketing.granted, false);
    assert.deepEqual(state.body.ledger.map((e: { action: string }) => e.action), ['withdrawn', 'granted']);
    const handle = stack.deps.temporal.client.workflow.getHandle(nurturingWorkflowId(t.tenantId, lead.id));
    await until('nurturing told of the opt-out', async () => (await signalsOf(handle.workflowId)).includes('optedOut'));

    // The application's own role cannot rewrite history.
    await assert.rejects(
      db((trx) => trx('consent_events').where({ contactId }).update({ action: 'granted' })),
      /append-only/,
    );
    await assert.rejects(db((trx) => trx('consent_events').where({ contactId }).delete()), /append-only/);
    state = await get(`/api/contacts/${contactId}/consents`);
    assert.equal(state.body.ledger.length, 2);
  });

  it('the public lead form: accepted, consent with IP and user agent, honeypot, fill time, rate limit, revoked key', async () => {
    const form = await post('/api/lead-forms', { name: 'Site — Lançamento Batel', consentTextVersion: 'site-2026-11' });
    assert.equal(form.status, 201, JSON.stringify(form.body));
    assert.match(form.body.key, /^lf_/);
    const listed = await get('/api/lead-forms');
    assert.ok(!JSON.stringify(listed.body).includes(form.body.key), 'the key is never shown again');
    const url = `/api/public/lead-forms/${form.body.key}/leads`;
    const headers = { 'user-agent': 'Mozilla/5.0 (teste)' };
    const waId = guestPhone();
    const ok = await stack.api.post(url, {
      headers,
      body: { name: 'Daniela', phone: `+${waId.slice(0, 2)} (${waId.slice(2, 4)}) ${waId.slice(4)}`, email: 'Daniela@Example.com', interest: 'Lançamento Batel', marketingConsent: true, startedAt: new Date(Date.now() - 30_000).toISOString() },
    });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const stored = await db(async (trx) => {
      const contact = await trx('contacts').where({ waId }).first();
      return { contact, lead: await trx('leads').where({ contactId: contact?.id }).first(), consents: await trx('consent_events').where({ contactId: contact?.id }) };
    });
    assert.equal(stored.contact.email, 'daniela@example.com');
    assert.equal(stored.lead.source, 'website_form');
    assert.equal(stored.lead.sourceDetail, 'Site — Lançamento Batel');
    assert.equal(stored.consents.length, 1);
    assert.equal(stored.consents[0].channel, 'web_form');
    assert.equal(stored.consents[0].textVersion, 'site-2026-11');
    assert.equal(stored.consents[0].evidence.userAgent, 'Mozilla/5.0 (teste)');
    assert.match(stored.consents[0].evidence.ip, /127\.0\.0\.1/);

    // The same person again: the same answer, and the lead joined, not duplicated.
    const again = await stack.api.post(url, { headers, body: { name: 'Daniela', phone: waId, interest: 'lançamento batel' } });
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, ok.body);

    const botPhone = guestPhone();
    const bot = await stack.api.post(url, { body: { name: 'Bot', phone: botPhone, website: 'http://spam.example' } });
    assert.equal(bot.status, 202);
    const hasty = await stack.api.post(url, { body: { name: 'Bot', phone: botPhone, startedAt: new Date().toISOString() } });
    assert.equal(hasty.status, 202);
    assert.equal(await db((trx) => trx('contacts').where({ waId: botPhone }).first()), undefined, 'spam stores nothing');

    const fifth = await stack.api.post(url, { body: { name: 'Eva', phone: guestPhone() } });
    assert.equal(fifth.status, 202, 'five posts a minute from one IP');
    const limited = await stack.api.post(url, { body: { name: 'Eva', phone: guestPhone() } });
    assert.equal(limited.status, 429, 'the sixth post from one IP within the minute');
    assert.ok(limited.headers.get('retry-after'));

    const unknown = await stack.api.post(`/api/public/lead-forms/lf_${'x'.repeat(43)}/leads`, { body: { name: 'Eva', phone: guestPhone() } });
    assert.equal(unknown.status, 404);
    const second = await post('/api/lead-forms', { name: 'Outro' });
    assert.equal((await stack.api.delete(`/api/lead-forms/${second.body.id}`, { token: t.admin.token })).status, 204);
    const revoked = await stack.api.post(`/api/public/lead-forms/${second.body.key}/leads`, { body: { name: 'Eva', phone: guestPhone() } });
    assert.equal(revoked.status, 404);
    assert.equal(revoked.headers.get('content-type'), 'application/problem+json');
  });

  it('a new lead is posted to the tenant’s automations as lead.created', async () => {
    const received: { event: string; data: { leadId: string; source: string } }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      const endpoint = await stack.api.request('put', '/api/automation-endpoint', { token: t.admin.token, body: { url, events: ['lead.created'] } });
      assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
      const waId = guestPhone();
      const lead = (await post('/api/leads', { contact: { waId }, interest: 'Casa térrea', source: 'portal' })).body;
      await post('/api/leads', { contact: { waId }, interest: 'casa terrea' });
      const got = await until('lead.created delivered', async () => received.find((r) => r.data.leadId === lead.id));
      assert.equal(got.event, 'lead.created');
      assert.equal(got.data.source, 'portal');
      const delivery = stack.deps.temporal.client.workflow.getHandle(automationEventWorkflowId(t.tenantId, `lead:${lead.id}:created`));
      await delivery.result();
      assert.equal((await delivery.describe()).status.name, 'COMPLETED', 'delivered without retries left pending');
    } finally {
      await stack.api.request('put', '/api/automation-endpoint', { token: t.admin.token, body: { url: 'http://127.0.0.1:9/off', events: ['lead.created'], active: false } });
      await new Promise((r) => server.close(r));
    }
  });

  it('another tenant’s lead, contact and offering are not found', async () => {
    const other = await provisionTenant(stack, (await superAdmin(stack)).token);
    const lead = (await post('/api/leads', { contact: { waId: guestPhone() }, interest: 'Sala comercial' })).body;
    for (const path of [`/api/leads/${lead.id}`, `/api/leads/${lead.id}/timeline`, `/api/contacts/${lead.contact.id}`, `/api/contacts/${lead.contact.id}/consents`]) {
      assert.equal((await get(path, other.admin.token)).status, 404, path);
    }
    const foreign = await post('/api/leads', { contact: { id: lead.contact.id }, interest: 'x' }, { token: other.admin.token });
    assert.equal(foreign.status, 400, 'a contact of another tenant is unknown here');
  });
});
