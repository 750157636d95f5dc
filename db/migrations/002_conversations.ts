import type { Knex } from 'knex';
import type { Migration } from './index';
import {
  CONVERSATION_STATUSES,
  ESCALATION_REQUESTER_TYPES,
  ESCALATION_STATUSES,
  IA_LOCKED_STATUSES,
  MESSAGE_DIRECTIONS,
  MESSAGE_SENDER_TYPES,
  MESSAGE_STATUSES,
} from '../../domain/conversation-statuses';
import { checkIn, definerLookups, sqlList, tenantTables } from './rls';

// The WhatsApp inbox: Meta apps, contacts, conversations, their messages and delivery statuses,
// escalations to people, downloaded media, the tenant's FAQ and AI settings, and where the
// tenant's automations want events posted. The conversation workflow writes these; the API reads
// them for list views.
export const conversations: Migration = {
  name: '002_conversations',
  async up(knex: Knex, roles) {
    await knex.raw(`
      -- A tenant that brings its own Meta app; numbers on the platform's app (configured by
      -- environment) have no row here.
      CREATE TABLE meta_apps (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        app_id text NOT NULL UNIQUE CHECK (app_id ~ '^[0-9]{5,30}$'),
        app_secret_sealed text NOT NULL,
        verify_token_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE whatsapp_channels ADD COLUMN meta_app_id uuid REFERENCES meta_apps(id) ON DELETE RESTRICT;

      -- Our own id for a person: Meta may name them by wa_id, by business-scoped user id, or both.
      CREATE TABLE contacts (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        wa_id text,
        user_id text,
        profile_name text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
      );
      CREATE UNIQUE INDEX contacts_wa_id ON contacts (tenant_id, wa_id) WHERE wa_id IS NOT NULL;
      CREATE UNIQUE INDEX contacts_user_id ON contacts (tenant_id, user_id) WHERE user_id IS NOT NULL;

      -- One row per conversation run: a conversation closed for inactivity stays here, and the
      -- contact's next message opens a new one.
      CREATE TABLE conversations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        channel_id uuid NOT NULL REFERENCES whatsapp_channels(id) ON DELETE CASCADE,
        workflow_id text NOT NULL,
        status text NOT NULL ${checkIn('status', CONVERSATION_STATUSES)},
        -- The seeds' iaLocked: a person owns the conversation and the AI stays silent.
        ia_locked boolean GENERATED ALWAYS AS (status IN ${sqlList(IA_LOCKED_STATUSES)}) STORED,
        assignee_id uuid REFERENCES users(id) ON DELETE SET NULL,
        team text,
        intent text,
        last_message_at timestamptz,
        last_inbound_at timestamptz,
        last_message_preview text,
        unread_count integer NOT NULL DEFAULT 0,
        opened_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        close_reason text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX conversations_inbox ON conversations (tenant_id, last_message_at DESC NULLS LAST, id DESC);
      CREATE INDEX conversations_status ON conversations (tenant_id, status, last_message_at DESC NULLS LAST, id DESC);
      CREATE INDEX conversations_assignee ON conversations (tenant_id, assignee_id) WHERE assignee_id IS NOT NULL;
      CREATE INDEX conversations_contact ON conversations (tenant_id, contact_id, opened_at DESC);

      CREATE TABLE media (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        meta_media_id text NOT NULL,
        mime_type text NOT NULL,
        sha256 text NOT NULL,
        size_bytes integer NOT NULL,
        filename text,
        storage_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, meta_media_id)
      );

      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        -- Arrival order across the tenant: clients resync with "everything after seq N".
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        direction text NOT NULL ${checkIn('direction', MESSAGE_DIRECTIONS)},
        sender_type text NOT NULL ${checkIn('sender_type', MESSAGE_SENDER_TYPES)},
        sender_id text,
        type text NOT NULL,
        body text NOT NULL DEFAULT '',
        payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        wamid text,
        status text NOT NULL ${checkIn('status', MESSAGE_STATUSES)},
        error jsonb,
        media_id uuid REFERENCES media(id) ON DELETE SET NULL,
        context_wamid text,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        status_at timestamptz,
        -- Set just before the Graph API call: a retry that finds it without a wamid does not know
        -- whether Meta got the message, and waits for Meta's status webhook before sending again.
        send_attempted_at timestamptz,
        -- Which activity stored an inbound message: its own retry is not a duplicate delivery.
        ingest_key text
      );
      -- Inbound dedupe: Meta redelivers for up to 7 days.
      CREATE UNIQUE INDEX messages_wamid ON messages (tenant_id, wamid);
      CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, seq DESC);
      CREATE INDEX messages_search ON messages USING gin (to_tsvector('portuguese', body));

      -- Every status Meta reported, once per (message, status); they may arrive before the send
      -- activity has stored the wamid, and are applied then.
      CREATE TABLE message_status_events (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        wamid text NOT NULL,
        status text NOT NULL,
        occurred_at timestamptz NOT NULL,
        errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        -- Our message id, echoed by Meta (biz_opaque_callback_data): ties a status to a send whose answer was lost.
        callback_data text,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, wamid, status)
      );
      CREATE INDEX message_status_events_callback ON message_status_events (tenant_id, callback_data) WHERE callback_data IS NOT NULL;

      CREATE TABLE escalations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        status text NOT NULL ${checkIn('status', ESCALATION_STATUSES)},
        reason text NOT NULL,
        intent text,
        requested_by_type text NOT NULL ${checkIn('requested_by_type', ESCALATION_REQUESTER_TYPES)},
        requested_by_id text,
        team text,
        sla_due_at timestamptz,
        sla_breaches integer NOT NULL DEFAULT 0,
        out_of_hours boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        accepted_at timestamptz,
        accepted_by uuid REFERENCES users(id) ON DELETE SET NULL,
        resolved_at timestamptz
      );
      CREATE INDEX escalations_queue ON escalations (tenant_id, created_at, id) WHERE status = 'waiting';
      CREATE INDEX escalations_conversation ON escalations (tenant_id, conversation_id, created_at DESC);

      CREATE TABLE faq_entries (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        question text NOT NULL,
        answer text NOT NULL,
        keywords text[] NOT NULL DEFAULT '{}',
        position integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX faq_entries_tenant ON faq_entries (tenant_id, position);

      -- Per-tenant AI override; without a row the environment's settings (or the rules) apply.
      CREATE TABLE ai_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        api_key_sealed text,
        base_url text,
        model text,
        system_prompt text,
        enabled boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE automation_endpoints (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        url text NOT NULL,
        secret_sealed text NOT NULL,
        events text[] NOT NULL,
        active boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);

    await tenantTables(knex, roles, ['meta_apps', 'contacts', 'conversations', 'media', 'messages', 'message_status_events', 'escalations', 'faq_entries', 'ai_settings', 'automation_endpoints']);

    // The webhook learns the tenant from the payload (phone_number_id) or the URL (app id),
    // before any tenant context exists: these two look-ups are all it may do before that.
    await definerLookups(knex, roles, ['meta_apps', 'whatsapp_channels'], [
      {
        name: 'webhook_find_app',
        params: 'p_app_id text',
        returns: 'TABLE (id uuid, tenant_id uuid, app_secret_sealed text, verify_token_sealed text)',
        body: `
          SELECT a.id, a.tenant_id, a.app_secret_sealed, a.verify_token_sealed FROM meta_apps a WHERE a.app_id = p_app_id`,
      },
      {
        name: 'webhook_find_channels',
        params: 'p_phone_number_ids text[]',
        returns: 'TABLE (phone_number_id text, channel_id uuid, tenant_id uuid, meta_app_id uuid, tenant_status text)',
        body: `
          SELECT c.phone_number_id, c.id, c.tenant_id, c.meta_app_id, t.status
          FROM whatsapp_channels c JOIN tenants t ON t.id = c.tenant_id
          WHERE c.phone_number_id = ANY(p_phone_number_ids)`,
      },
    ]);
  },
};
