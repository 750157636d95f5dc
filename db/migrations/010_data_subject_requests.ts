import type { Knex } from 'knex';
import { DATA_SUBJECT_REQUEST_CHANNELS, DATA_SUBJECT_REQUEST_KINDS, DATA_SUBJECT_REQUEST_STATUSES } from '../../domain/data-subject-requests';
import type { Migration } from './index';
import { checkIn, tenantTables } from './rls';

// LGPD data-subject requests (art. 18): one row per request, the record of what was asked, by
// whom, when the 15-day answer is due, who confirmed the person's identity and what was done.
// The export of an access or portability request is kept here for staff to download; an erasure
// of the same contact later clears it.
export const dataSubjectRequests: Migration = {
  name: '010_data_subject_requests',
  async up(knex: Knex, roles) {
    await knex.raw(`
      CREATE TABLE data_subject_requests (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        number integer NOT NULL,
        -- No cascade: an erasure anonymizes the contact row, never deletes it, so the request keeps
        -- its subject (NO ACTION, checked at the statement's end, still lets a tenant's deletion through).
        contact_id uuid NOT NULL REFERENCES contacts(id),
        kind text NOT NULL ${checkIn('kind', DATA_SUBJECT_REQUEST_KINDS)},
        status text NOT NULL DEFAULT 'awaiting_identity' ${checkIn('status', DATA_SUBJECT_REQUEST_STATUSES)},
        channel text NOT NULL ${checkIn('channel', DATA_SUBJECT_REQUEST_CHANNELS)},
        -- The message that asked, for a WhatsApp request (one request per message, however often Meta redelivers).
        source_message_id uuid,
        requested_by_type text NOT NULL,
        requested_by_id text,
        requested_at timestamptz NOT NULL DEFAULT now(),
        due_at timestamptz NOT NULL,
        -- The fields to change, for a correction (art. 18 III).
        correction jsonb,
        identity_confirmed_by text,
        identity_confirmed_at timestamptz,
        identity_note text,
        refused_by text,
        refused_at timestamptz,
        refusal_reason text,
        completed_at timestamptz,
        -- What was done: counts per store, what was kept and why. Never personal data.
        completion jsonb,
        export_data jsonb,
        exported_at timestamptz,
        workflow_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, number),
        CHECK (kind <> 'correction' OR correction IS NOT NULL)
      );
      CREATE UNIQUE INDEX data_subject_requests_message ON data_subject_requests (tenant_id, source_message_id) WHERE source_message_id IS NOT NULL;
      CREATE INDEX data_subject_requests_list ON data_subject_requests (tenant_id, requested_at DESC, id DESC);
      CREATE INDEX data_subject_requests_contact ON data_subject_requests (tenant_id, contact_id);
    `);
    await tenantTables(knex, roles, ['data_subject_requests']);
  },
};
