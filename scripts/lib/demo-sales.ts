import { addBusinessDays, localParts, zonedTimeToUtc } from '../../domain/calendar';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import type { DemoSettings } from './demo-tenant';

// The sales funnel on the demo tenant, entered through the API as its staff would: a seller, an
// offering (the pousada's wedding venue), a contact with marketing consent, her lead (nurtured by
// the default cadence), a visit to the venue on the next business day, a contract template and a
// proposal sent to her over WhatsApp. Only into a tenant without leads, so what a newcomer changed
// survives restarts. Returns what the banner should say.

export const DEMO_SALES = {
  seller: { name: 'Vendedora Demo', email: 'vendas@pousada-demo.com.br', password: 'orquestra-vendas' },
  // The same guest `npm run demo:guest` plays.
  contact: { waId: '5511999990000', name: 'Ana' },
};

const DEMO_CONTRACT_TEMPLATE = {
  name: 'Contrato de evento',
  title: 'Contrato de prestação de serviços — evento',
  isDefault: true,
  body: [
    'Pelo presente instrumento, {{tenant.name}} e {{contact.name}} contratam o evento descrito abaixo.',
    'Itens contratados:\n{{proposal.items}}',
    'Valor total: {{contract.total}}, conforme a proposta nº {{proposal.number}}.',
    'As partes assinam eletronicamente, nos termos da MP 2.200-2/2001, art. 10, § 2º, em {{date}}.',
  ].join('\n\n'),
};

// What the seeding reads of the API's answers.
interface Answer {
  id: string;
  number: number;
  accessToken: string;
  items: { id: string; email: string }[];
}
interface Reply {
  status: number;
  body: Answer;
}
type Call = (method: string, path: string, body?: unknown) => Promise<Reply>;

export async function seedDemoSales(apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<string[]> {
  const login = await request(apiUrl, 'POST', '/api/auth/login', undefined, { email: demo.tenant.adminEmail, password: demo.tenant.adminPassword });
  if (login.status !== 200) return [];
  const call: Call = (method, path, body) => request(apiUrl, method, path, login.body.accessToken, body);
  const leads = await call('GET', '/api/leads?limit=1');
  if (leads.status !== 200 || leads.body.items.length > 0) return [];

  const must = async (what: string, res: Promise<Reply>) => {
    const r = await res;
    if (r.status >= 300) throw new Error(`demo sales: ${what} failed (HTTP ${r.status}): ${JSON.stringify(r.body)}`);
    return r.body;
  };
  try {
    const users = await call('GET', '/api/users?limit=100');
    const seller =
      users.body.items?.find((u) => u.email === DEMO_SALES.seller.email) ??
      (await must('seller', call('POST', '/api/users', { ...DEMO_SALES.seller, role: 'SALES' })));
    const offering = await must(
      'offering',
      call('POST', '/api/offerings', {
        kind: 'service',
        title: 'Casamento no jardim',
        description: 'Cerimônia e recepção para até 80 convidados no jardim da pousada, com hospedagem dos noivos.',
        priceCents: 4_500_000,
        attributes: { durationMinutes: 8 * 60 },
      }),
    );
    const contact = await must('contact', call('POST', '/api/contacts', DEMO_SALES.contact));
    await must(
      'consent',
      call('POST', `/api/contacts/${contact.id}/consents`, {
        purpose: 'marketing', action: 'granted', channel: 'in_person', textVersion: 'marketing-v1', evidence: { note: 'autorizou na visita à recepção' },
      }),
    );
    const lead = await must(
      'lead',
      call('POST', '/api/leads', { contact: { id: contact.id }, offeringId: offering.id, interest: 'Casamento em maio de 2027, cerca de 80 convidados', source: 'website_form' }),
    );
    await call('PATCH', `/api/leads/${lead.id}`, { ownerId: seller.id });
    // 10:00 on the next business day, in the tenant's zone.
    const tz = DEFAULT_TENANT_SETTINGS.timeZone;
    const visitAt = addBusinessDays(DEFAULT_TENANT_SETTINGS, zonedTimeToUtc(localParts(Date.now(), tz).date, 10 * 60, tz), 1);
    await must(
      'visit',
      call('POST', `/api/leads/${lead.id}/appointments`, { kind: 'visit', startsAt: visitAt.toISOString(), durationMinutes: 60, ownerId: seller.id, offeringId: offering.id, location: 'Jardim da pousada' }),
    );
    await must('contract template', call('POST', '/api/contract-templates', DEMO_CONTRACT_TEMPLATE));
    const validUntil = localParts(Date.now() + 30 * 86_400_000, tz).date;
    const proposal = await must(
      'proposal',
      call('POST', `/api/leads/${lead.id}/proposals`, {
        items: [
          { offeringId: offering.id, description: 'Casamento no jardim — 80 convidados', quantity: 1, unitPriceCents: 4_500_000, discountCents: 0 },
          { description: 'Diária extra da suíte dos noivos', quantity: 2, unitPriceCents: 68_000, discountCents: 0 },
        ],
        discountCents: 250_000,
        validUntil,
        notes: 'Inclui decoração básica e coordenação no dia.',
      }),
    );
    await must('proposal send', call('POST', `/api/proposals/${proposal.id}/send`));
    say(`Seeded the sales demo: lead ${lead.id} (Ana), a visit on ${visitAt.toISOString()}, proposal nº ${proposal.number} sent over WhatsApp.`);
    return [
      `Sales demo    seller ${DEMO_SALES.seller.email} / ${DEMO_SALES.seller.password}; Ana's lead ${lead.id}`,
      '                the proposal link went to Ana: see the [sandbox] line; accepting it starts the signing',
      '                (curl -X POST <link>/accept), whose /sign/<token> link opens in a browser; the code arrives as [sandbox] too',
    ];
  } catch (err) {
    say(`${(err as Error).message}; the rest of the sales demo was skipped.`);
    return [];
  }
}

// Also the billing demo's: one way to call the API as staff.
export async function request(apiUrl: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the message
  }
  return { status: res.status, body: parsed as Answer };
}
