import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { createKnex } from '../../db/connection';
import { resolveDatabaseSettings } from '../../db/database-settings';
import { withTenant } from '../../db/tenant-scope';
import { ACTOR_TYPES } from '../../domain/actor';
import {
  CONVERSATION_STATUSES,
  ESCALATION_REQUESTER_TYPES,
  ESCALATION_STATUSES,
  IA_LOCKED_STATUSES,
  MESSAGE_DIRECTIONS,
  MESSAGE_SENDER_TYPES,
  MESSAGE_STATUSES,
} from '../../domain/conversation-statuses';
import { ROLES } from '../../domain/roles';
import * as billing from '../../domain/billing-statuses';
import * as consortium from '../../domain/consortium-statuses';
import * as privacy from '../../domain/data-subject-requests';
import * as sales from '../../domain/sales-statuses';
import { TENANT_STATUSES } from '../../domain/tenant-statuses';

// The database's CHECKs and the domain's lists are one list each: a value the code writes is one
// the database accepts, and the database accepts nothing the code does not know.
const EXPECTED: Record<string, readonly string[]> = {
  'tenants.status': TENANT_STATUSES,
  'users.role': ROLES,
  'audit_events.actor_type': ACTOR_TYPES,
  'conversations.status': CONVERSATION_STATUSES,
  'messages.direction': MESSAGE_DIRECTIONS,
  'messages.sender_type': MESSAGE_SENDER_TYPES,
  'messages.status': MESSAGE_STATUSES,
  'escalations.status': ESCALATION_STATUSES,
  'escalations.requested_by_type': ESCALATION_REQUESTER_TYPES,
  'offerings.kind': sales.OFFERING_KINDS,
  'consent_events.purpose': sales.CONSENT_PURPOSES,
  'consent_events.action': sales.CONSENT_ACTIONS,
  'consent_events.channel': sales.CONSENT_CHANNELS,
  'leads.source': sales.LEAD_SOURCES,
  'leads.stage': sales.LEAD_STAGES,
  'leads.temperature': sales.LEAD_TEMPERATURES,
  'leads.nurturing_status': sales.NURTURING_STATUSES,
  'lead_events.type': sales.LEAD_EVENT_TYPES,
  'tasks.kind': sales.TASK_KINDS,
  'tasks.status': sales.TASK_STATUSES,
  'appointments.kind': sales.APPOINTMENT_KINDS,
  'appointments.status': sales.APPOINTMENT_STATUSES,
  'proposals.status': sales.PROPOSAL_STATUSES,
  'contracts.status': sales.CONTRACT_STATUSES,
  'contracts.signing_order': sales.SIGNING_ORDERS,
  'contract_signers.status': sales.SIGNER_STATUSES,
  'contract_events.type': sales.CONTRACT_EVENT_TYPES,
  'billing_handoffs.status': sales.BILLING_HANDOFF_STATUSES,
  'contract_documents.kind': ['original', 'final'],
  'billing_gateway_accounts.environment': billing.GATEWAY_ENVIRONMENTS,
  'subscriptions.cycle': billing.BILLING_CYCLES,
  'subscriptions.billing_type': billing.BILLING_TYPES,
  'subscriptions.status': billing.SUBSCRIPTION_STATUSES,
  'invoices.origin': billing.INVOICE_ORIGINS,
  'invoices.billing_type': billing.BILLING_TYPES,
  'invoices.status': billing.INVOICE_STATUSES,
  'invoices.dunning_stage': billing.DUNNING_STAGES,
  'gateway_charges.status': billing.CHARGE_STATUSES,
  'payments.kind': billing.PAYMENT_KINDS,
  'payments.method': billing.PAYMENT_METHODS,
  'payments.source': billing.PAYMENT_SOURCES,
  'payments.dunning_stage': billing.DUNNING_STAGES,
  'dunning_events.type': billing.DUNNING_EVENT_TYPES,
  'dunning_events.stage': billing.DUNNING_STAGES,
  'collection_items.status': billing.COLLECTION_ITEM_STATUSES,
  'collection_items.outcome': billing.COLLECTION_OUTCOMES,
  'dunning_consequences.kind': billing.DUNNING_CONSEQUENCES,
  'dunning_consequences.target_type': billing.CONSEQUENCE_TARGETS,
  'owner_payouts.status': billing.PAYOUT_STATUSES,
  'consortium_groups.status': consortium.GROUP_STATUSES,
  'consortium_quotas.status': consortium.QUOTA_STATUSES,
  'consortium_assemblies.status': consortium.ASSEMBLY_STATUSES,
  'consortium_bids.type': consortium.BID_TYPES,
  'consortium_bids.status': consortium.BID_STATUSES,
  'consortium_contemplations.kind': consortium.CONTEMPLATION_KINDS,
  'consortium_contemplations.status': consortium.CONTEMPLATION_STATUSES,
  'data_subject_requests.kind': privacy.DATA_SUBJECT_REQUEST_KINDS,
  'data_subject_requests.status': privacy.DATA_SUBJECT_REQUEST_STATUSES,
  'data_subject_requests.channel': privacy.DATA_SUBJECT_REQUEST_CHANNELS,
  // (The gateway provider columns hold a one-value list today: `= 'asaas'`, not an ARRAY.)
};

// `CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))` → ['a', 'b'].
const listed = (def: string) => [...def.matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => (m[1] as string).replace(/''/g, "'"));

describe('status CHECKs', () => {
  const settings = resolveDatabaseSettings();
  let owner: Knex;
  let app: Knex;

  before(() => {
    owner = knexFactory({ client: 'pg', connection: settings.ownerUrl, pool: { min: 0, max: 1 } });
    app = createKnex(settings.appUrl, 2);
  });
  after(async () => {
    await owner.destroy();
    await app.destroy();
  });

  it('every list-valued CHECK in the schema holds exactly its domain list', async () => {
    const { rows } = await owner.raw(`
      SELECT c.conrelid::regclass::text || '.' || a.attname AS column, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace AND cardinality(c.conkey) = 1
        AND pg_get_constraintdef(c.oid) LIKE '%= ANY (ARRAY[%'
      ORDER BY 1`);
    const found = Object.fromEntries((rows as { column: string; def: string }[]).map((r) => [r.column, [...listed(r.def)].sort()]));
    const expected = Object.fromEntries(Object.entries(EXPECTED).map(([column, values]) => [column, [...values].sort()]));
    // Both ways: a list CHECK written by hand (no domain list) fails here as much as a drifted one.
    assert.deepEqual(found, expected);
  });

  it('derives ia_locked from the same statuses the domain calls person-owned', async () => {
    const { rows } = await owner.raw(`
      SELECT pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d
      JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE d.adrelid = 'conversations'::regclass AND a.attname = 'ia_locked'`);
    assert.deepEqual(listed(rows[0].expr).sort(), [...IA_LOCKED_STATUSES].sort());
  });

  describe('storing rows', () => {
    const tenantId = randomUUID();
    const ids = { contact: randomUUID(), channel: randomUUID() };

    before(async () => {
      await withTenant(app, tenantId, async (trx) => {
        await trx('tenants').insert({ id: tenantId, slug: `checks-${tenantId.slice(0, 8)}`, name: 'checks', status: 'active', provisioningWorkflowId: `test:${tenantId}` });
        await trx('contacts').insert({ id: ids.contact, tenantId, waId: '5511999990000' });
        await trx('whatsapp_channels').insert({ id: ids.channel, tenantId, phoneNumberId: `${Date.now()}${Math.floor(Math.random() * 1e6)}`, wabaId: '1', accessTokenSealed: 'x' });
      });
    });

    const conversation = (status: string) => ({
      id: randomUUID(), tenantId, contactId: ids.contact, channelId: ids.channel, workflowId: `test:${randomUUID()}`, status,
    });

    it('accepts every conversation status, locks the AI for the person-owned ones, refuses others', async () => {
      for (const status of CONVERSATION_STATUSES) {
        const row = conversation(status);
        const locked = await withTenant(app, tenantId, async (trx) => {
          await trx('conversations').insert(row);
          return (await trx('conversations').where({ id: row.id }).first('iaLocked')).iaLocked as boolean;
        });
        assert.equal(locked, (IA_LOCKED_STATUSES as readonly string[]).includes(status), status);
      }
      await assert.rejects(withTenant(app, tenantId, (trx) => trx('conversations').insert(conversation('open'))), { code: '23514' });
    });

    it('accepts every message status, `accepted` included, and refuses others', async () => {
      const conversationRow = conversation('ai');
      await withTenant(app, tenantId, (trx) => trx('conversations').insert(conversationRow));
      const message = (status: string) => ({
        id: randomUUID(), tenantId, conversationId: conversationRow.id, contactId: ids.contact,
        direction: 'outbound', senderType: 'ai', type: 'text', body: status, status, occurredAt: new Date(),
      });
      for (const status of MESSAGE_STATUSES) {
        await withTenant(app, tenantId, (trx) => trx('messages').insert(message(status)));
      }
      const stored = await withTenant(app, tenantId, (trx) => trx('messages').where({ conversationId: conversationRow.id }).pluck('status'));
      assert.deepEqual([...stored].sort(), [...MESSAGE_STATUSES].sort());
      await assert.rejects(withTenant(app, tenantId, (trx) => trx('messages').insert(message('queued'))), { code: '23514' });
    });
  });
});
