import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { resolveContactId } from '../../db/contacts';
import { withTenant } from '../../db/tenant-scope';
import { conversation, conversationStateQuery, conversationWorkflowId } from '../../workflows/conversation';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { workflowBundle } from '../../workers/worker';
import { orquestraDataConverter } from '../../infra/temporal';
import { GRAPH_ERRORS } from '../../scripts/sandbox/graph-api';
import { lastUserText } from '../fakes/openai';
import { textMessage } from '../fakes/meta-payloads';
import { addUser } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, messagesOf, until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';

// The conversation as guests and attendants live it, end to end: webhook → workflow → Graph API,
// REST actions → workflow updates, against the real Temporal, Postgres and Redis.

const ALWAYS_OPEN: TenantSettings['businessHours'] = Object.fromEntries(
  Object.keys(DEFAULT_TENANT_SETTINGS.businessHours).map((d) => [d, { open: '00:00', close: '23:59' }]),
) as TenantSettings['businessHours'];
const ALWAYS_CLOSED: TenantSettings['businessHours'] = Object.fromEntries(
  Object.keys(DEFAULT_TENANT_SETTINGS.businessHours).map((d) => [d, null]),
) as TenantSettings['businessHours'];

describe('conversation lifecycle', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ ai: true, env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '300' } });
  });
  after(async () => stack.stop());

  const openTenant = (extra: Partial<TenantSettings> = {}) =>
    whatsappTenant(stack, { businessHours: ALWAYS_OPEN, observeNationalHolidays: false, ...extra });

  async function waitStatus(t: WhatsAppTenant, guest: string, status: string) {
    return until(`conversation ${status}`, async () => {
      const c = await conversationOf(stack, t.tenantId, guest);
      return c?.status === status && c;
    });
  }

  it('the AI answers; asked for a person it hands over and stays silent; an attendant accepts, replies, notes, transfers and resolves; the AI answers again', async () => {
    const t = await openTenant();
    const guest = guestPhone();
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const colleague = await addUser(stack, t, 'ATTENDANT');

    await guestSays(stack, t, guest, 'Vocês aceitam pets?');
    const first = await stack.graph.waitForSent((m) => m.to === guest);
    assert.match(first.text ?? '', /aceitam pets/);

    await guestSays(stack, t, guest, 'Quero falar com um atendente');
    const conv = await waitStatus(t, guest, 'escalated');
    assert.equal(conv.iaLocked, true);
    // Within business hours the guest hears at once that a person will take over.
    await stack.graph.waitForSent((m) => m.to === guest && m.text === DEFAULT_TENANT_SETTINGS.conversation.handoffMessage);
    const queue = await stack.api.get('/api/escalations', { token: attendant.token });
    assert.equal(queue.status, 200);
    assert.ok(queue.body.items.some((e: any) => e.conversationId === conv.id && e.status === 'waiting' && e.reason === 'guest_asked_for_person'));

    // With people in charge, the AI stays silent.
    await guestSays(stack, t, guest, 'Alô? Tem alguém aí?');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(stack.graph.sentTo(guest).length, 2, 'the AI’s answer and the handoff notice, nothing more');

    const accepted = await stack.api.post(`/api/conversations/${conv.id}/accept`, { token: attendant.token });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.status, 'assigned');
    assert.equal(accepted.body.assigneeId, attendant.id);
    const again = await stack.api.post(`/api/conversations/${conv.id}/accept`, { token: colleague.token });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /já foi aceita/);

    const reply = await stack.api.post(`/api/conversations/${conv.id}/reply`, { token: attendant.token, body: { text: 'Olá, aqui é a Ana da recepção. Aceitamos pets sim!' } });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.status, 'accepted');
    await stack.graph.waitForSent((m) => m.to === guest && /Ana da recepção/.test(m.text ?? ''));

    const note = await stack.api.post(`/api/conversations/${conv.id}/notes`, { token: attendant.token, body: { text: 'Hóspede com cachorro de porte médio' } });
    assert.equal(note.status, 201);
    assert.ok(!stack.graph.sent.some((m) => /porte médio/.test(m.text ?? '')), 'a note is never sent to the guest');

    const transfer = await stack.api.post(`/api/conversations/${conv.id}/transfer`, { token: attendant.token, body: { toUserId: colleague.id } });
    assert.equal(transfer.status, 200, JSON.stringify(transfer.body));
    assert.equal(transfer.body.assigneeId, colleague.id);

    const resolved = await stack.api.post(`/api/conversations/${conv.id}/resolve`, { token: colleague.token });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.status, 'ai');
    const sentBefore = stack.graph.sentTo(guest).length;
    await guestSays(stack, t, guest, 'Obrigado! E o check-out é que horas?');
    await until('AI answers again', async () => stack.graph.sentTo(guest).length > sentBefore);

    const msgs = await messagesOf(stack, t.tenantId, conv.id);
    assert.deepEqual(
      msgs.map((m: any) => `${m.direction}:${m.senderType}`),
      ['inbound:contact', 'outbound:ai', 'inbound:contact', 'outbound:system', 'inbound:contact', 'outbound:user', 'internal:user', 'inbound:contact', 'outbound:ai'],
    );
    const esc = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('escalations').where({ conversationId: conv.id }).first());
    assert.equal(esc.status, 'resolved');
    assert.equal(esc.acceptedBy, colleague.id);
    const audit = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('audit_events').where({ entityId: conv.id }).orderBy('id').pluck('action'));
    assert.deepEqual(audit, ['conversation.escalated', 'conversation.accepted', 'conversation.note_added', 'conversation.transferred', 'conversation.resolved']);
    await recordHistory(stack, conv.workflowId, 'conversation-escalated-resolved');
  });

  it('within business hours, a guest the assistant hands over hears so at once, once per escalation', async () => {
    const t = await openTenant();
    const guest = guestPhone();
    const attendant = await addUser(stack, t, 'ATTENDANT');
    const notice = DEFAULT_TENANT_SETTINGS.conversation.handoffMessage;
    // The assistant cannot answer this one and decides to hand it over.
    stack.openai!.respondWith((req) =>
      /reserva/.test(lastUserText(req))
        ? { action: 'escalate', intent: 'booking', confidence: 0.9, reason: 'wants to book' }
        : { action: 'reply', reply: `Resposta automática: ${lastUserText(req)}`, intent: 'question', confidence: 0.9 },
    );
    try {
      await guestSays(stack, t, guest, 'Queria fazer uma reserva para o feriado');
      const first = await stack.graph.waitForSent((m) => m.to === guest, 10_000);
      assert.equal(first.text, notice, 'the first thing the guest hears is the handoff notice');
      const conv = await waitStatus(t, guest, 'escalated');
      const esc = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('escalations').where({ conversationId: conv.id }).first());
      assert.deepEqual([esc.reason, esc.outOfHours], ['ai:wants to book', false]);

      // More messages while waiting, the last one as an attendant accepts (both stored at once): no second notice.
      await guestSays(stack, t, guest, 'Alguém?');
      const [, accepted] = await Promise.all([
        guestSays(stack, t, guest, 'Oi??'),
        stack.api.post(`/api/conversations/${conv.id}/accept`, { token: attendant.token }),
      ]);
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body.escalation.handoffNoticeSent, true);
      // The attendant's reply goes out after every earlier message was handled: the conversation handles them in order.
      await stack.api.post(`/api/conversations/${conv.id}/reply`, { token: attendant.token, body: { text: 'Oi! Aqui é a recepção.' } });
      await stack.graph.waitForSent((m) => m.to === guest && m.text === 'Oi! Aqui é a recepção.');
      assert.deepEqual(stack.graph.sentTo(guest).map((m) => m.text), [notice, 'Oi! Aqui é a recepção.']);
      const out = (await messagesOf(stack, t.tenantId, conv.id)).filter((m: any) => m.direction === 'outbound');
      assert.deepEqual(out.map((m: any) => `${m.senderType}:${m.body}`), [`system:${notice}`, 'user:Oi! Aqui é a recepção.']);

      // Resolved and handed over again (the guest asks for a person this time): a new escalation, a new notice.
      assert.equal((await stack.api.post(`/api/conversations/${conv.id}/resolve`, { token: attendant.token })).status, 200);
      await guestSays(stack, t, guest, 'Quero falar com uma pessoa de novo');
      await until('a second notice', async () => stack.graph.sentTo(guest).filter((m) => m.text === notice).length === 2);

      // Today's code replays its own fresh history, the notice's patch marker included (and the
      // accept that overlapped a guest's message, which once replayed in another order).
      const history = await stack.deps.temporal.client.workflow.getHandle(conv.workflowId).fetchHistory();
      assert.ok(history.events?.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch'), 'the notice is guarded by a patch');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: orquestraDataConverter(stack.deps.payloadCodec) }, history, conv.workflowId);
    } finally {
      stack.openai!.respondWith();
    }
  });

  it('no handoff notice when the tenant turned it off, nor when staff take the conversation', async () => {
    const off = await openTenant({ conversation: { ...DEFAULT_TENANT_SETTINGS.conversation, handoffNoticeEnabled: false } });
    const on = await openTenant();
    const attendantOff = await addUser(stack, off, 'ATTENDANT');
    const attendantOn = await addUser(stack, on, 'ATTENDANT');

    // Turned off: the guest asks for a person and hears nothing until the attendant writes.
    const guest = guestPhone();
    await guestSays(stack, off, guest, 'Quero falar com um atendente');
    const conv = await waitStatus(off, guest, 'escalated');
    await stack.api.post(`/api/conversations/${conv.id}/reply`, { token: attendantOff.token, body: { text: 'Olá, sou a Ana.' } });
    await stack.graph.waitForSent((m) => m.to === guest && m.text === 'Olá, sou a Ana.');
    assert.deepEqual(stack.graph.sentTo(guest).map((m) => m.text), ['Olá, sou a Ana.']);

    // Staff escalate a conversation the AI was answering: the guest is not told.
    const other = guestPhone();
    await guestSays(stack, on, other, 'Vocês têm estacionamento?');
    await stack.graph.waitForSent((m) => m.to === other);
    const running = await until('conversation', () => conversationOf(stack, on.tenantId, other));
    const escalated = await stack.api.post(`/api/conversations/${running.id}/escalate`, { token: attendantOn.token, body: { reason: 'cliente VIP' } });
    assert.equal(escalated.status, 200, JSON.stringify(escalated.body));
    await stack.api.post(`/api/conversations/${running.id}/reply`, { token: attendantOn.token, body: { text: 'Olá, sou o Beto.' } });
    await stack.graph.waitForSent((m) => m.to === other && m.text === 'Olá, sou o Beto.');
    assert.equal(stack.graph.sentTo(other).length, 2, 'the AI’s answer and the attendant’s, no notice');
  });

  it('an escalation not accepted within the SLA notifies managers again, each SLA period', async () => {
    const t = await openTenant({ escalation: { acceptanceSlaMinutes: 0.04 } }); // 2.4 s
    const guest = guestPhone();
    await guestSays(stack, t, guest, 'Preciso falar com um humano');
    const conv = await waitStatus(t, guest, 'escalated');
    const esc = await until('two SLA breaches', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => {
        const e = await trx('escalations').where({ conversationId: conv.id }).first();
        return e.slaBreaches >= 2 && e;
      }),
    );
    assert.equal(esc.status, 'waiting');
    const breaches = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('audit_events').where({ entityId: conv.id, action: 'escalation.sla_breached' }).count('* as n').first());
    assert.ok(Number(breaches?.n) >= 2);
  });

  it('outside business hours the guest hears the out-of-hours message once per escalation, and no SLA clock runs', async () => {
    const t = await whatsappTenant(stack, { businessHours: ALWAYS_CLOSED, escalation: { acceptanceSlaMinutes: 0.02 } });
    const guest = guestPhone();
    await guestSays(stack, t, guest, 'Quero falar com atendente');
    const notice = await stack.graph.waitForSent((m) => m.to === guest);
    assert.equal(notice.text, DEFAULT_TENANT_SETTINGS.conversation.outOfHoursMessage);
    await guestSays(stack, t, guest, 'Alguém?');
    await guestSays(stack, t, guest, 'Oi??');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(stack.graph.sentTo(guest).length, 1, 'the out-of-hours message goes once');
    const conv = await conversationOf(stack, t.tenantId, guest);
    const esc = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('escalations').where({ conversationId: conv.id }).first());
    assert.equal(esc.outOfHours, true);
    assert.equal(esc.slaDueAt, null, 'no business hours ahead: no acceptance deadline');
    assert.equal(esc.slaBreaches, 0);
  });

  it('a conversation idle for the inactivity period closes itself; the next message opens a new one', async () => {
    const t = await openTenant({ conversation: { ...DEFAULT_TENANT_SETTINGS.conversation, inactivityCloseHours: 2 / 3600 } });
    const guest = guestPhone();
    await guestSays(stack, t, guest, 'Oi, bom dia');
    const first = await until('first conversation', () => conversationOf(stack, t.tenantId, guest));
    const closed = await waitStatus(t, guest, 'closed');
    assert.equal(closed.closeReason, 'inactivity');
    const result = await stack.deps.temporal.client.workflow.getHandle(first.workflowId, undefined, { firstExecutionRunId: undefined }).result();
    assert.equal(result.closedReason, 'inactivity');
    await recordHistory(stack, first.workflowId, 'conversation-auto-closed');

    await guestSays(stack, t, guest, 'Voltei! Vocês têm estacionamento?');
    const second = await until('a new conversation', async () => {
      const c = await conversationOf(stack, t.tenantId, guest);
      return c && c.id !== first.id && c;
    });
    assert.notEqual(second.status, 'closed');
    const oldMessages = await messagesOf(stack, t.tenantId, first.id);
    assert.ok(oldMessages.every((m: any) => !/estacionamento/.test(m.body)), 'the new message belongs to the new conversation');
  });

  it('free text outside the 24-hour window is refused with a clear error; a template goes', async () => {
    const t = await openTenant();
    const guest = guestPhone();
    const attendant = await addUser(stack, t, 'ATTENDANT');
    // Meta redelivers for days: this message is 25 h old when it finally arrives.
    const old = Math.floor(Date.now() / 1000) - 25 * 3600;
    await guestSays(stack, t, guest, textMessage({ from: guest, body: 'Olá, ainda tem quarto?', timestamp: old }));
    const conv = await waitStatus(t, guest, 'escalated');
    const esc = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('escalations').where({ conversationId: conv.id }).first());
    assert.equal(esc.reason, 'window_closed');
    assert.equal(stack.graph.sentTo(guest).length, 0, 'the AI does not answer outside the window');

    const text = await stack.api.post(`/api/conversations/${conv.id}/reply`, { token: attendant.token, body: { text: 'Temos sim!' } });
    assert.equal(text.status, 409);
    assert.match(text.body.detail, /24 horas/);
    assert.equal(stack.graph.sentTo(guest).length, 0);

    const template = await stack.api.post(`/api/conversations/${conv.id}/reply`, {
      token: attendant.token,
      body: { content: { type: 'template', name: 'retomar_contato', language: 'pt_BR' } },
    });
    assert.equal(template.status, 200, JSON.stringify(template.body));
    const sent = await stack.graph.waitForSent((m) => m.to === guest);
    assert.equal(sent.templateName, 'retomar_contato');
  });

  it('a throttled send (429 / 130429) is retried with backoff and goes out once', async () => {
    const t = await openTenant();
    const guest = guestPhone();
    stack.graph.failNextSend(2, GRAPH_ERRORS.throttled);
    await guestSays(stack, t, guest, 'Qual o valor da diária?');
    const sent = await stack.graph.waitForSent((m) => m.to === guest, 20_000);
    assert.match(sent.text ?? '', /diária/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(stack.graph.sentTo(guest).length, 1);
    const conv = await conversationOf(stack, t.tenantId, guest);
    const out = (await messagesOf(stack, t.tenantId, conv.id)).filter((m: any) => m.direction === 'outbound');
    assert.equal(out.length, 1);
    assert.equal(out[0].wamid, sent.wamid);
  });

  it('a non-retryable send error marks the message failed with the reason and tells the attendant, without retrying', async () => {
    const t = await openTenant();
    const guest = guestPhone();
    const attendant = await addUser(stack, t, 'ATTENDANT');
    await guestSays(stack, t, guest, 'Quero falar com uma pessoa');
    const conv = await waitStatus(t, guest, 'escalated');
    await stack.api.post(`/api/conversations/${conv.id}/accept`, { token: attendant.token });
    stack.graph.failNextSend(1, GRAPH_ERRORS.undeliverable);
    const before = stack.graph.requests.length;
    const reply = await stack.api.post(`/api/conversations/${conv.id}/reply`, { token: attendant.token, body: { text: 'Olá!' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.status, 'failed');
    assert.match(reply.body.failure, /.+/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(stack.graph.requests.length - before, 1, 'tried once');
    const failed = (await messagesOf(stack, t.tenantId, conv.id)).find((m: any) => m.id === reply.body.messageId);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 131026);
    assert.equal(failed.error.reason, reply.body.failure);
  });

  it('a long conversation continues as new, carrying its state, before its history grows large', async () => {
    const t = await openTenant();
    const guest = guestPhone();
    const { contactId, channelId } = await withTenant(stack.deps.knex, t.tenantId, async (trx) => ({
      contactId: await resolveContactId(trx, t.tenantId, { waId: guest }),
      channelId: (await trx('whatsapp_channels').first('id')).id as string,
    }));
    const workflowId = conversationWorkflowId(t.tenantId, contactId);
    // The server suggests continue-as-new at 4,096 events; this run is told to do it at 40.
    const handle = await stack.deps.temporal.client.workflow.start(conversation, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ tenantId: t.tenantId, contactId, channelId, options: { perCustomerIntervalMs: 0, maxHistoryEvents: 40 } }],
    });
    const firstRunId = handle.firstExecutionRunId;
    const before = await handle.query(conversationStateQuery);
    for (let i = 0; i < 6; i++) {
      await guestSays(stack, t, guest, `mensagem-${i}`);
      await stack.graph.waitForSent((m) => m.to === guest && (m.text ?? '').includes(`mensagem-${i}`));
    }
    const latest = stack.deps.temporal.client.workflow.getHandle(workflowId);
    const description = await latest.describe();
    assert.notEqual(description.runId, firstRunId, `a new run took over (history ${description.historyLength} events)`);
    assert.ok(description.historyLength <= 60, `history stays bounded (${description.historyLength} events)`);
    const after = await latest.query(conversationStateQuery);
    assert.equal(after.conversationId, before.conversationId, 'the same conversation goes on');
    assert.ok(after.lastInboundAt, 'the 24-hour window travels with it');
    const conv = await conversationOf(stack, t.tenantId, guest);
    assert.equal((await messagesOf(stack, t.tenantId, conv.id)).filter((m: any) => m.direction === 'inbound').length, 6);
  });
});
