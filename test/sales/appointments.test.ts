import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { withTenant } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { appointmentMessages, formatAppointmentTime } from '../../domain/appointment-schedule';
import { appointmentButtonId } from '../../domain/sales-replies';
import {
  APPOINTMENT_ERRORS,
  appointmentStart,
  appointmentStateQuery,
  contactAnsweredSignal,
  rescheduleAppointmentUpdate,
  type ContactAnsweredSignal,
} from '../../workflows/appointment';
import { MISSING_OUTCOME_NOTE } from '../../workflows/appointment/transitions';
import { startOptions } from '../../workflows/workflow-start';
import type { SentMessage } from '../../scripts/sandbox/graph-api';
import { addApiKey, addUser } from '../support/fixtures';
import { recordHistory } from '../support/histories';
import { liveEvents } from '../support/live-events';
import { startStack, type TestStack } from '../support/stack';
import { until, whatsappTenant, type WhatsAppTenant } from '../support/whatsapp';
import { ALWAYS_OPEN, earlyMorningZone, insertLead, leadWhoNeverWrote, leadWhoWrote, slotIn } from './appointment-support';

// Appointments end to end: booked through the API, confirmed over WhatsApp (the sandbox Graph
// API records what the contact receives), answered by the contact (signalled as the
// conversation's router does), moved, cancelled and closed by staff through workflow updates.

const TZ = earlyMorningZone();

describe('appointments', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;
  let seller: { id: string; token: string };

  before(async () => {
    stack = await startStack();
    t = await whatsappTenant(stack, {
      timeZone: TZ,
      businessHours: ALWAYS_OPEN,
      observeNationalHolidays: false,
      // The hours-before reminder 12 s before the start; the day-before one falls in the past and is dropped.
      sales: { ...DEFAULT_TENANT_SETTINGS.sales, appointmentReminders: { dayBefore: true, hoursBefore: 12 / 3600 } },
    });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const put = await stack.api.request('put', '/api/automation-endpoint', {
      token: t.admin.token,
      body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/n8n`, events: ['appointment.scheduled', 'lead.stage_changed'], secret: 'segredo-do-n8n-0123456789' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  });
  // A seller of their own per test: one test's leftover appointment never blocks another's slot.
  beforeEach(async () => {
    seller = await addUser(stack, t, 'SALES');
  });
  let receiver: Server;
  const received: { id: string; event: string; data: Record<string, unknown> }[] = [];
  const live = liveEvents(() => stack);
  after(async () => {
    live.close();
    await new Promise((r) => receiver.close(r));
    await stack.stop();
  });

  const eventsOf = async (token: string) => (await live.connect(token)).events;

  const book = (leadId: string, body: Record<string, unknown>, o: { token?: string; key?: string } = {}) =>
    stack.api.post(`/api/leads/${leadId}/appointments`, {
      token: o.token ?? seller.token,
      body,
      headers: o.key ? { 'idempotency-key': o.key } : undefined,
    });

  const booked = async (leadId: string, body: Record<string, unknown>) => {
    const res = await book(leadId, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };

  const row = (id: string) => withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('appointments').where({ id }).first());
  const rowWith = (id: string, status: string) =>
    until(`appointment ${status}`, async () => {
      const r = await row(id);
      return r?.status === status && r;
    });
  const answer = (workflowId: string, a: Partial<ContactAnsweredSignal> & Pick<ContactAnsweredSignal, 'action'>) =>
    stack.deps.temporal.client.workflow.getHandle(workflowId).signal(contactAnsweredSignal, {
      source: 'button',
      messageId: `wamid.${Math.random().toString(36).slice(2)}`,
      text: '',
      at: new Date().toISOString(),
      ...a,
    });
  const buttonsOf = (m: SentMessage) =>
    ((m.body.interactive as { action: { buttons: { reply: { id: string; title: string } }[] } }).action.buttons).map((b) => b.reply);

  it('books a visit: the lead moves to visit, the contact gets the three buttons, and a Confirmar confirms it with a thank-you', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const startsAt = slotIn(90);
    const res = await book(lead.leadId, { kind: 'visit', startsAt, durationMinutes: 45, location: 'Rua das Flores, 100' }, { key: `book-${lead.leadId}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const a = res.body;
    assert.equal(a.status, 'scheduled');
    assert.equal(a.ownerId, seller.id, 'the lead’s owner');
    assert.equal(new Date(a.endsAt).getTime() - new Date(a.startsAt).getTime(), 45 * 60_000);

    // A retry under the same key books nothing more.
    const retry = await book(lead.leadId, { kind: 'visit', startsAt, durationMinutes: 45, location: 'Rua das Flores, 100' }, { key: `book-${lead.leadId}` });
    assert.equal(retry.status, 201);
    assert.equal(retry.body.id, a.id);

    const leadRow = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('leads').where({ id: lead.leadId }).first());
    assert.equal(leadRow.stage, 'visit');
    const events = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('lead_events').where({ leadId: lead.leadId, type: 'stage_changed' }));
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].data, { from: 'new', to: 'visit', reason: 'appointment_booked' });
    const scheduled = await until('appointment.scheduled posted', async () => received.find((e) => e.event === 'appointment.scheduled' && e.data.appointmentId === a.id));
    assert.equal(scheduled.data.leadId, lead.leadId);
    assert.equal(scheduled.data.startsAt, a.startsAt);
    await until('lead.stage_changed posted', async () => received.find((e) => e.event === 'lead.stage_changed' && e.data.leadId === lead.leadId && e.data.to === 'visit'));

    const when = formatAppointmentTime(new Date(startsAt), TZ);
    const invite = await stack.graph.waitForSent((m) => m.to === lead.waId && m.type === 'interactive', 10_000);
    assert.equal(invite.text, appointmentMessages.confirmation({ kind: 'visit', when, location: 'Rua das Flores, 100', contactName: 'Ana Cliente' }));
    assert.deepEqual(buttonsOf(invite), [
      { id: appointmentButtonId(a.id, 'confirm'), title: 'Confirmar' },
      { id: appointmentButtonId(a.id, 'reschedule'), title: 'Remarcar' },
      { id: appointmentButtonId(a.id, 'cancel'), title: 'Cancelar' },
    ]);

    await answer(a.workflowId, { action: 'confirm', text: 'Confirmar' });
    await rowWith(a.id, 'confirmed');
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.text === appointmentMessages.confirmed({ kind: 'visit', when, location: 'Rua das Flores, 100' }), 10_000);
    assert.equal(stack.graph.sentTo(lead.waId).filter((m) => m.type === 'interactive').length, 1, 'one confirmation, however often the booking was retried');
    // Delivery is at least once: a retried booking may post again, always under the same event id.
    const posted = received.filter((e) => e.event === 'appointment.scheduled' && e.data.appointmentId === a.id);
    assert.deepEqual([...new Set(posted.map((e) => e.id))], [scheduled.id], 'one event id for the retried booking');

    const got = await stack.api.get(`/api/appointments/${a.id}`, { token: seller.token });
    assert.equal(got.status, 200);
    assert.equal(got.body.status, 'confirmed');
    assert.equal(got.body.live.status, 'confirmed');

    await stack.api.post(`/api/appointments/${a.id}/outcome`, { token: seller.token, body: { outcome: 'attended', note: 'Gostou muito da varanda' } });
    await rowWith(a.id, 'attended');
    await stack.deps.temporal.client.workflow.getHandle(a.workflowId).result();
    await recordHistory(stack, a.workflowId, 'appointment-confirmed-attended');
  });

  it('rescheduled by staff: the slot moves, reminders start over and the contact gets the new time to confirm', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const res = await book(lead.leadId, { kind: 'test_drive', startsAt: slotIn(60), durationMinutes: 30 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const a = res.body;
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.type === 'interactive', 10_000);

    const newStart = slotIn(150);
    const moved = await stack.api.post(`/api/appointments/${a.id}/reschedule`, { token: seller.token, body: { startsAt: newStart } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.version, 1);
    assert.equal(moved.body.startsAt, newStart);
    const r = await row(a.id);
    assert.equal(r.startsAt.toISOString(), newStart);
    assert.equal(r.endsAt.getTime() - r.startsAt.getTime(), 30 * 60_000, 'the length kept');
    assert.equal(r.rescheduleCount, 1);
    assert.equal(r.status, 'scheduled');

    const when = formatAppointmentTime(new Date(newStart), TZ);
    const notice = await stack.graph.waitForSent((m) => m.to === lead.waId && m.type === 'interactive' && m.text === appointmentMessages.rescheduled({ kind: 'test_drive', when, location: null }), 10_000);
    assert.equal(buttonsOf(notice)[0]?.id, appointmentButtonId(a.id, 'confirm'));

    // The past and another appointment's slot are refused, in Portuguese.
    const past = await stack.api.post(`/api/appointments/${a.id}/reschedule`, { token: seller.token, body: { startsAt: new Date(Date.now() - 3_600_000).toISOString() } });
    assert.equal(past.status, 409);
    assert.match(past.body.detail, /já passou/);

    const cancelled = await stack.api.post(`/api/appointments/${a.id}/cancel`, { token: seller.token, body: { reason: 'Veículo vendido' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.text === appointmentMessages.cancelledByStaff({ kind: 'test_drive', when, location: null }), 10_000);
    const again = await stack.api.post(`/api/appointments/${a.id}/reschedule`, { token: seller.token, body: { startsAt: slotIn(200) } });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /cancelado/);
    await stack.deps.temporal.client.workflow.getHandle(a.workflowId).result();
    await recordHistory(stack, a.workflowId, 'appointment-rescheduled-cancelled');
  });

  it('cancelled by the contact typing "cancelar": the contact hears it, the owner gets a follow-up task', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const res = await book(lead.leadId, { kind: 'visit', startsAt: slotIn(120), durationMinutes: 60 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const a = res.body;
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.type === 'interactive', 10_000);

    await answer(a.workflowId, { action: 'cancel', source: 'text', text: 'cancelar' });
    const r = await rowWith(a.id, 'cancelled');
    assert.equal(r.outcomeNote, 'Cancelado pelo cliente.');
    const when = formatAppointmentTime(new Date(a.startsAt), TZ);
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.text === appointmentMessages.cancelledByContact({ kind: 'visit', when, location: null }), 10_000);
    const task = await until('owner task', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('tasks').where({ leadId: lead.leadId, kind: 'follow_up', ownerId: seller.id }).first()),
    );
    assert.match(task.title, /cancelou/);

    const late = await stack.api.post(`/api/appointments/${a.id}/outcome`, { token: seller.token, body: { outcome: 'attended' } });
    assert.equal(late.status, 409);
    assert.match(late.body.detail, /cancelado/);
    await stack.deps.temporal.client.workflow.getHandle(a.workflowId).result();
    await recordHistory(stack, a.workflowId, 'appointment-cancelled-by-contact');
  });

  it('a reply asking to reschedule tells the owner and the contact, and keeps the slot', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const a = await booked(lead.leadId, { kind: 'meeting', startsAt: slotIn(130), durationMinutes: 30 });
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.type === 'interactive', 10_000);
    await answer(a.workflowId, { action: 'reschedule' });
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.text === appointmentMessages.rescheduleRequested(), 10_000);
    const task = await until('owner task', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('tasks').where({ leadId: lead.leadId, kind: 'follow_up' }).first()),
    );
    assert.match(task.title, /remarcar/);
    const live = await stack.deps.temporal.client.workflow.getHandle(a.workflowId).query(appointmentStateQuery);
    assert.equal(live.status, 'scheduled');
    assert.equal(live.contactAskedReschedule, true);
    await stack.api.post(`/api/appointments/${a.id}/cancel`, { token: seller.token, body: { reason: 'limpeza do teste' } });
  });

  it('a no-show recorded by the owner: the owner gets a follow-up task and a live update', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const events = await eventsOf(seller.token);
    const a = await booked(lead.leadId, { kind: 'visit', startsAt: slotIn(70), durationMinutes: 30 });
    const res = await stack.api.post(`/api/appointments/${a.id}/outcome`, { token: seller.token, body: { outcome: 'no_show', note: 'Não apareceu' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'no_show');
    const r = await row(a.id);
    assert.equal(r.status, 'no_show');
    assert.equal(r.outcomeNote, 'Não apareceu');
    const task = await until('follow-up task', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('tasks').where({ leadId: lead.leadId, kind: 'follow_up', ownerId: seller.id, status: 'open' }).first()),
    );
    assert.match(task.title, /não compareceu/);
    await until('the owner’s live task and appointment update', async () =>
      events.some((e) => e.name === 'task:new' && e.payload.taskId === task.id && e.payload.ownerId === seller.id) &&
      events.some((e) => e.name === 'appointment:updated' && e.payload.appointmentId === a.id && e.payload.status === 'no_show'),
    );
    await stack.deps.temporal.client.workflow.getHandle(a.workflowId).result();
    await recordHistory(stack, a.workflowId, 'appointment-no-show');
  });

  it('an outcome nobody records: after the slot the owner gets a task to record it; past the limit it is a no-show', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const id = randomUUID();
    const startsAt = new Date(slotIn(500));
    const endsAt = new Date(startsAt.getTime() + 30 * 60_000);
    const input = { tenantId: t.tenantId, appointmentId: id, leadId: lead.leadId, contactId: lead.contactId, ownerId: seller.id, kind: 'visit' as const, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), location: null };
    const start = appointmentStart({ ...input, options: { slotEndDelayMs: 500, outcomeGraceMs: 500, outcomeLimitMs: 3_000 } });
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('appointments').insert({ id, tenantId: t.tenantId, leadId: lead.leadId, contactId: lead.contactId, ownerId: seller.id, kind: 'visit', startsAt, endsAt, workflowId: start.workflowId }),
    );
    await stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
    const record = await until('task to record the outcome', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('tasks').where({ leadId: lead.leadId, kind: 'follow_up' }).whereLike('title', 'Registre o resultado%').first()),
    );
    assert.equal(record.ownerId, seller.id);
    assert.equal((await row(id)).status, 'scheduled', 'the owner is asked first');
    const r = await rowWith(id, 'no_show');
    assert.equal(r.outcomeNote, MISSING_OUTCOME_NOTE);
    await stack.deps.temporal.client.workflow.getHandle(start.workflowId).result();
    await recordHistory(stack, start.workflowId, 'appointment-outcome-missing');
  });

  it('a long history continues as new, carrying the state: a later answer and the outcome still land', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const id = randomUUID();
    const startsAt = new Date(slotIn(520));
    const endsAt = new Date(startsAt.getTime() + 30 * 60_000);
    const start = appointmentStart({
      tenantId: t.tenantId, appointmentId: id, leadId: lead.leadId, contactId: lead.contactId, ownerId: seller.id, kind: 'visit',
      startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), location: null, options: { maxHistoryEvents: 12 },
    });
    await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
      trx('appointments').insert({ id, tenantId: t.tenantId, leadId: lead.leadId, contactId: lead.contactId, ownerId: seller.id, kind: 'visit', startsAt, endsAt, workflowId: start.workflowId }),
    );
    const first = await stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.type === 'interactive', 10_000);
    const latest = stack.deps.temporal.client.workflow.getHandle(start.workflowId);
    await until('a new run', async () => (await latest.describe()).runId !== first.firstExecutionRunId);
    await answer(start.workflowId, { action: 'confirm' });
    await rowWith(id, 'confirmed');
    const res = await stack.api.post(`/api/appointments/${id}/outcome`, { token: seller.token, body: { outcome: 'attended' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await latest.result()).status, 'attended');
    assert.equal(stack.graph.sentTo(lead.waId).filter((m) => m.type === 'interactive').length, 1, 'the confirmation is not sent again by the new run');
  });

  it('the workflow re-checks a reschedule under the owner’s lock: a slot taken since is refused with the reason, nothing moves', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const first = await booked(lead.leadId, { kind: 'visit', startsAt: slotIn(600), durationMinutes: 60 });
    const second = await booked(lead.leadId, { kind: 'visit', startsAt: slotIn(700), durationMinutes: 60 });
    // Straight to the workflow, past the route's own check: as if the slot were taken in between.
    const handle = stack.deps.temporal.client.workflow.getHandle(second.workflowId);
    await assert.rejects(
      handle.executeUpdate(rescheduleAppointmentUpdate, { args: [{ actor: { type: 'user', id: seller.id }, startsAt: first.startsAt, endsAt: first.endsAt }] }),
      (err: Error & { cause?: { type?: string; message?: string } }) => {
        assert.equal(err.cause?.type, APPOINTMENT_ERRORS.slotRefused);
        assert.match(err.cause?.message ?? '', /já tem outro agendamento/);
        return true;
      },
    );
    const r = await row(second.id);
    assert.equal(r.startsAt.toISOString(), second.startsAt);
    assert.equal(r.rescheduleCount, 0);
    assert.equal((await handle.query(appointmentStateQuery)).version, 0);
    // Through the API the same move is a 409 in Portuguese.
    const res = await stack.api.post(`/api/appointments/${second.id}/reschedule`, { token: seller.token, body: { startsAt: first.startsAt } });
    assert.equal(res.status, 409);
    assert.match(res.body.detail, /já tem outro agendamento/);
  });

  it('automations book with an appointments:write key (the lead’s owner by default); a key without it is refused', async () => {
    const lead = await leadWhoNeverWrote(stack, t.tenantId, seller.id);
    const writer = await addApiKey(stack, t, ['appointments:write']);
    const reader = await addApiKey(stack, t, ['leads:read']);
    const body = { kind: 'test_drive', startsAt: slotIn(800), durationMinutes: 30 };
    const refused = await stack.api.post(`/api/leads/${lead.leadId}/appointments`, { apiKey: reader.key, body });
    assert.equal(refused.status, 403);
    assert.match(refused.body.detail, /appointments:write/);
    const res = await stack.api.post(`/api/leads/${lead.leadId}/appointments`, { apiKey: writer.key, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.ownerId, seller.id);
    const agenda = await stack.api.get(`/api/appointments?leadId=${lead.leadId}`, { apiKey: reader.key });
    assert.equal(agenda.status, 200);
    assert.deepEqual(agenda.body.items.map((x: { id: string }) => x.id), [res.body.id]);
  });

  it('refuses an overlapping slot of the same owner, a past slot, one outside business hours and a closed lead (409, pt-BR)', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const startsAt = slotIn(240);
    const first = await book(lead.leadId, { kind: 'visit', startsAt, durationMinutes: 60 });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const other = await leadWhoNeverWrote(stack, t.tenantId, seller.id);
    const overlap = await book(other.leadId, { kind: 'visit', startsAt: new Date(new Date(startsAt).getTime() + 30 * 60_000).toISOString(), durationMinutes: 60 });
    assert.equal(overlap.status, 409);
    assert.match(overlap.body.detail, /já tem outro agendamento/);
    // Back to back is fine.
    const next = await book(other.leadId, { kind: 'visit', startsAt: new Date(new Date(startsAt).getTime() + 60 * 60_000).toISOString(), durationMinutes: 30 });
    assert.equal(next.status, 201, JSON.stringify(next.body));

    const past = await book(other.leadId, { kind: 'visit', startsAt: new Date(Date.now() - 60_000).toISOString(), durationMinutes: 30 });
    assert.equal(past.status, 409);
    assert.match(past.body.detail, /já passou/);

    const closedTenant = await whatsappTenant(stack); // default hours: closed on Sundays
    const admin = closedTenant.admin;
    const outsider = await leadWhoNeverWrote(stack, closedTenant.tenantId, admin.id);
    const nextSunday = new Date(Date.now() + ((7 - new Date().getUTCDay()) % 7 || 7) * 86_400_000);
    nextSunday.setUTCHours(15, 0, 0, 0);
    const sunday = await book(outsider.leadId, { kind: 'visit', startsAt: nextSunday.toISOString(), durationMinutes: 30 }, { token: admin.token });
    assert.equal(sunday.status, 409);
    assert.match(sunday.body.detail, /fora do expediente/);

    const lostLead = await insertLead(stack, t.tenantId, other.contactId, seller.id, 'lost');
    const lost = await book(lostLead, { kind: 'visit', startsAt: slotIn(400), durationMinutes: 30 });
    assert.equal(lost.status, 409);
    assert.match(lost.body.detail, /encerrado/);

    const agenda = await stack.api.get(`/api/appointments?ownerId=me&from=${encodeURIComponent(new Date().toISOString())}&limit=1`, { token: seller.token });
    assert.equal(agenda.status, 200);
    assert.equal(agenda.body.items.length, 1);
    assert.ok(agenda.body.nextCursor);
    const page2 = await stack.api.get(`/api/appointments?ownerId=me&limit=100&cursor=${agenda.body.nextCursor}`, { token: seller.token });
    assert.ok(page2.body.items.every((x: { startsAt: string }) => x.startsAt >= agenda.body.items[0].startsAt));
    assert.ok(!page2.body.items.some((x: { id: string }) => x.id === agenda.body.items[0].id));
  });

  it('reminds the contact before the slot (hours-before reminder, shortened by the tenant setting)', async () => {
    const lead = await leadWhoWrote(stack, t, seller.id);
    const a = await booked(lead.leadId, { kind: 'visit', startsAt: new Date(Date.now() + 20_000).toISOString(), durationMinutes: 30 });
    const when = formatAppointmentTime(new Date(a.startsAt), TZ);
    await stack.graph.waitForSent((m) => m.to === lead.waId && m.text === appointmentMessages.reminder({ kind: 'visit', when, location: null }), 20_000);
    const live = await stack.deps.temporal.client.workflow.getHandle(a.workflowId).query(appointmentStateQuery);
    assert.deepEqual(live.remindersSent, ['0:hours_before']);
    assert.equal(live.nextReminder, null);
    await stack.api.post(`/api/appointments/${a.id}/outcome`, { token: seller.token, body: { outcome: 'attended' } });
    await stack.deps.temporal.client.workflow.getHandle(a.workflowId).result();
    await recordHistory(stack, a.workflowId, 'appointment-reminded');
  });

  it('outside the 24-hour window the confirmation goes as the utility template, its quick replies carrying the button ids', async () => {
    const lead = await leadWhoNeverWrote(stack, t.tenantId, seller.id);
    const booked = await book(lead.leadId, { kind: 'visit', startsAt: slotIn(350), durationMinutes: 30 });
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    const a = booked.body;
    const sent = await stack.graph.waitForSent((m) => m.to === lead.waId, 10_000);
    assert.equal(sent.type, 'template');
    assert.equal(sent.templateName, 'confirmacao_agendamento');
    const components = (sent.body.template as { components: { type: string; sub_type?: string; parameters: { payload?: string }[] }[] }).components;
    assert.deepEqual(
      components.filter((c) => c.type === 'button').map((c) => [c.sub_type, c.parameters[0]?.payload]),
      [
        ['quick_reply', appointmentButtonId(a.id, 'confirm')],
        ['quick_reply', appointmentButtonId(a.id, 'reschedule')],
        ['quick_reply', appointmentButtonId(a.id, 'cancel')],
      ],
    );
    assert.equal(stack.graph.sentTo(lead.waId).length, 1, 'no free-form attempt reached Meta');
    await stack.api.post(`/api/appointments/${a.id}/cancel`, { token: seller.token, body: { reason: 'limpeza do teste' } });
  });
});
