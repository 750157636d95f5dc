import type { Knex } from 'knex';
import type { Migration } from './index';
import {
  APPOINTMENT_KINDS,
  APPOINTMENT_STATUSES,
  BILLING_HANDOFF_STATUSES,
  CLOSED_LEAD_STAGES,
  CONSENT_ACTIONS,
  CONSENT_CHANNELS,
  CONSENT_PURPOSES,
  CONTRACT_EVENT_TYPES,
  CONTRACT_STATUSES,
  LEAD_EVENT_TYPES,
  LEAD_SOURCES,
  LEAD_STAGES,
  LEAD_TEMPERATURES,
  NURTURING_STATUSES,
  OFFERING_KINDS,
  PROPOSAL_STATUSES,
  SIGNER_STATUSES,
  SIGNING_ORDERS,
  TASK_KINDS,
  TASK_STATUSES,
} from '../../domain/sales-statuses';
import { checkIn, definerLookups, sqlList, tenantTables } from './rls';

const appendOnly = (table: string) => `
  CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION sales_refuse_change();`;

// The sales funnel: what a tenant sells, the consent ledger of its contacts, leads and their
// timeline, cadences (versioned: an enrolment keeps the version it started on), the owners' tasks,
// appointments (visits, test drives), proposals, contract templates, contracts with their signers,
// documents and evidence, and the hand-off to billing. Each lead, appointment and contract is one
// workflow; these rows are what the dashboard lists and what the evidence rests on.
export const sales: Migration = {
  name: '003_sales',
  async up(knex: Knex, roles) {
    await knex.raw(`
      -- A ledger refuses every change made to it directly; only the referential actions of what
      -- it hangs on (a tenant or a contact erased, which fire from inside another trigger) pass.
      CREATE FUNCTION sales_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'TRUNCATE' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;
          RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;

      ALTER TABLE contacts ADD COLUMN name text, ADD COLUMN email text CHECK (email = lower(email));
      CREATE INDEX contacts_email ON contacts (tenant_id, email) WHERE email IS NOT NULL;

      CREATE TABLE offerings (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL ${checkIn('kind', OFFERING_KINDS)},
        code text,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        price_cents bigint CHECK (price_cents >= 0),
        -- Validated per kind by domain/offerings.ts (a property's area, a vehicle's year...).
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX offerings_code ON offerings (tenant_id, code) WHERE code IS NOT NULL;
      CREATE INDEX offerings_list ON offerings (tenant_id, kind, created_at DESC, id DESC);

      -- Append-only (LGPD art. 8: the burden of proof is the controller's). A contact's current
      -- consent for a purpose is its latest row.
      CREATE TABLE consent_events (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        purpose text NOT NULL ${checkIn('purpose', CONSENT_PURPOSES)},
        action text NOT NULL ${checkIn('action', CONSENT_ACTIONS)},
        channel text NOT NULL ${checkIn('channel', CONSENT_CHANNELS)},
        text_version text,
        -- How it was captured: IP and user agent of a form, the wamid of a message, who typed it in.
        evidence jsonb NOT NULL DEFAULT '{}'::jsonb,
        recorded_by_type text NOT NULL,
        recorded_by_id text,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        CHECK (action = 'withdrawn' OR text_version IS NOT NULL)
      );
      CREATE INDEX consent_events_contact ON consent_events (tenant_id, contact_id, purpose, seq DESC);
      ${appendOnly('consent_events')}

      CREATE TABLE cadences (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        current_version integer NOT NULL DEFAULT 1,
        is_default boolean NOT NULL DEFAULT false,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX cadences_default ON cadences (tenant_id) WHERE is_default;
      -- A version is never changed once written: running enrolments read the one they started on.
      CREATE TABLE cadence_versions (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        cadence_id uuid NOT NULL REFERENCES cadences(id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 1),
        steps jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        PRIMARY KEY (cadence_id, version)
      );
      ${appendOnly('cadence_versions')}

      CREATE TABLE leads (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        offering_id uuid REFERENCES offerings(id) ON DELETE SET NULL,
        interest text NOT NULL DEFAULT '',
        -- What makes two arrivals the same lead: the offering, or the normalized interest text.
        interest_key text NOT NULL,
        source text NOT NULL ${checkIn('source', LEAD_SOURCES)},
        source_detail text,
        stage text NOT NULL DEFAULT 'new' ${checkIn('stage', LEAD_STAGES)},
        owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
        score integer CHECK (score BETWEEN 0 AND 100),
        temperature text ${checkIn('temperature', LEAD_TEMPERATURES)},
        score_reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
        nurturing_status text ${checkIn('nurturing_status', NURTURING_STATUSES)},
        nurturing_next_at timestamptz,
        cadence_id uuid REFERENCES cadences(id) ON DELETE SET NULL,
        cadence_version integer,
        workflow_id text NOT NULL,
        lost_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        stage_changed_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz
      );
      -- One open lead per contact and interest: a duplicate arrival joins it.
      CREATE UNIQUE INDEX leads_open_interest ON leads (tenant_id, contact_id, interest_key) WHERE stage NOT IN ${sqlList(CLOSED_LEAD_STAGES)};
      CREATE INDEX leads_board ON leads (tenant_id, stage, created_at DESC, id DESC);
      CREATE INDEX leads_owner ON leads (tenant_id, owner_id, created_at DESC, id DESC);
      CREATE INDEX leads_contact ON leads (tenant_id, contact_id);

      CREATE TABLE lead_events (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
        type text NOT NULL ${checkIn('type', LEAD_EVENT_TYPES)},
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        actor_type text NOT NULL,
        actor_id text,
        occurred_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX lead_events_timeline ON lead_events (tenant_id, lead_id, seq DESC);

      -- Round robin among the tenant's sales users: the last one given a lead.
      CREATE TABLE lead_assignment_cursors (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        last_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- How many open leads a sales user may hold; without a row, the tenant's default.
      CREATE TABLE sales_capacities (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        max_open_leads integer NOT NULL CHECK (max_open_leads >= 0),
        PRIMARY KEY (tenant_id, user_id)
      );

      -- The key a tenant's website posts its lead form with; only its hash is kept.
      CREATE TABLE lead_forms (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        key_prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        consent_text_version text,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE tasks (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        lead_id uuid REFERENCES leads(id) ON DELETE CASCADE,
        owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
        kind text NOT NULL ${checkIn('kind', TASK_KINDS)},
        title text NOT NULL,
        status text NOT NULL DEFAULT 'open' ${checkIn('status', TASK_STATUSES)},
        due_at timestamptz,
        -- The workflow waiting on it (a cadence's call step), told when the task is done.
        workflow_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        completed_by uuid REFERENCES users(id) ON DELETE SET NULL,
        outcome text
      );
      CREATE INDEX tasks_owner ON tasks (tenant_id, owner_id, status, due_at NULLS LAST, id);
      CREATE INDEX tasks_lead ON tasks (tenant_id, lead_id, created_at DESC);

      CREATE TABLE appointments (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
        offering_id uuid REFERENCES offerings(id) ON DELETE SET NULL,
        kind text NOT NULL ${checkIn('kind', APPOINTMENT_KINDS)},
        status text NOT NULL DEFAULT 'scheduled' ${checkIn('status', APPOINTMENT_STATUSES)},
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        location text,
        notes text,
        reschedule_count integer NOT NULL DEFAULT 0,
        outcome_note text,
        workflow_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      );
      CREATE INDEX appointments_owner ON appointments (tenant_id, owner_id, starts_at);
      CREATE INDEX appointments_lead ON appointments (tenant_id, lead_id, starts_at DESC);
      CREATE INDEX appointments_contact_open ON appointments (tenant_id, contact_id) WHERE status IN ('scheduled', 'confirmed');

      CREATE TABLE proposals (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        number integer NOT NULL,
        status text NOT NULL DEFAULT 'draft' ${checkIn('status', PROPOSAL_STATUSES)},
        items jsonb NOT NULL,
        subtotal_cents bigint NOT NULL CHECK (subtotal_cents >= 0),
        discount_cents bigint NOT NULL DEFAULT 0 CHECK (discount_cents >= 0),
        total_cents bigint NOT NULL CHECK (total_cents >= 0),
        valid_until date NOT NULL,
        notes text,
        -- The customer's accept/reject link; only its hash is kept.
        link_token_hash text UNIQUE,
        decided_at timestamptz,
        decided_by_type text,
        decided_by_id text,
        decision_reason text,
        decision_evidence jsonb,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, number)
      );
      CREATE INDEX proposals_lead ON proposals (tenant_id, lead_id, created_at DESC);
      CREATE INDEX proposals_list ON proposals (tenant_id, status, created_at DESC, id DESC);

      -- The text a contract is rendered from ({{placeholders}}); a new version is a new row.
      CREATE TABLE contract_templates (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        version integer NOT NULL DEFAULT 1,
        title text NOT NULL,
        body text NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX contract_templates_default ON contract_templates (tenant_id) WHERE is_default;

      CREATE TABLE contracts (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        proposal_id uuid REFERENCES proposals(id) ON DELETE SET NULL,
        lead_id uuid REFERENCES leads(id) ON DELETE SET NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        template_id uuid REFERENCES contract_templates(id) ON DELETE SET NULL,
        number integer NOT NULL,
        title text NOT NULL,
        status text NOT NULL DEFAULT 'draft' ${checkIn('status', CONTRACT_STATUSES)},
        signing_order text NOT NULL DEFAULT 'sequential' ${checkIn('signing_order', SIGNING_ORDERS)},
        total_cents bigint NOT NULL CHECK (total_cents >= 0),
        -- Billing terms handed to the billing process (installments, first due date...).
        billing_terms jsonb NOT NULL DEFAULT '{}'::jsonb,
        original_sha256 text,
        final_sha256 text,
        workflow_id text NOT NULL,
        expires_at timestamptz,
        sent_at timestamptz,
        signed_at timestamptz,
        activated_at timestamptz,
        ended_at timestamptz,
        end_reason text,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, number)
      );
      -- One contract per accepted proposal, however often acceptance is retried.
      CREATE UNIQUE INDEX contracts_proposal ON contracts (tenant_id, proposal_id) WHERE proposal_id IS NOT NULL;
      CREATE INDEX contracts_list ON contracts (tenant_id, status, created_at DESC, id DESC);

      -- The rendered original and the sealed final, with their SHA-256.
      CREATE TABLE contract_documents (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contract_id uuid NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('original', 'final')),
        sha256 text NOT NULL,
        size_bytes integer NOT NULL,
        content bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (contract_id, kind)
      );

      CREATE TABLE contract_signers (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contract_id uuid NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
        position integer NOT NULL CHECK (position >= 1),
        name text NOT NULL,
        wa_id text NOT NULL,
        email text,
        document text,
        role text NOT NULL DEFAULT 'signer',
        status text NOT NULL DEFAULT 'waiting' ${checkIn('status', SIGNER_STATUSES)},
        -- The signing link's token and the one-time code: hashes only.
        link_token_hash text UNIQUE,
        link_expires_at timestamptz,
        code_hash text,
        code_expires_at timestamptz,
        code_attempts integer NOT NULL DEFAULT 0,
        code_sent_at timestamptz,
        notified_at timestamptz,
        viewed_at timestamptz,
        signed_at timestamptz,
        signed_ip text,
        signed_user_agent text,
        signed_document_sha256 text,
        declined_at timestamptz,
        decline_reason text,
        UNIQUE (contract_id, position, wa_id)
      );
      CREATE INDEX contract_signers_contract ON contract_signers (tenant_id, contract_id, position);

      -- The evidence: append-only, each row chained to the previous one's hash.
      CREATE TABLE contract_events (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contract_id uuid NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
        signer_id uuid REFERENCES contract_signers(id) ON DELETE SET NULL,
        type text NOT NULL ${checkIn('type', CONTRACT_EVENT_TYPES)},
        ip text,
        user_agent text,
        document_sha256 text,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        prev_hash text,
        hash text NOT NULL
      );
      CREATE INDEX contract_events_contract ON contract_events (tenant_id, contract_id, seq);
      ${appendOnly('contract_events')}

      -- The hand-off point to billing: one request per contract, idempotent on the contract.
      CREATE TABLE billing_handoffs (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contract_id uuid PRIMARY KEY REFERENCES contracts(id) ON DELETE CASCADE,
        status text NOT NULL ${checkIn('status', BILLING_HANDOFF_STATUSES)},
        total_cents bigint NOT NULL CHECK (total_cents >= 0),
        terms jsonb NOT NULL DEFAULT '{}'::jsonb,
        -- What billing created (its subscription or invoices), so a cancellation can undo it.
        billing_reference jsonb,
        requested_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        cancelled_at timestamptz
      );
    `);

    const tables = [
      'offerings', 'consent_events', 'cadences', 'cadence_versions', 'leads', 'lead_events', 'lead_assignment_cursors',
      'sales_capacities', 'lead_forms', 'tasks', 'appointments', 'proposals', 'contract_templates', 'contracts',
      'contract_documents', 'contract_signers', 'contract_events', 'billing_handoffs',
    ];
    await tenantTables(knex, roles, tables);

    // Public links reach the tenant before any tenant context exists: a website's form key, a
    // customer's proposal link, a signer's link. Each look-up takes a hash and returns only ids.
    await definerLookups(knex, roles, ['lead_forms', 'proposals', 'contract_signers', 'tenants'], [
      {
        name: 'public_find_lead_form',
        params: 'p_key_hash text',
        returns: 'TABLE (form_id uuid, tenant_id uuid, active boolean, tenant_status text)',
        body: `
          SELECT f.id, f.tenant_id, f.active, t.status FROM lead_forms f JOIN tenants t ON t.id = f.tenant_id WHERE f.key_hash = p_key_hash`,
      },
      {
        name: 'public_find_proposal_link',
        params: 'p_token_hash text',
        returns: 'TABLE (proposal_id uuid, tenant_id uuid)',
        body: `
          SELECT p.id, p.tenant_id FROM proposals p WHERE p.link_token_hash = p_token_hash`,
      },
      {
        name: 'public_find_signer_link',
        params: 'p_token_hash text',
        returns: 'TABLE (signer_id uuid, contract_id uuid, tenant_id uuid)',
        body: `
          SELECT s.id, s.contract_id, s.tenant_id FROM contract_signers s WHERE s.link_token_hash = p_token_hash`,
      },
    ]);

    // --- Added by the leads intake (H1) ---------------------------------------------------------
    // An automation's Idempotency-Key names one arrival: its retry finds the lead event it wrote.
    await knex.raw(`
      CREATE UNIQUE INDEX lead_events_idempotency ON lead_events (tenant_id, (data->>'idempotencyKey')) WHERE (data->>'idempotencyKey') IS NOT NULL;
    `);
  },
};
