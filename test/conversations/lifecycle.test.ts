import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveContactId } from '../../db/contacts';
import { withTenant } from '../../db/tenant-scope';
import { conversation, conversationStateQuery, conversationWorkflowId } from '../../workflows/conversation';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { GRAPH_ERRORS } from '../../scripts/sandbox/graph-api';
import { textMessage } from '../fakes/meta-payloads';
import { addUser } from '../support/fixtures';
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

  async function record(workflowId: string, name: string) {
    if (!process.env.RECORD_HISTORIES) return;
    const json = execFileSync(process.env.TEMPORAL_CLI ?? 'temporal', ['workflow', 'show', '--workflow-id', workflowId, '--address', stack.config.TEMPORAL_ADDRESS, '--output', 'json']);
    writeFileSync(join(__dirname, '..', 'histories', `${name}.json`), json);
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
    const queue = await stack.api.get('/api/escalations', { token: attendant.token });
    assert.equal(queue.status, 200);
    assert.ok(queue.body.items.some((e: any) => e.conversationId === conv.id && e.status === 'waiting' && e.reason === 'guest_asked_for_person'));

    // With people in charge, the AI stays silent.
    await guestSays(stack, t, guest, 'Alô? Tem alguém aí?');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(stack.graph.sentTo(guest).length, 1);

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
      ['inbound:contact', 'outbound:ai', 'inbound:contact', 'inbound:contact', 'outbound:user', 'internal:user', 'inbound:contact', 'outbound:ai'],
    );
    const esc = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('escalations').where({ conversationId: conv.id }).first());
    assert.equal(esc.status, 'resolved');
    assert.equal(esc.acceptedBy, colleague.id);
    const audit = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('audit_events').where({ entityId: conv.id }).orderBy('id').pluck('action'));
    assert.deepEqual(audit, ['conversation.escalated', 'conversation.accepted', 'conversation.note_added', 'conversation.transferred', 'conversation.resolved']);
    await record(conv.workflowId, 'conversation-escalated-resolved');
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
    await record(first.workflowId, 'conversation-auto-closed');

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
