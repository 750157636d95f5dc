import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { withTenant } from '../../db/tenant-scope';
import type { CadenceStep } from '../../domain/cadence';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { nurturingStart, nurturingWorkflowId, type NurturingOptions } from '../../workflows/nurturing';
import { startOptions } from '../../workflows/workflow-start';
import type { TestStack } from '../support/stack';
import { guestPhone, setTenantSettings, until, type WhatsAppTenant } from '../support/whatsapp';

// Leads made straight in the database (the leads API is another process's), enrolled by starting
// their nurturing workflow as the leads process does once the row is committed.

const open = { open: '00:00', close: '23:59' };
// Open all day every day, holidays ignored: the tests run at any hour and still send. (Timing
// across weekends and holidays is the pure rules' table test.)
export const ALWAYS_OPEN: Partial<TenantSettings> = {
  observeNationalHolidays: false,
  businessHours: { sunday: open, monday: open, tuesday: open, wednesday: open, thursday: open, friday: open, saturday: open },
};

export async function alwaysOpenTenant(stack: TestStack, t: WhatsAppTenant, sales: Partial<TenantSettings['sales']> = {}) {
  await setTenantSettings(stack, t.tenantId, { ...ALWAYS_OPEN, sales: { ...DEFAULT_TENANT_SETTINGS.sales, ...sales } });
}

export async function createCadence(stack: TestStack, token: string, steps: CadenceStep[], isDefault = false): Promise<string> {
  const res = await stack.api.post('/api/cadences', { token, body: { name: `Cadência ${randomUUID().slice(0, 6)}`, steps, isDefault } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

export interface TestLead {
  leadId: string;
  contactId: string;
  waId: string;
  workflowId: string;
}

export async function makeLead(
  stack: TestStack,
  tenantId: string,
  o: { cadenceId?: string; consent?: boolean; interest?: string; source?: string; ownerId?: string } = {},
): Promise<TestLead> {
  const contactId = randomUUID();
  const leadId = randomUUID();
  const waId = guestPhone();
  const workflowId = nurturingWorkflowId(tenantId, leadId);
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    await trx('contacts').insert({ id: contactId, tenantId, waId, profileName: 'Ana Compradora' });
    if (o.consent !== false) {
      await trx('consent_events').insert({
        id: randomUUID(), tenantId, contactId, purpose: 'marketing', action: 'granted', channel: 'web_form',
        textVersion: 'marketing-v1', evidence: JSON.stringify({ ip: '203.0.113.7' }), recordedByType: 'system',
      });
    }
    const interest = o.interest ?? 'Apartamento de 2 quartos';
    await trx('leads').insert({
      id: leadId, tenantId, contactId, interest, interestKey: `${interest.toLowerCase()}:${leadId}`, source: o.source ?? 'website_form',
      workflowId, cadenceId: o.cadenceId ?? null, ownerId: o.ownerId ?? null,
    });
  });
  return { leadId, contactId, waId, workflowId };
}

export async function startNurturing(stack: TestStack, tenantId: string, lead: TestLead, options: NurturingOptions = {}) {
  const start = nurturingStart({ tenantId, leadId: lead.leadId, contactId: lead.contactId, options: { businessDayMs: 200, ...options } });
  return stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
}

export const leadRow = (stack: TestStack, tenantId: string, leadId: string) =>
  withTenant(stack.deps.knex, tenantId, async (trx) => trx('leads').where({ id: leadId }).first());

export const leadEvents = (stack: TestStack, tenantId: string, leadId: string) =>
  withTenant(stack.deps.knex, tenantId, async (trx) => trx('lead_events').where({ leadId }).orderBy('seq')) as Promise<{ type: string; data: Record<string, any>; actorType: string; actorId: string | null }[]>;

export const templatesSentTo = (stack: TestStack, waId: string) => stack.graph.sentTo(waId).filter((m) => m.type === 'template').map((m) => m.templateName);

export const untilEvent = (stack: TestStack, tenantId: string, leadId: string, type: string, pred: (d: Record<string, any>) => boolean = () => true) =>
  until(`lead event ${type}`, async () => (await leadEvents(stack, tenantId, leadId)).find((e) => e.type === type && pred(e.data)), 30_000);

export const metaError = (code: number, message: string) => ({
  status: 400,
  body: { error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: message }, fbtrace_id: 'AbCdEf' } },
});

export const send = (name: string, waitBusinessDays = 0, category: 'marketing' | 'utility' = 'marketing'): CadenceStep => ({
  type: 'send_template',
  waitBusinessDays,
  template: { name, language: 'pt_BR' },
  category,
});

// What the cross-tenant matrix needs of this process for one tenant: a cadence (read, edited,
// made default, deactivated, in that order), a lead whose cadence waits long enough for pause,
// resume and skip, and an open task.
export async function nurturingMatrixFixtures(stack: TestStack, t: WhatsAppTenant & { admin: { token: string } }) {
  await alwaysOpenTenant(stack, t);
  const cadenceId = await createCadence(stack, t.admin.token, [send('oferta')]);
  const slow = await createCadence(stack, t.admin.token, [{ type: 'wait', businessDays: 1 }, { type: 'wait', businessDays: 1 }, send('oferta', 1, 'utility')]);
  const lead = await makeLead(stack, t.tenantId, { cadenceId: slow });
  await startNurturing(stack, t.tenantId, lead, { businessDayMs: 3_600_000 });
  await untilEvent(stack, t.tenantId, lead.leadId, 'cadence_enrolled');
  await until('nurturing recorded', async () => (await leadRow(stack, t.tenantId, lead.leadId))?.nurturingStatus === 'running');
  const taskId = randomUUID();
  await withTenant(stack.deps.knex, t.tenantId, async (trx) =>
    trx('tasks').insert({ id: taskId, tenantId: t.tenantId, leadId: lead.leadId, ownerId: null, kind: 'follow_up', title: 'Retornar contato', status: 'open' }),
  );
  return { cadenceId, leadId: lead.leadId, taskId };
}
