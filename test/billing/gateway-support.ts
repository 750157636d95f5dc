import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { billingGatewayActivities, type EnsureChargeResult, type InvoiceCharge } from '../../activities/billing-gateway';
import { createInvoice, type InvoiceSpec } from '../../db/invoices';
import { GatewayCharge, Invoice, Payment } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { addCalendarDays } from '../../domain/late-charges';
import { todayIn } from '../../domain/contract-template';
import { dunningStart, dunningWorkflowId } from '../../workflows/dunning';
import { startOptions } from '../../workflows/workflow-start';
import { provisionTenant, superAdmin, uid, type TenantFixture } from '../support/fixtures';
import type { TestStack } from '../support/stack';
import { guestPhone } from '../support/whatsapp';

// A tenant with its Asaas account connected through the API, known to the loopback sandbox with
// its webhook pointing at this stack.
export interface GatewayTenant extends TenantFixture {
  accountId: string;
  apiKey: string;
  webhookToken: string;
  webhookPath: string;
}

export async function gatewayTenant(stack: TestStack, o: { connect?: boolean } = {}): Promise<GatewayTenant> {
  const root = await superAdmin(stack);
  const t = await provisionTenant(stack, root.token);
  if (o.connect === false) return { ...t, accountId: '', apiKey: '', webhookToken: '', webhookPath: '' };
  const apiKey = `$aact_sandbox_${uid()}${uid()}`;
  const res = await stack.api.put('/api/billing/gateway', { token: t.admin.token, body: { apiKey } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const accountId = /\/webhooks\/asaas\/([0-9a-f-]+)$/.exec(res.body.webhookUrl)![1]!;
  const webhookPath = `/webhooks/asaas/${accountId}`;
  stack.asaas.addAccount({ apiKey, webhook: { url: `${stack.baseUrl}${webhookPath}`, token: res.body.webhookToken } });
  return { ...t, accountId, apiKey, webhookToken: res.body.webhookToken, webhookPath };
}

export const VALID_CPF = '52998224725';

export async function debtor(stack: TestStack, tenantId: string, o: { document?: string | null } = {}): Promise<string> {
  const id = randomUUID();
  await withTenant(stack.deps.knex, tenantId, async (trx) => {
    await trx('contacts').insert({ id, tenantId, waId: guestPhone(), name: 'Carla Devedora', email: `carla-${uid()}@example.com.br`, document: o.document === undefined ? VALID_CPF : o.document });
  });
  return id;
}

export const today = () => todayIn('America/Sao_Paulo', new Date());

export async function invoice(stack: TestStack, tenantId: string, contactId: string, spec: Partial<InvoiceSpec> = {}): Promise<Invoice> {
  return withTenant(stack.deps.knex, tenantId, (trx) =>
    createInvoice(trx, {
      tenantId, contactId, origin: 'manual', description: 'Mensalidade', amountCents: 10_000, dueDate: addCalendarDays(today(), 10),
      finePercent: 2, monthlyInterestPercent: 1, billingType: 'UNDEFINED', ...spec,
    }, dunningWorkflowId),
  );
}

export async function startDunning(stack: TestStack, tenantId: string, invoiceId: string): Promise<string> {
  const start = dunningStart({ tenantId, invoiceId });
  await stack.deps.temporal.client.workflow.start(start.workflowType, startOptions(start, { main: stack.config.TEMPORAL_TASK_QUEUE }));
  return start.workflowId;
}

// The activities as the worker would run them, inside an activity context (for its logger).
export function gatewayActivities(stack: TestStack) {
  const acts = billingGatewayActivities({
    knex: stack.deps.knex, secrets: stack.deps.secrets, whatsapp: { baseUrl: '', apiVersion: '' },
    gateway: { asaasBaseUrl: stack.asaas.url, timeoutMs: 3_000 },
  });
  const env = new MockActivityEnvironment();
  return {
    ensureInvoiceCharge: (a: { tenantId: string; invoiceId: string }) => env.run(acts.ensureInvoiceCharge, a) as Promise<EnsureChargeResult>,
    cancelInvoiceCharge: (a: { tenantId: string; invoiceId: string }) => env.run(acts.cancelInvoiceCharge, a) as Promise<{ cancelled: boolean }>,
  };
}

export async function rows(stack: TestStack, tenantId: string, invoiceId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) => ({
    invoice: await Invoice.query(trx).findById(invoiceId).throwIfNotFound(),
    payments: await Payment.query(trx).where({ invoiceId }).orderBy('createdAt'),
    charges: await GatewayCharge.query(trx).where({ invoiceId }).orderBy('createdAt'),
    events: (await trx('gateway_events').count('* as n').first()) as { n: string },
  }));
}

// Everything billing the tenant has, to check that a refused request changed nothing.
export async function billingSnapshot(stack: TestStack, tenantId: string) {
  return withTenant(stack.deps.knex, tenantId, async (trx) => ({
    invoices: await trx('invoices').select('id', 'status', 'paidCents', 'updatedAt').orderBy('id'),
    payments: await trx('payments').select('id').orderBy('id'),
    charges: await trx('gateway_charges').select('id', 'status', 'current').orderBy('id'),
    events: await trx('gateway_events').select('id', 'appliedAt').orderBy('id'),
    payouts: await trx('owner_payouts').select('id', 'status').orderBy('id'),
  }));
}

export const isCharge = (r: EnsureChargeResult): r is InvoiceCharge => r !== null && 'chargeId' in r;
