import type { Knex } from 'knex';
import {
  ASSEMBLY_STATUSES,
  BID_STATUSES,
  BID_TYPES,
  CONTEMPLATION_KINDS,
  CONTEMPLATION_STATUSES,
  GROUP_STATUSES,
  QUOTA_STATUSES,
} from '../../domain/consortium-statuses';
import type { Migration } from './index';
import { checkIn, tenantTables } from './rls';

// Consortium administration: groups with their versioned rules, quotas held by members (contacts
// with a CPF/CNPJ), each quota's installments (invoices collected by dunning, with the parts of
// the common fund, fee and reserve), and one assembly per group and month with its bids,
// contemplations and sealed audit record. The fund balances are sums over these rows, not a
// counter that could drift.
export const consortium: Migration = {
  name: '005_consortium',
  async up(knex: Knex, roles) {
    await knex.raw(`
      CREATE TABLE consortium_groups (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        code text NOT NULL CHECK (length(code) BETWEEN 1 AND 40),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        status text NOT NULL DEFAULT 'active' ${checkIn('status', GROUP_STATUSES)},
        credit_cents bigint NOT NULL CHECK (credit_cents > 0),
        term_months integer NOT NULL CHECK (term_months BETWEEN 1 AND 240),
        admin_fee_percent numeric(7,4) NOT NULL CHECK (admin_fee_percent BETWEEN 0 AND 100),
        reserve_fund_percent numeric(7,4) NOT NULL CHECK (reserve_fund_percent BETWEEN 0 AND 100),
        quota_count integer NOT NULL CHECK (quota_count BETWEEN 1 AND 99999),
        assembly_day integer NOT NULL CHECK (assembly_day BETWEEN 1 AND 28),
        installment_due_day integer NOT NULL CHECK (installment_due_day BETWEEN 1 AND 28),
        first_assembly_month text NOT NULL CHECK (first_assembly_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        schedule_id text NOT NULL,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, code)
      );

      -- The regulamento's assembly clauses, one row per published version, never updated.
      CREATE TABLE consortium_rule_versions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES consortium_groups(id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 1),
        rules jsonb NOT NULL,
        note text,
        published_by uuid REFERENCES users(id) ON DELETE SET NULL,
        published_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (group_id, version)
      );

      CREATE TABLE consortium_quotas (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES consortium_groups(id) ON DELETE CASCADE,
        number integer NOT NULL CHECK (number >= 1),
        -- The member (consorciado): a contact whose CPF/CNPJ was validated.
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE RESTRICT,
        status text NOT NULL DEFAULT 'active' ${checkIn('status', QUOTA_STATUSES)},
        -- The plan: the regular installment, how many in all, and the last one's amount once a
        -- winning bid reduced the term (null: like the others).
        installment_cents bigint NOT NULL CHECK (installment_cents >= 0),
        installment_count integer NOT NULL CHECK (installment_count >= 0),
        last_installment_cents bigint CHECK (last_installment_cents >= 0),
        installments_issued integer NOT NULL DEFAULT 0 CHECK (installments_issued >= 0),
        joined_on date NOT NULL,
        contemplated_at timestamptz,
        contemplated_assembly_id uuid,
        credit_released_cents bigint,
        excluded_at timestamptz,
        exclusion_reason text,
        restituted_at timestamptz,
        restitution_cents bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (group_id, number)
      );
      CREATE INDEX consortium_quotas_contact ON consortium_quotas (tenant_id, contact_id);

      -- Each installment is an invoice (origin consortium_quota); its parts feed the fund balances.
      CREATE TABLE consortium_installments (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid PRIMARY KEY REFERENCES invoices(id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES consortium_groups(id) ON DELETE CASCADE,
        quota_id uuid NOT NULL REFERENCES consortium_quotas(id) ON DELETE CASCADE,
        sequence integer NOT NULL CHECK (sequence >= 1),
        month text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        common_fund_cents bigint NOT NULL CHECK (common_fund_cents >= 0),
        admin_fee_cents bigint NOT NULL CHECK (admin_fee_cents >= 0),
        reserve_fund_cents bigint NOT NULL CHECK (reserve_fund_cents >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (quota_id, sequence),
        UNIQUE (quota_id, month)
      );
      CREATE INDEX consortium_installments_group ON consortium_installments (tenant_id, group_id);

      CREATE TABLE consortium_assemblies (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES consortium_groups(id) ON DELETE CASCADE,
        month text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        status text NOT NULL DEFAULT 'bidding' ${checkIn('status', ASSEMBLY_STATUSES)},
        workflow_id text NOT NULL,
        rule_version integer NOT NULL,
        assembly_date date NOT NULL,
        extraction_date date NOT NULL,
        bidding_closes_at timestamptz NOT NULL,
        -- The Loteria Federal result as entered (and corrected, until published).
        lottery jsonb,
        lottery_corrections jsonb NOT NULL DEFAULT '[]',
        published_at timestamptz,
        result jsonb,
        record jsonb,
        record_sha256 text CHECK (record_sha256 ~ '^[0-9a-f]{64}$'),
        closed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (group_id, month)
      );

      CREATE TABLE consortium_bids (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        assembly_id uuid NOT NULL REFERENCES consortium_assemblies(id) ON DELETE CASCADE,
        quota_id uuid NOT NULL REFERENCES consortium_quotas(id) ON DELETE CASCADE,
        quota_number integer NOT NULL,
        type text NOT NULL ${checkIn('type', BID_TYPES)},
        percent numeric(7,4) NOT NULL CHECK (percent > 0 AND percent <= 100),
        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
        status text NOT NULL DEFAULT 'live' ${checkIn('status', BID_STATUSES)},
        reason text,
        placed_by jsonb NOT NULL,
        placed_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- One live bid per quota and assembly: a new one replaces it.
      CREATE UNIQUE INDEX consortium_bids_live ON consortium_bids (assembly_id, quota_id) WHERE status = 'live';

      CREATE TABLE consortium_contemplations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        assembly_id uuid NOT NULL REFERENCES consortium_assemblies(id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES consortium_groups(id) ON DELETE CASCADE,
        quota_id uuid NOT NULL REFERENCES consortium_quotas(id) ON DELETE CASCADE,
        quota_number integer NOT NULL,
        kind text NOT NULL ${checkIn('kind', CONTEMPLATION_KINDS)},
        status text NOT NULL ${checkIn('status', CONTEMPLATION_STATUSES)},
        bid_id uuid REFERENCES consortium_bids(id) ON DELETE SET NULL,
        credit_cents bigint NOT NULL DEFAULT 0 CHECK (credit_cents >= 0),
        restitution_cents bigint NOT NULL DEFAULT 0 CHECK (restitution_cents >= 0),
        from_reserve_cents bigint NOT NULL DEFAULT 0 CHECK (from_reserve_cents >= 0),
        -- What the winner paid into the common fund (a lance livre or fixo once paid; 0 embutido).
        bid_paid_cents bigint NOT NULL DEFAULT 0 CHECK (bid_paid_cents >= 0),
        payment_due_at timestamptz,
        paid_at timestamptz,
        disqualified_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (assembly_id, quota_id, kind)
      );
      CREATE INDEX consortium_contemplations_group ON consortium_contemplations (tenant_id, group_id);
    `);

    await tenantTables(knex, roles, [
      'consortium_groups', 'consortium_rule_versions', 'consortium_quotas', 'consortium_installments',
      'consortium_assemblies', 'consortium_bids', 'consortium_contemplations',
    ]);
  },
};
