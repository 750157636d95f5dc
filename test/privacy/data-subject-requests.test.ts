import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import knexFactory, { type Knex } from 'knex';
import { registerDataSubjectRequest, workflowStartOf } from '../../activities/data-subject-requests';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { withTenant } from '../../db/tenant-scope';
import { ERASED_MESSAGE_BODY, pseudonymOf } from '../../domain/data-subject-requests';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { decodedHistoryText } from '../../infra/temporal-history-text';
import { conversationWorkflowId } from '../../workflows/conversation';
import { dataSubjectRequestStateQuery, dataSubjectRequestWorkflowId } from '../../workflows/data-subject-request';
import { startOptions } from '../../workflows/workflow-start';
import { newInvoice } from '../billing/dunning-support';
import { imageMessage, mediaId, textMessage } from '../fakes/meta-payloads';
import { addUser } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, guestSays, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// LGPD data-subject requests (art. 18) end to end, against the real Temporal, Postgres and Redis:
// an erasure leaves the person's name, phone and texts nowhere (every table of the tenant, the
// media directory, every Redis key and stream entry, every decoded payload of every workflow of
// the tenant), an export holds everything, the contact may ask on WhatsApp, nothing happens before
// staff confirm the person's identity, and staff hear of the deadline as it nears.

const ALWAYS_OPEN: TenantSettings['businessHours'] = Object.fromEntries(
  Object.keys(DEFAULT_TENANT_SETTINGS.businessHours).map((d) => [d, { open: '00:00', close: '23:59' }]),
) as TenantSettings['businessHours'];

interface Received {
  body: { event: string; data: Record<string, unknown> };
}

async function automationReceiver(status: number) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (status < 300) received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, close: () => new Promise((r) => server.close(r)) };
}

describe('LGPD data-subject requests', () => {
  let stack: TestStack;
  let owner: Knex;
  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '200' } });
    // The owner role is held to RLS too (forced); it reads every table, granted to the app or not.
    owner = knexFactory({ client: 'pg', connection: resolveDatabaseSettings().ownerUrl, pool: { min: 0, max: 2 } });
  });
  after(async () => {
    await owner.destroy();
    await stack.stop();
  });

  const openTenant = () => whatsappTenant(stack, { businessHours: ALWAYS_OPEN, observeNationalHolidays: false });

  async function contactIdOf(t: WhatsAppTenant, waId: string): Promise<string> {
    return until('contact row', () => withTenant(stack.deps.knex, t.tenantId, async (trx) => (await trx('contacts').where({ waId }).first('id'))?.id as string | undefined));
  }

  async function register(t: WhatsAppTenant, body: Record<string, unknown>, token = t.admin.token) {
    const res = await stack.api.post('/api/data-subject-requests', { token, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; protocol: string; workflowId: string; status: string; dueAt: string };
  }

  async function completed(t: WhatsAppTenant, id: string) {
    return until(
      'request completed',
      async () => {
        const r = await stack.api.get(`/api/data-subject-requests/${id}`, { token: t.admin.token });
        return r.body.status === 'completed' ? r.body : undefined;
      },
      60_000,
    );
  }

  async function auditActions(t: WhatsAppTenant, entityId: string): Promise<string[]> {
    return withTenant(stack.deps.knex, t.tenantId, async (trx) => (await trx('audit_events').where({ entityId }).orderBy('id').select('action')).map((r) => r.action as string));
  }

  // --- Where the person's data could be left ---------------------------------------------------
  async function postgresText(tenantId: string): Promise<Map<string, string>> {
    const { rows: tables } = await owner.raw(`
      SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' ORDER BY 1`);
    const out = new Map<string, string>();
    await owner.transaction(async (trx) => {
      await trx.raw(`SELECT set_config('app.tenant_id', ?, true)`, [tenantId]);
      for (const { table_name: table } of tables as { table_name: string }[]) {
        const { rows } = await trx.raw(`SELECT to_jsonb(x)::text AS row FROM ?? x WHERE tenant_id = ?`, [table, tenantId]);
        out.set(table, (rows as { row: string }[]).map((r) => r.row).join('\n'));
      }
    });
    return out;
  }

  async function mediaText(tenantId: string): Promise<{ files: number; text: string }> {
    const dir = join(stack.config.MEDIA_DIR, tenantId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const contents = await Promise.all(names.map((n) => readFile(join(dir, n), 'latin1')));
    return { files: names.length, text: contents.join('\n') };
  }

  async function redisText(): Promise<string> {
    const redis = stack.deps.redis!;
    const prefix = stack.config.REDIS_KEY_PREFIX;
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        parts.push(key);
        if (type === 'string') parts.push(String(await redis.get(key)));
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
    return parts.join('\n');
  }

  async function temporalText(tenantId: string): Promise<{ workflowIds: string[]; text: string; byWorkflow: Map<string, string> }> {
    const client = stack.deps.temporal.client;
    const workflowIds: string[] = [];
    const texts: string[] = [];
    const byWorkflow = new Map<string, string>();
    for await (const wf of client.workflow.list({ query: `OrquestraTenantId = '${tenantId}'` })) {
      try {
        const text = await decodedHistoryText(client, wf.workflowId, wf.runId);
        texts.push(text);
        byWorkflow.set(`${wf.workflowId} ${wf.runId} ${wf.status.name}`, text);
        workflowIds.push(wf.workflowId);
      } catch (err) {
        // Deleted: visibility may list it a moment longer.
        if (!(err instanceof WorkflowNotFoundError) && (err as { code?: number }).code !== 5) throw err;
      }
    }
    return { workflowIds, text: texts.join('\n'), byWorkflow };
  }

  const found = (text: string, needles: string[]) => needles.filter((n) => text.includes(n) || text.includes(JSON.stringify(n).slice(1, -1)));

  it('erasure: the name, the phone and the texts are found nowhere afterwards; invoices and the consent ledger stay', async () => {
    const t = await openTenant();
    const failing = await automationReceiver(500);
    const put = await stack.api.put('/api/automation-endpoint', { token: t.admin.token, body: { url: failing.url, events: ['message.received'], secret: 'segredo-lgpd-0123456789' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    const phone = '5511988887777';
    const name = 'Ana Souza';
    const email = 'ana.souza.lgpd@example.com.br';
    const texts = ['Olá! Quero reservar o chalé azul para o aniversário da minha filha Beatriz', 'Meu CPF é 12345678909 e moro na Rua das Acácias 42'];
    const caption = 'Comprovante do sinal do chalé azul pago por Ana Souza';
    for (const text of texts) {
      await guestSays(stack, t, phone, text, name);
      await stack.graph.waitForSent((m) => m.to === phone, 10_000);
    }
    const bytes = Buffer.concat([Buffer.from(`recibo ${name} ${phone} `), randomBytes(256)]);
    const media = { mediaId: mediaId(), bytes, mimeType: 'image/jpeg' };
    stack.graph.addMedia(media);
    await guestSays(stack, t, phone, imageMessage({ from: phone, ...media, caption }), name);
    const contactId = await contactIdOf(t, phone);
    await until('the media file kept', async () => (await mediaText(t.tenantId)).text.includes(name));

    // What staff know of her, her consent, and an invoice.
    const patch = await stack.api.patch(`/api/contacts/${contactId}`, { token: t.admin.token, body: { name, email } });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    const consent = await stack.api.post(`/api/contacts/${contactId}/consents`, { token: t.admin.token, body: { purpose: 'marketing', action: 'granted', textVersion: 'v1' } });
    assert.equal(consent.status, 201, JSON.stringify(consent.body));
    const invoice = await newInvoice(stack, t.tenantId, contactId, { dueDate: '2027-01-15', amountCents: 45_000 });

    // A delivery of her message is running (the endpoint keeps failing) and carries her text.
    await until('a running delivery of her message', async () => {
      for await (const wf of stack.deps.temporal.client.workflow.list({ query: `OrquestraTenantId = '${t.tenantId}' AND OrquestraEntityType = 'automation_event' AND ExecutionStatus = 'Running'` })) return wf;
      return undefined;
    });
    const needles = [name, phone, email, ...texts, caption];
    assert.deepEqual(found((await temporalText(t.tenantId)).text, [phone, texts[0]!]).sort(), [phone, texts[0]!].sort(), 'the histories hold her data before the erasure');
    assert.ok(found([...(await postgresText(t.tenantId)).values()].join('\n'), needles).length > 0);

    const request = await register(t, { contactId, kind: 'erasure' });
    assert.equal(request.status, 'awaiting_identity');
    assert.match(request.protocol, /^LGPD-\d{6}$/);
    const dueDays = (Date.parse(request.dueAt) - Date.now()) / 86_400_000;
    assert.ok(dueDays > 14 && dueDays <= 16, `due in 15 calendar days (${dueDays})`);
    const again = await stack.api.post('/api/data-subject-requests', { token: t.admin.token, body: { contactId, kind: 'erasure' } });
    assert.equal(again.status, 409, 'one open request of a kind per contact');

    // Nothing before the identity is confirmed.
    await until('registered on the record', async () => (await auditActions(t, request.id)).includes('data_subject_request.registered'));
    await new Promise((r) => setTimeout(r, 500));
    const untouched = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: contactId }).first());
    assert.equal(untouched.waId, phone);
    assert.equal(untouched.name, name);
    assert.equal((await stack.deps.temporal.client.workflow.getHandle(conversationWorkflowId(t.tenantId, contactId)).describe()).status.name, 'RUNNING', 'her conversation still runs');

    const attendant = await addUser(stack, t, 'ATTENDANT');
    const forbidden = await stack.api.post(`/api/data-subject-requests/${request.id}/confirm-identity`, { token: attendant.token });
    assert.equal(forbidden.status, 403);
    const confirmed = await stack.api.post(`/api/data-subject-requests/${request.id}/confirm-identity`, { token: t.admin.token });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.status, 'in_progress');
    const twice = await stack.api.post(`/api/data-subject-requests/${request.id}/confirm-identity`, { token: t.admin.token });
    assert.equal(twice.status, 409);

    const done = await completed(t, request.id);
    assert.ok(done.completion.temporal.deleted >= 2, `conversation and delivery deleted: ${JSON.stringify(done.completion.temporal)}`);
    assert.ok(done.completion.temporal.terminated >= 2, JSON.stringify(done.completion.temporal));
    assert.equal(done.completion.media.files, 1);
    assert.ok(done.completion.redis.streamEntries >= 1, JSON.stringify(done.completion.redis));

    // Postgres: every row of every table of the tenant.
    const tables = await postgresText(t.tenantId);
    for (const [table, text] of tables) assert.deepEqual(found(text, needles), [], `${table} still holds her data`);
    const contact = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: contactId }).first());
    assert.equal(contact.name, pseudonymOf(contactId));
    assert.equal(contact.waId, null);
    assert.equal(contact.doNotContact, true);
    const messages = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('messages').where({ contactId, direction: 'inbound' }));
    assert.equal(messages.length, 3);
    for (const m of messages) assert.equal(m.body, ERASED_MESSAGE_BODY);
    // Kept: the invoice's amounts and dates, the consent ledger's entries.
    const kept = await withTenant(stack.deps.knex, t.tenantId, async (trx) => ({
      invoice: await trx('invoices').where({ id: invoice.id }).first(),
      consents: await trx('consent_events').where({ contactId }),
    }));
    assert.equal(Number(kept.invoice.amountCents), 45_000);
    assert.equal(kept.invoice.contactId, contactId);
    assert.equal(kept.consents.length, 1);

    // The media directory, Redis, Temporal.
    const files = await mediaText(t.tenantId);
    assert.deepEqual(found(files.text, needles), []);
    assert.equal(files.files, 0, 'her file is deleted');
    assert.deepEqual(found(await redisText(), needles), [], 'Redis');
    // The erasure step ends once every execution it deleted is gone.
    const temporal = await temporalText(t.tenantId);
    const holding = [...temporal.byWorkflow].filter(([, text]) => found(text, needles).length).map(([id]) => id);
    assert.deepEqual(holding, [], 'decoded Temporal payloads hold her data');
    assert.ok(!temporal.workflowIds.includes(conversationWorkflowId(t.tenantId, contactId)));
    assert.ok(temporal.workflowIds.includes(dataSubjectRequestWorkflowId(t.tenantId, request.id)), 'the request keeps its own history (ids only)');

    const actions = await auditActions(t, request.id);
    for (const step of ['registered', 'identity_confirmed', 'erased', 'completed']) assert.ok(actions.includes(`data_subject_request.${step}`), `${step} audited: ${actions}`);
    await recordHistory(stack, request.workflowId, 'data-subject-request-erased');
    await failing.close();
  });

  it('access: the export holds the contact, every message, the consent ledger and the invoices', async () => {
    const t = await openTenant();
    const phone = guestPhone();
    const texts = ['Bom dia, qual o horário do café da manhã?', 'E vocês aceitam cachorro de porte médio?'];
    for (const text of texts) {
      await guestSays(stack, t, phone, textMessage({ from: phone, body: text }), 'Carlos Pereira');
      await stack.graph.waitForSent((m) => m.to === phone && m.text !== undefined, 10_000);
    }
    const contactId = await contactIdOf(t, phone);
    await stack.api.patch(`/api/contacts/${contactId}`, { token: t.admin.token, body: { name: 'Carlos Pereira', email: 'carlos@example.com.br' } });
    await stack.api.post(`/api/contacts/${contactId}/consents`, { token: t.admin.token, body: { purpose: 'marketing', action: 'granted', textVersion: 'v7' } });
    await newInvoice(stack, t.tenantId, contactId, { dueDate: '2027-02-10', amountCents: 98_765 });
    const lead = await stack.api.post('/api/leads', { token: t.admin.token, body: { contact: { waId: phone }, interest: 'Casamento no jardim em maio' } });
    assert.equal(lead.status, 201, JSON.stringify(lead.body));

    const request = await register(t, { contactId, kind: 'portability' });
    const early = await stack.api.get(`/api/data-subject-requests/${request.id}/export`, { token: t.admin.token });
    assert.equal(early.status, 404, 'no export before the identity is confirmed');
    assert.equal((await stack.api.post(`/api/data-subject-requests/${request.id}/confirm-identity`, { token: t.admin.token })).status, 200);
    const done = await completed(t, request.id);
    assert.equal(done.exportAvailable, true);
    assert.equal(done.completion.export.messages >= 2, true, JSON.stringify(done.completion));

    const res = await stack.api.get(`/api/data-subject-requests/${request.id}/export`, { token: t.admin.token });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="dados-LGPD-\d{6}\.json"/);
    const text = JSON.stringify(res.body);
    for (const s of ['Carlos Pereira', phone, 'carlos@example.com.br', ...texts, 'v7', '98765', 'Casamento no jardim em maio']) assert.ok(text.includes(s), `the export holds ${s}`);
    assert.equal(res.body.data.contact.id, contactId);
    assert.equal(res.body.data.consentEvents.length, 1);
    assert.equal(res.body.data.invoices.length, 1);
    assert.equal(res.body.data.leads.length, 1);
    assert.ok(res.body.data.leadEvents.length >= 1);
    assert.ok(res.body.data.conversations.length >= 1);
    const inbound = res.body.data.messages.filter((m: { direction: string }) => m.direction === 'inbound').map((m: { body: string }) => m.body);
    assert.deepEqual(inbound, texts);

    // The workflow carried counts, never the export.
    const history = await decodedHistoryText(stack.deps.temporal.client, request.workflowId);
    assert.ok(!history.includes(texts[0]!) && !history.includes(phone), 'the request’s history holds no data of the contact');
    const apiKey = await stack.api.post('/api/api-keys', { token: t.admin.token, body: { name: 'dpo', scopes: ['privacy:read'] } });
    const byKey = await stack.api.get(`/api/data-subject-requests/${request.id}/export`, { apiKey: apiKey.body.key });
    assert.equal(byKey.status, 200);
    const list = await stack.api.get(`/api/data-subject-requests?contactId=${contactId}`, { token: t.admin.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((i: { id: string }) => i.id), [request.id]);
    assert.ok((await auditActions(t, request.id)).includes('data_subject_request.export_downloaded'));
    await recordHistory(stack, request.workflowId, 'data-subject-request-exported');
  });

  it('WhatsApp: the contact asks, hears the protocol and the deadline in pt-BR; a refusal ends it without changes', async () => {
    const t = await openTenant();
    const phone = guestPhone();
    const ask = textMessage({ from: phone, body: 'Quero apagar meus dados' });
    await guestSays(stack, t, phone, ask, 'Dora Lima');
    const reply = await stack.graph.waitForSent((m) => m.to === phone && /Protocolo/.test(m.text ?? ''), 10_000);
    assert.match(reply.text ?? '', /exclusão \(anonimização\) dos seus dados/);
    assert.match(reply.text ?? '', /Protocolo: LGPD-\d{6}/);
    assert.match(reply.text ?? '', /em até 15 dias, até \d{2}\/\d{2}\/\d{4}/);
    // Meta redelivers: still one request.
    await guestSays(stack, t, phone, ask, 'Dora Lima');
    const contactId = await contactIdOf(t, phone);
    const list = await until('the request listed', async () => {
      const r = await stack.api.get(`/api/data-subject-requests?contactId=${contactId}`, { token: t.admin.token });
      return r.body.items?.length ? r.body.items : undefined;
    });
    assert.equal(list.length, 1);
    assert.equal(list[0].channel, 'whatsapp');
    assert.equal(list[0].kind, 'erasure');
    assert.equal(list[0].status, 'awaiting_identity');
    assert.ok(reply.text?.includes(list[0].protocol));

    const refused = await stack.api.post(`/api/data-subject-requests/${list[0].id}/refuse`, { token: t.admin.token, body: { reason: 'Identidade não confirmada por telefone' } });
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    assert.equal(refused.body.status, 'refused');
    const handle = stack.deps.temporal.client.workflow.getHandle(list[0].workflowId);
    assert.equal((await handle.result()).status, 'refused');
    const after = await stack.api.get(`/api/data-subject-requests/${list[0].id}`, { token: t.admin.token });
    assert.equal(after.body.refusalReason, 'Identidade não confirmada por telefone');
    assert.equal((await stack.api.post(`/api/data-subject-requests/${list[0].id}/confirm-identity`, { token: t.admin.token })).status, 409);
    const contact = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: contactId }).first());
    assert.equal(contact.waId, phone, 'nothing erased');
    assert.equal(contact.profileName, 'Dora Lima');
    const messages = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('messages').where({ contactId, direction: 'inbound' }));
    assert.deepEqual(messages.map((m) => m.body), ['Quero apagar meus dados']);
    const actions = await auditActions(t, list[0].id);
    assert.ok(actions.includes('data_subject_request.refused'));
    assert.ok(!actions.some((a) => /erased|exported|completed/.test(a)));
    await recordHistory(stack, list[0].workflowId, 'data-subject-request-refused');
    await recordHistory(stack, conversationWorkflowId(t.tenantId, contactId), 'conversation-data-subject-request');
  });

  it('correction: the fields change only after the identity is confirmed, audited by name only', async () => {
    const t = await openTenant();
    const phone = guestPhone();
    const contact = await stack.api.post('/api/contacts', { token: t.admin.token, body: { waId: phone, name: 'Eduarda Silv', email: 'edu@example.com.br' } });
    assert.equal(contact.status, 201, JSON.stringify(contact.body));
    const bad = await stack.api.post('/api/data-subject-requests', { token: t.admin.token, body: { contactId: contact.body.id, kind: 'correction' } });
    assert.equal(bad.status, 400);
    const request = await register(t, { contactId: contact.body.id, kind: 'correction', correction: { name: 'Eduarda Silva' } });
    await new Promise((r) => setTimeout(r, 500));
    const before = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contacts').where({ id: contact.body.id }).first());
    assert.equal(before.name, 'Eduarda Silv', 'nothing corrected before the identity is confirmed');
    await stack.api.post(`/api/data-subject-requests/${request.id}/confirm-identity`, { token: t.admin.token });
    const done = await completed(t, request.id);
    assert.deepEqual(done.completion.correction, { fields: ['name'] });
    const after = await withTenant(stack.deps.knex, t.tenantId, async (trx) => ({
      contact: await trx('contacts').where({ id: contact.body.id }).first(),
      audit: await trx('audit_events').where({ action: 'contact.corrected', entityId: contact.body.id }).first(),
      request: await trx('data_subject_requests').where({ id: request.id }).first(),
    }));
    assert.equal(after.contact.name, 'Eduarda Silva');
    assert.equal(after.contact.email, 'edu@example.com.br');
    assert.deepEqual(after.audit.details.fields, ['name']);
    assert.ok(!JSON.stringify(after.audit.details).includes('Eduarda'));
    assert.ok(!JSON.stringify(after.request.correction).includes('Eduarda'), 'the request keeps no copy of what it applied');
  });

  it('reminds staff as the deadline nears (days 10 and 14), then notes it overdue', async () => {
    const t = await openTenant();
    const receiver = await automationReceiver(200);
    await stack.api.put('/api/automation-endpoint', {
      token: t.admin.token,
      body: { url: receiver.url, events: ['data_subject_request.registered', 'data_subject_request.reminder', 'data_subject_request.overdue'], secret: 'segredo-lgpd-0123456789' },
    });
    const contact = await stack.api.post('/api/contacts', { token: t.admin.token, body: { waId: guestPhone(), name: 'Fábio Reis' } });
    const r = await registerDataSubjectRequest(stack.deps.knex, { tenantId: t.tenantId, contactId: contact.body.id, kind: 'access', channel: 'staff', actor: { type: 'user', id: t.admin.id } });
    assert.equal(r.outcome, 'registered');
    if (r.outcome !== 'registered') return;
    // A day lasts 250 ms: day 10 at 2.5 s, day 14 at 3.5 s, the deadline past 3.75 s. A short
    // history bound makes it continue as new on the way, carrying what it has sent.
    const start = workflowStartOf(r.request, { dayMs: 250, maxHistoryEvents: 12 });
    const handle = await stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
    const early = await until('the live state', () => handle.query(dataSubjectRequestStateQuery).catch(() => undefined));
    assert.equal(early.nextReminder?.key, 'day10');
    const overdue = await until('overdue noted', async () => {
      const v = await handle.query(dataSubjectRequestStateQuery);
      return v.overdue ? v : undefined;
    }, 20_000);
    assert.deepEqual(overdue.remindersSent, ['day10', 'day14']);
    assert.notEqual((await handle.describe()).runId, handle.firstExecutionRunId, 'continued as new');
    const events = await until('the reminders posted', async () => {
      const e = receiver.received.map((x) => `${x.body.event}:${String(x.body.data.reminder ?? '')}`);
      return e.includes('data_subject_request.overdue:') && e.filter((x) => x.startsWith('data_subject_request.reminder')).length === 2 ? e : undefined;
    }, 20_000);
    assert.ok(events.includes('data_subject_request.reminder:day10') && events.includes('data_subject_request.reminder:day14'));
    for (const e of receiver.received) assert.deepEqual(Object.keys(e.body.data).filter((k) => !['requestId', 'protocol', 'contactId', 'kind', 'status', 'dueAt', 'reminder'].includes(k)), [], 'ids and dates only');
    const actions = await auditActions(t, r.request.id);
    assert.equal(actions.filter((a) => a === 'data_subject_request.reminder').length, 2);
    assert.ok(actions.includes('data_subject_request.overdue'));
    // Still answerable after the deadline: refused here, which ends it.
    assert.equal((await stack.api.post(`/api/data-subject-requests/${r.request.id}/refuse`, { token: t.admin.token, body: { reason: 'Titular não respondeu à verificação' } })).status, 200);
    assert.equal((await handle.result()).status, 'refused');
    await recordHistory(stack, handle.workflowId, 'data-subject-request-reminded');
    await receiver.close();
  });
});
