import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sendToContact } from '../../activities/contact-messaging';
import { withTenant } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { appointmentWorkflowId } from '../../workflows/appointment/definitions';
import { conversationWorkflowId } from '../../workflows/conversation';
import { nurturingWorkflowId } from '../../workflows/nurturing/definitions';
import { metaEnvelope, templateQuickReply } from '../fakes/meta-payloads';
import { recordHistory } from '../support/histories';
import { createCadence, send } from './nurturing-support';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, guestSays, postWebhook, setTenantSettings, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// The sales funnel's WhatsApp hooks, end to end: sending to a contact through its conversation,
// opt-outs by word and by Meta's notice, replies and appointment answers reaching their
// workflows, and a first message opening a lead when the tenant wants it.

describe('leads over WhatsApp', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '200' } });
    t = await whatsappTenant(stack);
  });
  after(() => stack.stop());

  const db = <T>(tenantId: string, work: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.deps.knex, tenantId, work);
  const activityDeps = () => ({ knex: stack.deps.knex, temporal: { client: stack.deps.temporal.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE } });
  const signalsOf = async (workflowId: string) => {
    const history = await stack.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const a = e.workflowExecutionSignaledEventAttributes;
      return a?.signalName ? [a.signalName] : [];
    });
  };
  const newLead = async (tenant: WhatsAppTenant, waId: string, interest: string) => {
    const r = await stack.api.post('/api/leads', { token: tenant.admin.token, body: { contact: { waId, name: 'Cliente' }, interest } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; contact: { id: string } };
  };
  const ledger = (tenantId: string, contactId: string) => db(tenantId, (trx) => trx('consent_events').where({ contactId }).orderBy('seq'));

  it('sendToContact sends a template through the conversation once per update id, and hands back Meta’s refusal code', async () => {
    const waId = guestPhone();
    const c = await stack.api.post('/api/contacts', { token: t.admin.token, body: { waId, name: 'Fernanda' } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const content = { type: 'template' as const, name: 'novidades_semana', language: 'pt_BR' };
    const updateId = `test:${randomUUID()}:step-1`;
    const sent = await sendToContact(activityDeps(), { tenantId: t.tenantId, contactId: c.body.id, content, updateId });
    assert.equal(sent.status, 'accepted', JSON.stringify(sent));
    assert.ok(sent.wamid);
    const again = await sendToContact(activityDeps(), { tenantId: t.tenantId, contactId: c.body.id, content, updateId });
    assert.equal(again.messageId, sent.messageId, 'a retried step gets the first send back');
    assert.deepEqual(stack.graph.sentTo(waId).map((m) => m.templateName), ['novidades_semana']);

    stack.graph.failNextSend(1, { status: 400, body: { error: { message: 'Message failed to send because the user has stopped marketing messages', code: 131050, type: 'OAuthException' } } });
    const refused = await sendToContact(activityDeps(), { tenantId: t.tenantId, contactId: c.body.id, content, updateId: `test:${randomUUID()}:step-2` });
    assert.equal(refused.status, 'failed');
    assert.equal(refused.code, 131050);
    assert.equal(stack.graph.sentTo(waId).length, 1);
  });

  it('"SAIR" withdraws marketing consent (whatsapp, with the wamid) and stops the open leads’ cadences', async () => {
    const waId = guestPhone();
    const lead = await newLead(t, waId, 'Apartamento 3 quartos');
    await stack.api.post(`/api/contacts/${lead.contact.id}/consents`, { token: t.admin.token, body: { purpose: 'marketing', action: 'granted', textVersion: 'marketing-v1' } });
    const msg = await guestSays(stack, t, waId, 'SAIR');
    const rows = await until('withdrawal recorded', async () => {
      const r = await ledger(t.tenantId, lead.contact.id);
      return r.length === 2 && r;
    });
    assert.equal(rows[1].action, 'withdrawn');
    assert.equal(rows[1].channel, 'whatsapp');
    assert.equal(rows[1].evidence.wamid, msg.id);
    await until('nurturing told of the opt-out', async () => (await signalsOf(nurturingWorkflowId(t.tenantId, lead.id))).includes('optedOut'));
    const state = await stack.api.get(`/api/contacts/${lead.contact.id}/consents`, { token: t.admin.token });
    assert.equal(state.body.current.marketing.granted, false);
  });

  it('a reply stops the cadence; an appointment button reaches the appointment’s workflow', async () => {
    const waId = guestPhone();
    const lead = await newLead(t, waId, 'Test drive');
    const appointmentId = randomUUID();
    await db(t.tenantId, (trx) =>
      trx('appointments').insert({
        id: appointmentId, tenantId: t.tenantId, leadId: lead.id, contactId: lead.contact.id, kind: 'test_drive',
        startsAt: new Date(Date.now() + 86_400_000), endsAt: new Date(Date.now() + 90_000_000), workflowId: appointmentWorkflowId(t.tenantId, appointmentId),
      }),
    );
    // Stands in for the appointment's workflow: its history shows what it was told.
    await stack.deps.temporal.client.workflow.start('appointmentStandIn', { workflowId: appointmentWorkflowId(t.tenantId, appointmentId), taskQueue: `nobody-${randomUUID()}` });
    await guestSays(stack, t, waId, templateQuickReply({ from: waId, payload: `appointment:${appointmentId}:confirm`, text: 'Confirmar' }));
    await until('appointment told', async () => (await signalsOf(appointmentWorkflowId(t.tenantId, appointmentId))).includes('contactAnswered'));
    await until('nurturing told of the reply', async () => (await signalsOf(nurturingWorkflowId(t.tenantId, lead.id))).includes('contactReplied'));
    await stack.deps.temporal.client.workflow.getHandle(appointmentWorkflowId(t.tenantId, appointmentId)).terminate('test over');
  });

  it('Meta’s "stop promotions" records a meta_opt_out withdrawal; "resume" grants nothing', async () => {
    const waId = guestPhone();
    const lead = await newLead(t, waId, 'Consórcio');
    const notice = (value: 'stop' | 'resume', timestamp: number) => {
      const envelope = metaEnvelope([{ wabaId: t.number.wabaId, phoneNumberId: t.number.phoneNumberId }]);
      const change = envelope.entry[0]!.changes[0]!;
      change.field = 'user_preferences';
      change.value = { ...change.value, user_preferences: [{ wa_id: waId, detail: 'User requested to stop marketing messages', category: 'marketing_messages', value, timestamp }] };
      return envelope;
    };
    const ts = Math.floor(Date.now() / 1000);
    const res = await postWebhook(stack, notice('stop', ts));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await postWebhook(stack, notice('stop', ts))).status, 200, 'Meta redelivers');
    let rows = await ledger(t.tenantId, lead.contact.id);
    assert.equal(rows.length, 1, 'recorded once');
    assert.equal(rows[0].channel, 'meta_opt_out');
    assert.equal(rows[0].action, 'withdrawn');
    await until('nurturing told of the opt-out', async () => (await signalsOf(nurturingWorkflowId(t.tenantId, lead.id))).includes('optedOut'));
    assert.equal((await postWebhook(stack, notice('resume', ts + 60))).status, 200);
    rows = await ledger(t.tenantId, lead.contact.id);
    assert.equal(rows.length, 1, 'resuming on WhatsApp is not consent');
  });

  it('an unknown contact’s first message opens a whatsapp lead when the tenant turns it on, and not otherwise', async () => {
    const on = await whatsappTenant(stack, { sales: { ...DEFAULT_TENANT_SETTINGS.sales, leadFromWhatsApp: true } });
    // A default cadence that waits, so the lead's nurturing is still running when the second
    // message comes (without one it ends at once, and whether it heard the reply was a race).
    await createCadence(stack, on.admin.token, [{ type: 'wait', businessDays: 5 }, send('retorno', 0, 'utility')], true);
    const waId = guestPhone();
    await guestSays(stack, on, waId, 'Oi! Vi o anúncio do Onix, ainda está disponível?');
    const lead = await until('lead opened', async () =>
      (await db(on.tenantId, (trx) => trx('leads').join('contacts', 'contacts.id', 'leads.contactId').where('contacts.waId', waId).first('leads.*'))) as
        | { id: string; contactId: string; source: string }
        | undefined,
    );
    assert.equal(lead.source, 'whatsapp');
    const events = await db(on.tenantId, (trx) => trx('lead_events').where({ leadId: lead.id }).whereIn('type', ['created', 'joined']).select('type', 'data'));
    // (Scoring and assignment rows are the nurturing workflow's, which runs on its own.)
    assert.deepEqual(events.map((e) => e.type), ['created']);
    assert.match(String(events[0].data.note), /Onix/);
    // Its own first message is no reply to stop it for.
    await guestSays(stack, on, waId, 'Pode me mandar fotos?');
    await until('the second message reached the lead', async () => (await signalsOf(nurturingWorkflowId(on.tenantId, lead.id))).includes('contactReplied'));
    const signals = await signalsOf(nurturingWorkflowId(on.tenantId, lead.id));
    assert.equal(signals.filter((s) => s === 'contactReplied').length, 1, 'only the second message counts as a reply');
    assert.equal((await db(on.tenantId, (trx) => trx('leads').where({ contactId: lead.contactId }))).length, 1, 'one lead for the contact');
    const timeline = await stack.api.get(`/api/leads/${lead.id}/timeline`, { token: on.admin.token });
    const inbound = timeline.body.items.filter((i: { type: string; data: { direction?: string } }) => i.type === 'message' && i.data.direction === 'inbound');
    // Meta's times are whole seconds: two messages in one second may come in either order.
    assert.deepEqual(inbound.map((i: { data: { body: string } }) => i.data.body).sort(), ['Oi! Vi o anúncio do Onix, ainda está disponível?', 'Pode me mandar fotos?']);

    const offWa = guestPhone();
    await setTenantSettings(stack, t.tenantId, { sales: { ...DEFAULT_TENANT_SETTINGS.sales, leadFromWhatsApp: false } });
    await guestSays(stack, t, offWa, 'Bom dia, vocês abrem sábado?');
    // The AI answers after the sales routing ran for the message.
    await until('assistant answered', async () => stack.graph.sentTo(offWa).length > 0);
    const none = await db(t.tenantId, (trx) => trx('leads').join('contacts', 'contacts.id', 'leads.contactId').where('contacts.waId', offWa).first());
    assert.equal(none, undefined);
    await recordHistory(stack, conversationWorkflowId(on.tenantId, lead.contactId), 'conversation-sales-inbound');
  });
});
