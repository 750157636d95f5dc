import type { Knex } from 'knex';
import {
  BILLING_CYCLES,
  BILLING_TYPES,
  CHARGE_STATUSES,
  COLLECTION_ITEM_STATUSES,
  COLLECTION_OUTCOMES,
  CONSEQUENCE_TARGETS,
  DUNNING_CONSEQUENCES,
  DUNNING_EVENT_TYPES,
  DUNNING_STAGES,
  GATEWAY_ENVIRONMENTS,
  GATEWAY_PROVIDERS,
  INVOICE_ORIGINS,
  INVOICE_STATUSES,
  PAYMENT_KINDS,
  PAYMENT_METHODS,
  PAYMENT_SOURCES,
  PAYOUT_STATUSES,
  SUBSCRIPTION_STATUSES,
} from '../../domain/billing-statuses';
import type { Migration } from './index';
import { checkIn, definerLookups, tenantTables } from './rls';

// Billing and dunning: the tenant's gateway account, subscriptions (a contract's or on their own)
// that a Temporal Schedule turns into invoices, invoices with their gateway charges, payments and
// refunds (one row per movement of money, deduplicated by the gateway's ids), the gateway's
// events as received, each invoice's collection timeline, the collectors' queue, the
// consequences applied to a debtor, and the owner payouts of rent.
export const billing: Migration = {
  name: '004_billing',
  async up(knex: Knex, roles) {
    await knex.raw(`
      -- The customer's CPF/CNPJ (a charge needs it), SP's "Não me Ligue" and the delinquency mark.
      ALTER TABLE contacts
        ADD COLUMN document text CHECK (document ~ '^([0-9]{11}|[0-9]{14})$'),
        ADD COLUMN do_not_contact boolean NOT NULL DEFAULT false,
        ADD COLUMN do_not_contact_reason text,
        ADD COLUMN do_not_contact_at timestamptz,
        ADD COLUMN delinquent_since timestamptz;

      -- One gateway account per tenant. The webhook URL carries the account id; the token Asaas
      -- sends back in asaas-access-token and the API key are sealed (AES-256-GCM).
      CREATE TABLE billing_gateway_accounts (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL UNIQUE REFERENCES tenants(id) ON DELETE CASCADE,
        provider text NOT NULL DEFAULT 'asaas' ${checkIn('provider', GATEWAY_PROVIDERS)},
        environment text NOT NULL DEFAULT 'sandbox' ${checkIn('environment', GATEWAY_ENVIRONMENTS)},
        api_key_sealed text NOT NULL,
        webhook_token_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- The customer as the gateway knows it (Asaas's cus_…), created once per contact.
      CREATE TABLE gateway_customers (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        provider text NOT NULL ${checkIn('provider', GATEWAY_PROVIDERS)},
        external_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (contact_id, provider)
      );

      CREATE TABLE subscriptions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        contract_id uuid REFERENCES contracts(id) ON DELETE SET NULL,
        description text NOT NULL,
        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
        cycle text NOT NULL ${checkIn('cycle', BILLING_CYCLES)},
        billing_type text NOT NULL ${checkIn('billing_type', BILLING_TYPES)},
        fine_percent numeric(7,4) NOT NULL CHECK (fine_percent >= 0),
        monthly_interest_percent numeric(7,4) NOT NULL CHECK (monthly_interest_percent >= 0),
        first_due_date date NOT NULL,
        -- The due date of the next invoice to issue and its sequence number (1, 2, …).
        next_due_date date NOT NULL,
        next_sequence integer NOT NULL DEFAULT 1,
        -- A contract of N installments ends after N invoices; null runs until ended.
        max_invoices integer CHECK (max_invoices > 0),
        issue_days_before_due integer NOT NULL DEFAULT 10 CHECK (issue_days_before_due >= 0),
        status text NOT NULL DEFAULT 'active' ${checkIn('status', SUBSCRIPTION_STATUSES)},
        schedule_id text NOT NULL,
        service_suspended boolean NOT NULL DEFAULT false,
        -- Rent: the property owner's payout, less the agency's fee, by the payout day.
        owner_name text,
        owner_document text CHECK (owner_document ~ '^([0-9]{11}|[0-9]{14})$'),
        owner_pix_key text,
        agency_fee_percent numeric(7,4) CHECK (agency_fee_percent BETWEEN 0 AND 100),
        payout_day integer CHECK (payout_day BETWEEN 1 AND 28),
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        paused_at timestamptz,
        ended_at timestamptz,
        end_reason text,
        CHECK ((owner_name IS NULL) = (owner_document IS NULL))
      );
      -- One subscription per contract, however often the hand-off is retried.
      CREATE UNIQUE INDEX subscriptions_contract ON subscriptions (tenant_id, contract_id) WHERE contract_id IS NOT NULL;
      CREATE INDEX subscriptions_list ON subscriptions (tenant_id, status, created_at DESC, id DESC);

      CREATE TABLE invoices (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        number integer NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        origin text NOT NULL ${checkIn('origin', INVOICE_ORIGINS)},
        -- The contract or the consortium quota the invoice belongs to.
        origin_id uuid,
        subscription_id uuid REFERENCES subscriptions(id) ON DELETE SET NULL,
        sequence integer,
        renegotiated_from uuid REFERENCES invoices(id) ON DELETE SET NULL,
        description text NOT NULL,
        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
        due_date date NOT NULL,
        fine_percent numeric(7,4) NOT NULL CHECK (fine_percent >= 0),
        monthly_interest_percent numeric(7,4) NOT NULL CHECK (monthly_interest_percent >= 0),
        billing_type text NOT NULL ${checkIn('billing_type', BILLING_TYPES)},
        status text NOT NULL DEFAULT 'open' ${checkIn('status', INVOICE_STATUSES)},
        -- Net of refunds; what amountDue sees is the payments table itself.
        paid_cents bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
        paid_at timestamptz,
        overdue_at timestamptz,
        cancelled_at timestamptz,
        cancel_reason text,
        dunning_stage text ${checkIn('dunning_stage', DUNNING_STAGES)},
        workflow_id text NOT NULL,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, number)
      );
      -- A subscription's N-th invoice exists once, however often its schedule fires.
      CREATE UNIQUE INDEX invoices_subscription_sequence ON invoices (subscription_id, sequence) WHERE subscription_id IS NOT NULL;
      CREATE INDEX invoices_list ON invoices (tenant_id, status, due_date, id);
      CREATE INDEX invoices_contact ON invoices (tenant_id, contact_id, due_date DESC);
      CREATE INDEX invoices_origin ON invoices (tenant_id, origin, origin_id) WHERE origin_id IS NOT NULL;

      -- A charge at the gateway for an invoice: a partial payment or a deleted charge leads to a
      -- new one for what is left, so an invoice can have several; one is current.
      CREATE TABLE gateway_charges (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        provider text NOT NULL ${checkIn('provider', GATEWAY_PROVIDERS)},
        external_id text NOT NULL,
        status text NOT NULL DEFAULT 'pending' ${checkIn('status', CHARGE_STATUSES)},
        current boolean NOT NULL DEFAULT true,
        value_cents bigint NOT NULL CHECK (value_cents > 0),
        due_date date NOT NULL,
        invoice_url text,
        bank_slip_url text,
        boleto_line text,
        pix_payload text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (provider, external_id)
      );
      CREATE UNIQUE INDEX gateway_charges_current ON gateway_charges (invoice_id) WHERE current;

      -- Every movement of money on an invoice. external_key dedupes what the gateway reports
      -- more than once (CONFIRMED then RECEIVED of the same charge is one payment).
      CREATE TABLE payments (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        kind text NOT NULL ${checkIn('kind', PAYMENT_KINDS)},
        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
        -- The tenant's calendar date the money moved (what amountDue reads).
        paid_on date NOT NULL,
        method text NOT NULL ${checkIn('method', PAYMENT_METHODS)},
        source text NOT NULL ${checkIn('source', PAYMENT_SOURCES)},
        gateway_charge_id uuid REFERENCES gateway_charges(id) ON DELETE SET NULL,
        external_key text,
        -- The collection stage the invoice was in when the money came (amounts recovered by stage).
        dunning_stage text ${checkIn('dunning_stage', DUNNING_STAGES)},
        note text,
        recorded_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, external_key)
      );
      CREATE INDEX payments_invoice ON payments (tenant_id, invoice_id, paid_on);

      -- The gateway's webhook events as received: deduplicated on the event id before anything is applied.
      CREATE TABLE gateway_events (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES billing_gateway_accounts(id) ON DELETE CASCADE,
        event_id text NOT NULL,
        event text NOT NULL,
        external_charge_id text,
        payload jsonb NOT NULL,
        result text,
        received_at timestamptz NOT NULL DEFAULT now(),
        applied_at timestamptz,
        UNIQUE (account_id, event_id)
      );

      -- An invoice's collection timeline (what the dunning run did and why).
      CREATE TABLE dunning_events (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        type text NOT NULL ${checkIn('type', DUNNING_EVENT_TYPES)},
        stage text ${checkIn('stage', DUNNING_STAGES)},
        -- The run's step key: a retried activity writes its event once.
        step_key text,
        amount_due_cents bigint,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (invoice_id, step_key)
      );
      CREATE INDEX dunning_events_invoice ON dunning_events (tenant_id, invoice_id, seq);

      -- The collectors' queue: a person takes over after the automatic notices.
      CREATE TABLE collection_items (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'open' ${checkIn('status', COLLECTION_ITEM_STATUSES)},
        assignee_id uuid REFERENCES users(id) ON DELETE SET NULL,
        amount_due_cents bigint NOT NULL,
        days_late integer NOT NULL,
        note text,
        outcome text ${checkIn('outcome', COLLECTION_OUTCOMES)},
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      );
      CREATE UNIQUE INDEX collection_items_open ON collection_items (invoice_id) WHERE status <> 'resolved';
      CREATE INDEX collection_items_queue ON collection_items (tenant_id, status, created_at, id);

      -- What the tenant's consequence did to whom, so a payment can lift it and the consortium
      -- process can count a quota's unpaid installments toward exclusion.
      CREATE TABLE dunning_consequences (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        kind text NOT NULL ${checkIn('kind', DUNNING_CONSEQUENCES)},
        target_type text NOT NULL ${checkIn('target_type', CONSEQUENCE_TARGETS)},
        target_id uuid NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        lifted_at timestamptz,
        UNIQUE (invoice_id, kind)
      );
      CREATE INDEX dunning_consequences_target ON dunning_consequences (tenant_id, target_type, target_id) WHERE lifted_at IS NULL;

      -- Rent received → the owner's share, due by the contract's payout day.
      CREATE TABLE owner_payouts (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL UNIQUE REFERENCES invoices(id) ON DELETE CASCADE,
        subscription_id uuid REFERENCES subscriptions(id) ON DELETE SET NULL,
        owner_name text NOT NULL,
        owner_document text NOT NULL,
        owner_pix_key text,
        reference_month text NOT NULL CHECK (reference_month ~ '^[0-9]{4}-[0-9]{2}$'),
        gross_cents bigint NOT NULL CHECK (gross_cents >= 0),
        fee_percent numeric(7,4) NOT NULL,
        fee_cents bigint NOT NULL CHECK (fee_cents >= 0),
        net_cents bigint NOT NULL CHECK (net_cents >= 0),
        due_date date NOT NULL,
        status text NOT NULL DEFAULT 'due' ${checkIn('status', PAYOUT_STATUSES)},
        paid_at timestamptz,
        paid_by uuid REFERENCES users(id) ON DELETE SET NULL,
        cancelled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX owner_payouts_owner ON owner_payouts (tenant_id, owner_document, reference_month);
      CREATE INDEX owner_payouts_due ON owner_payouts (tenant_id, status, due_date);
    `);

    await tenantTables(knex, roles, [
      'billing_gateway_accounts', 'gateway_customers', 'subscriptions', 'invoices', 'gateway_charges', 'payments',
      'gateway_events', 'dunning_events', 'collection_items', 'dunning_consequences', 'owner_payouts',
    ]);

    // The gateway's webhook reaches us before any tenant context: its URL names the account.
    await definerLookups(knex, roles, ['billing_gateway_accounts', 'tenants'], [
      {
        name: 'public_find_gateway_account',
        params: 'p_account_id uuid',
        returns: 'TABLE (account_id uuid, tenant_id uuid, provider text, webhook_token_sealed text, tenant_status text)',
        body: `
          SELECT a.id, a.tenant_id, a.provider, a.webhook_token_sealed, t.status FROM billing_gateway_accounts a JOIN tenants t ON t.id = a.tenant_id WHERE a.id = p_account_id`,
      },
    ]);

    // --- Added by the payment gateway (helper A) ----------------------------------------------
    // What an applied event still has to tell others (the dunning signal, automation events): a
    // redelivery of an event whose first deliveries failed runs them again from here, and
    // applied_at is set only once they all succeeded.
    await knex.raw(`
      ALTER TABLE gateway_events ADD COLUMN delivery_plan jsonb;
    `);

    // --- Added by helper C (recurring billing) ------------------------------------------------
    // A contract's total split in installments leaves a remainder: it goes on the first invoice,
    // whose amount then differs from the others'. Null: the first is like the rest.
    await knex.raw(`
      ALTER TABLE subscriptions ADD COLUMN first_amount_cents bigint CHECK (first_amount_cents > 0);
      -- An automation's Idempotency-Key on POST /api/invoices and /api/subscriptions names one
      -- creation: its retry finds the row the first call made.
      ALTER TABLE subscriptions ADD COLUMN idempotency_key text;
      CREATE UNIQUE INDEX subscriptions_idempotency ON subscriptions (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      ALTER TABLE invoices ADD COLUMN idempotency_key text;
      CREATE UNIQUE INDEX invoices_idempotency ON invoices (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    `);
  },
};
