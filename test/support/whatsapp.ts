import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256Signature } from '../../infra/hmac-signature';
import { withTenant } from '../../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import type { FakeNumber } from '../../scripts/sandbox/graph-api';
import { contact, metaEnvelope, textMessage, type MetaObject } from '../fakes/meta-payloads';
import { provisionTenant, superAdmin, whatsappNumber, type TenantFixture } from './fixtures';
import { TEST_APP_SECRET, type TestStack } from './stack';

export interface WhatsAppTenant extends TenantFixture {
  number: FakeNumber;
}

// A tenant provisioned through the API with a WhatsApp number on the platform's Meta app.
export async function whatsappTenant(stack: TestStack, settings?: Partial<TenantSettings>): Promise<WhatsAppTenant> {
  const root = await superAdmin(stack);
  const number = whatsappNumber(stack);
  const t = await provisionTenant(stack, root.token, {
    whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken },
  });
  if (settings) await setTenantSettings(stack, t.tenantId, settings);
  return { ...t, number };
}

// Written straight to the row: tests shorten clocks below what the settings API accepts.
export async function setTenantSettings(stack: TestStack, tenantId: string, patch: Partial<TenantSettings>): Promise<void> {
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    const row = await trx('tenant_settings').where({ tenantId }).first();
    const settings = { ...DEFAULT_TENANT_SETTINGS, ...(row?.settings ?? {}), ...patch };
    await trx('tenant_settings').where({ tenantId }).update({ settings: JSON.stringify(settings) });
  });
}

export const guestPhone = () => `5511${String(900000000 + (randomBytes(4).readUInt32BE(0) % 99999999))}`;

export async function postWebhook(stack: TestStack, payload: unknown, opts: { secret?: string; path?: string; signature?: string } = {}) {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return stack.api.post(opts.path ?? '/webhooks/whatsapp', {
    raw,
    headers: { 'x-hub-signature-256': opts.signature ?? sha256Signature(raw, opts.secret ?? TEST_APP_SECRET) },
  });
}

// One guest message in Meta's envelope, delivered and acknowledged.
export async function guestSays(stack: TestStack, t: WhatsAppTenant, from: string, message: MetaObject | string, name = 'Hóspede Teste') {
  const msg = typeof message === 'string' ? textMessage({ from, body: message }) : message;
  const payload = metaEnvelope([{ wabaId: t.number.wabaId, phoneNumberId: t.number.phoneNumberId, contacts: [contact({ waId: from, name })], messages: [msg] }]);
  const res = await postWebhook(stack, payload);
  assert.equal(res.status, 200, `webhook refused: ${res.status} ${JSON.stringify(res.body)}`);
  return msg as { id: string };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function conversationOf(stack: TestStack, tenantId: string, waId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) =>
    trx('conversations').join('contacts', 'contacts.id', 'conversations.contactId').where('contacts.waId', waId).orderBy('conversations.openedAt', 'desc').first('conversations.*'),
  );
}

export async function messagesOf(stack: TestStack, tenantId: string, conversationId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) => trx('messages').where({ conversationId }).orderBy('seq'));
}
