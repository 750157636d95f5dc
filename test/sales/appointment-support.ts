import { randomUUID } from 'node:crypto';
import { withTenant } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { nurturingWorkflowId } from '../../workflows/nurturing/definitions';
import type { TestStack } from '../support/stack';
import { conversationOf, guestPhone, guestSays, until, type WhatsAppTenant } from '../support/whatsapp';

// Leads written straight to the table (the leads process's routes are another branch's): a
// contact who wrote on WhatsApp (the 24-hour window open), or one who never did (closed).

export const ALWAYS_OPEN: TenantSettings['businessHours'] = Object.fromEntries(
  Object.keys(DEFAULT_TENANT_SETTINGS.businessHours).map((d) => [d, { open: '00:00', close: '23:59' }]),
) as TenantSettings['businessHours'];

export interface LeadFixture {
  leadId: string;
  contactId: string;
  waId: string;
}

export async function insertLead(stack: TestStack, tenantId: string, contactId: string, ownerId: string | null, stage = 'new'): Promise<string> {
  const leadId = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    await trx('leads').insert({
      id: leadId,
      tenantId,
      contactId,
      interest: 'Apartamento 2 quartos',
      interestKey: `apto-${leadId}`,
      source: 'whatsapp',
      stage,
      ownerId,
      workflowId: nurturingWorkflowId(tenantId, leadId),
      closedAt: stage === 'won' || stage === 'lost' ? new Date() : null,
    });
  });
  return leadId;
}

// The contact says hello first, so the conversation exists and its window is open.
export async function leadWhoWrote(stack: TestStack, t: WhatsAppTenant, ownerId: string | null): Promise<LeadFixture> {
  const waId = guestPhone();
  await guestSays(stack, t, waId, 'Olá, tenho interesse no apartamento', 'Ana Cliente');
  const conv = await until('conversation opened', () => conversationOf(stack, t.tenantId, waId));
  const contactId = conv.contactId as string;
  return { leadId: await insertLead(stack, t.tenantId, contactId, ownerId), contactId, waId };
}

// A contact from a website form: never wrote, so only templates reach them.
export async function leadWhoNeverWrote(stack: TestStack, tenantId: string, ownerId: string | null): Promise<LeadFixture> {
  const waId = guestPhone();
  const contactId = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => trx('contacts').insert({ id: contactId, tenantId, waId, name: 'Bruno Formulário' }));
  return { leadId: await insertLead(stack, tenantId, contactId, ownerId), contactId, waId };
}

// A zone where it is about 01:00 now, so the slots the tests book (up to ~20 hours ahead) stay
// within one local day of the always-open hours whatever time the suite runs. (Etc/GMT signs are
// inverted: Etc/GMT+3 is UTC−3.)
export function earlyMorningZone(now = new Date()): string {
  let offset = 1 - now.getUTCHours();
  if (offset < -12) offset += 24;
  if (offset > 14) offset -= 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

// A slot within the always-open hours, `minutesAhead` from now, on whole minutes.
export function slotIn(minutesAhead: number): string {
  const ms = Math.ceil((Date.now() + minutesAhead * 60_000) / 60_000) * 60_000;
  return new Date(ms).toISOString();
}
