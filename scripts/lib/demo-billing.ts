import { addCalendarDays } from '../../domain/late-charges';
import { localParts } from '../../domain/calendar';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import type { FakeAsaas } from '../sandbox/asaas';
import { request as apiRequest } from './demo-sales';
import type { DemoSettings } from './demo-tenant';

// Billing on the demo tenant, entered through the API as its staff would: the creditor named on
// every collection message (CDC art. 42-A), the Asaas account (the local sandbox under npm start),
// a finance user, Ana's CPF and an invoice for the wedding's deposit (its dunning reminds her now,
// three days before it is due), and a rent with the owner's payout: Bruno rents Carla's flat, the
// agency keeps 10%. Only into a tenant without invoices, so what a newcomer changed survives.

export const DEMO_BILLING = {
  finance: { name: 'Financeiro Demo', email: 'financeiro@pousada-demo.com.br', password: 'orquestra-financeiro' },
  creditor: { legalName: 'Pousada Demonstração Ltda.', taxId: '11.222.333/0001-81', address: 'Rua do Comércio, 100, Centro Histórico, Paraty/RJ, 23970-000' },
  gatewayApiKey: 'demo-asaas-api-key',
  // Fixed, so every npm start can point the in-memory sandbox at the webhook again.
  gatewayWebhookToken: 'demo-asaas-webhook-token-orquestra-local-0001',
  ana: { waId: '5511999990000', document: '390.533.447-05' },
  tenantContact: { waId: '5511988880000', name: 'Bruno Inquilino', document: '111.444.777-35' },
  owner: { ownerName: 'Carla Proprietária', ownerDocument: '529.982.247-25', ownerPixKey: 'carla@exemplo.com.br', agencyFeePercent: 10, payoutDay: 10 },
};

interface Reply {
  status: number;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
}
type Call = (method: string, path: string, body?: unknown) => Promise<Reply>;

export async function seedDemoBilling(apiUrl: string, demo: DemoSettings, asaas: FakeAsaas | null, say: (m: string) => void): Promise<string[]> {
  const request = (apiUrl: string, method: string, path: string, token: string | undefined, body?: unknown) => apiRequest(apiUrl, method, path, token, body) as unknown as Promise<Reply>;
  const login = await request(apiUrl, 'POST', '/api/auth/login', undefined, { email: demo.tenant.adminEmail, password: demo.tenant.adminPassword });
  if (login.status !== 200) return [];
  const call: Call = (method, path, body) => request(apiUrl, method, path, String(login.body.accessToken), body);
  // The local sandbox keeps nothing between runs: it is told the webhook again at every start.
  if (asaas) {
    const gateway = await call('GET', '/api/billing/gateway');
    if (gateway.body.configured) await connectSandbox(call, asaas);
  }
  const existing = await call('GET', '/api/invoices?limit=1');
  if (existing.status !== 200 || (existing.body.items?.length ?? 0) > 0) return [];

  const must = async (what: string, res: Promise<Reply>) => {
    const r = await res;
    if (r.status >= 300) throw new Error(`demo billing: ${what} failed (HTTP ${r.status}): ${JSON.stringify(r.body)}`);
    return r.body;
  };
  try {
    await must('creditor', call('PATCH', '/api/settings', { billing: { creditor: DEMO_BILLING.creditor } }));
    if (asaas) await connectSandbox(call, asaas);

    const users = await call('GET', '/api/users?limit=100');
    if (!users.body.items?.some((u) => u.email === DEMO_BILLING.finance.email)) {
      await must('finance user', call('POST', '/api/users', { ...DEMO_BILLING.finance, role: 'FINANCE' }));
    }

    const found = await must('Ana', call('GET', `/api/contacts?q=${DEMO_BILLING.ana.waId}&limit=1`));
    const ana = found.items?.[0];
    if (!ana) throw new Error('demo billing: Ana is not a contact yet');
    await must("Ana's CPF", call('PATCH', `/api/contacts/${String(ana.id)}`, { document: DEMO_BILLING.ana.document }));

    const today = localParts(Date.now(), DEFAULT_TENANT_SETTINGS.timeZone).date;
    const deposit = await must(
      'deposit invoice',
      call('POST', '/api/invoices', { contactId: ana.id, description: 'Sinal do casamento no jardim (30%)', amountCents: 1_275_000, dueDate: addCalendarDays(today, 3), billingType: 'UNDEFINED' }),
    );

    const bruno = await must('tenant contact', call('POST', '/api/contacts', { waId: DEMO_BILLING.tenantContact.waId, name: DEMO_BILLING.tenantContact.name }));
    await must("Bruno's CPF", call('PATCH', `/api/contacts/${String(bruno.id)}`, { document: DEMO_BILLING.tenantContact.document }));
    const rent = await must(
      'rent',
      call('POST', '/api/subscriptions', {
        contactId: bruno.id,
        description: 'Aluguel — Apartamento 12, Rua da Matriz, 45',
        amountCents: 250_000,
        cycle: 'MONTHLY',
        firstDueDate: addCalendarDays(today, 5),
        billingType: 'BOLETO',
        ...DEMO_BILLING.owner,
      }),
    );

    // The deposit's run creates its charge at the gateway first: wait for its id, for the curl below.
    const charge = await waitForCharge(call, String(deposit.id));
    say(`Seeded the billing demo: invoice nº ${String(deposit.number)} for Ana (due in 3 days; its reminder waits for the collection window: weekdays 08–20h, Saturday 08–14h), Bruno's rent ${String(rent.id)}.`);
    const control = asaas ? asaas.url.replace(/\/v3$/, '/_sandbox') : null;
    return [
      `Billing demo  finance ${DEMO_BILLING.finance.email} / ${DEMO_BILLING.finance.password}; invoice ${String(deposit.id)} (Ana, R$ 12.750,00)`,
      `                GET /api/invoices/${String(deposit.id)} (amount due today, boleto line, PIX code, the rule), …/dunning (stage, next action)`,
      ...(control && charge
        ? [`                Ana pays it: curl -X POST ${control}/payments/${charge}/pay -H 'content-type: application/json' -d '{"value": 12750.00}'`]
        : []),
      `                Bruno's rent ${String(rent.id)}: its first invoice is issued; once paid, Carla's payout appears in GET /api/payouts`,
    ];
  } catch (err) {
    say(`${(err as Error).message}; the rest of the billing demo was skipped.`);
    return [];
  }
}

// What an admin pastes into Asaas's webhook settings (URL and token); the local sandbox is told directly.
async function connectSandbox(call: Call, asaas: FakeAsaas): Promise<void> {
  const r = await call('PUT', '/api/billing/gateway', { apiKey: DEMO_BILLING.gatewayApiKey, environment: 'sandbox', webhookToken: DEMO_BILLING.gatewayWebhookToken });
  if (r.status >= 300) throw new Error(`demo billing: gateway account failed (HTTP ${r.status}): ${JSON.stringify(r.body)}`);
  asaas.setWebhook(DEMO_BILLING.gatewayApiKey, { url: String(r.body.webhookUrl), token: DEMO_BILLING.gatewayWebhookToken });
}

async function waitForCharge(call: Call, invoiceId: string): Promise<string | null> {
  for (let i = 0; i < 30; i++) {
    const r = await call('GET', `/api/invoices/${invoiceId}`);
    const charge = r.body.charge as { externalId?: string } | null | undefined;
    if (charge?.externalId) return charge.externalId;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}
