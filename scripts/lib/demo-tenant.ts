import { createHmac } from 'node:crypto';
import type { Knex } from 'knex';
import { Secret } from 'otpauth';
import { Tenant, WhatsAppChannel } from '../../db/models';
import { withPlatform, withTenant } from '../../db/tenant-scope';
import { totpCode, totpUri, TOTP_PERIOD_MS } from '../../infra/totp';

export interface DemoWhatsApp {
  phoneNumberId: string;
  wabaId: string;
  accessToken: string;
}

export interface DemoSettings {
  // SUPER_ADMIN always logs in with TOTP: the bootstrap enrols this secret.
  platformAdmin: { email: string; password: string; totpSecret?: string };
  tenant: { slug: string; name: string; adminName: string; adminEmail: string; adminPassword: string };
  // The number the demo tenant is provisioned with: the local Meta sandbox's, or DEMO_WHATSAPP_*.
  whatsapp?: DemoWhatsApp;
}

// The demo number on the local Meta sandbox (scripts/start.ts) that scripts/demo-guest.ts writes to.
export const SANDBOX_DEFAULTS = { port: 8787, phoneNumberId: '100000000000001', wabaId: '200000000000001' };

export function sandboxPort(env: NodeJS.ProcessEnv): number {
  return Number(env.WHATSAPP_SANDBOX_PORT || SANDBOX_DEFAULTS.port);
}

export function demoWhatsAppIds(env: NodeJS.ProcessEnv): { phoneNumberId: string; wabaId: string } {
  return {
    phoneNumberId: env.DEMO_WHATSAPP_PHONE_NUMBER_ID || SANDBOX_DEFAULTS.phoneNumberId,
    wabaId: env.DEMO_WHATSAPP_WABA_ID || SANDBOX_DEFAULTS.wabaId,
  };
}

export function demoSettings(env: NodeJS.ProcessEnv): DemoSettings {
  const { DEMO_WHATSAPP_PHONE_NUMBER_ID: phoneNumberId, DEMO_WHATSAPP_WABA_ID: wabaId, DEMO_WHATSAPP_TOKEN: accessToken } = env;
  return {
    platformAdmin: {
      email: env.PLATFORM_ADMIN_EMAIL ?? 'plataforma@orquestra.local',
      password: env.PLATFORM_ADMIN_PASSWORD ?? 'orquestra-plataforma',
      totpSecret: env.PLATFORM_ADMIN_TOTP_SECRET || derivedTotpSecret(env.JWT_SECRET),
    },
    tenant: {
      slug: env.DEMO_TENANT_SLUG ?? 'pousada-demo',
      name: env.DEMO_TENANT_NAME ?? 'Pousada Demonstração',
      adminName: 'Administradora Demo',
      adminEmail: env.DEMO_ADMIN_EMAIL ?? 'admin@pousada-demo.com.br',
      adminPassword: env.DEMO_ADMIN_PASSWORD ?? 'orquestra-demo',
    },
    ...(phoneNumberId && wabaId && accessToken ? { whatsapp: { phoneNumberId, wabaId, accessToken } } : {}),
  };
}

// Without PLATFORM_ADMIN_TOTP_SECRET, one of this installation's own, stable across restarts: derived
// from JWT_SECRET (whoever can compute it can mint access tokens anyway), so nothing new is stored.
function derivedTotpSecret(jwtSecret: string | undefined): string | undefined {
  if (!jwtSecret) return undefined;
  const bytes = createHmac('sha256', jwtSecret).update('orquestra platform admin TOTP').digest().subarray(0, 20);
  return new Secret({ buffer: new Uint8Array(bytes).buffer }).base32;
}

// How the banner tells the operator to log in as the platform admin.
export function platformAdminLines(demo: DemoSettings): string[] {
  const { email, password, totpSecret } = demo.platformAdmin;
  return [
    `Platform admin (SUPER_ADMIN)   ${email} / ${password}`,
    ...(totpSecret
      ? [
          `                TOTP secret ${totpSecret} (authenticator app: ${totpUri(totpSecret, email)})`,
          `                login answers {mfaRequired, challengeToken}; then POST /api/auth/login/mfa {"challengeToken", "code"}; a code now:`,
          `                node -e "const o=require('otpauth');console.log(o.TOTP.generate({secret:o.Secret.fromBase32('${totpSecret}')}))"`,
        ]
      : []),
  ];
}

// The platform admin's session: password, then (it always has one) the TOTP code. A code is good
// once, so if this step's code was just spent (a restart within 30 s), the next step's is given.
async function platformAdminToken(apiUrl: string, demo: DemoSettings): Promise<string> {
  const login = await post(`${apiUrl}/api/auth/login`, { email: demo.platformAdmin.email, password: demo.platformAdmin.password });
  if (login.status !== 200) throw new Error(`could not log in as the platform admin: ${JSON.stringify(login.body)}`);
  if (!login.body.mfaRequired) return login.body.accessToken as string;
  const secret = demo.platformAdmin.totpSecret;
  if (!secret || login.body.enrolmentRequired) throw new Error('the platform admin has no TOTP secret: set PLATFORM_ADMIN_TOTP_SECRET');
  let done = await post(`${apiUrl}/api/auth/login/mfa`, { challengeToken: login.body.challengeToken, code: totpCode(secret) });
  if (done.status === 401) done = await post(`${apiUrl}/api/auth/login/mfa`, { challengeToken: login.body.challengeToken, code: totpCode(secret, Date.now() + TOTP_PERIOD_MS) });
  if (done.status !== 200) throw new Error(`the platform admin's TOTP code was refused (is PLATFORM_ADMIN_TOTP_SECRET the one it enrolled?): ${JSON.stringify(done.body)}`);
  return done.body.accessToken as string;
}

// What the rule-based assistant answers from when there is no OPENAI_API_KEY.
export const DEMO_FAQ: { question: string; answer: string; keywords: string[] }[] = [
  {
    question: 'Qual o horário do café da manhã?',
    answer: 'O café da manhã está incluído na diária e é servido todos os dias das 7h às 10h, no salão principal.',
    keywords: ['café da manhã', 'café', 'desjejum'],
  },
  {
    question: 'Qual o horário de check-in e check-out?',
    answer: 'O check-in é a partir das 14h e o check-out até as 12h. Se precisar de outro horário, é só avisar que verificamos a disponibilidade.',
    keywords: ['check-in', 'check-out', 'horário de entrada', 'horário de saída'],
  },
  {
    question: 'Vocês têm estacionamento?',
    answer: 'Sim! Temos estacionamento gratuito e coberto para hóspedes, sem necessidade de reserva.',
    keywords: ['estacionamento', 'estacionar', 'garagem', 'carro'],
  },
  {
    question: 'Vocês aceitam pets?',
    answer: 'Sim, somos pet friendly! Aceitamos pets de pequeno e médio porte, sem custo adicional. É só nos avisar na reserva.',
    keywords: ['pet', 'pets', 'cachorro', 'cachorra', 'gato', 'gata', 'cão', 'animal', 'animais'],
  },
  {
    question: 'Tem wi-fi na pousada?',
    answer: 'Tem, sim: wi-fi gratuito em toda a pousada. A rede e a senha estão no cartão que entregamos no check-in.',
    keywords: ['wi-fi', 'wifi', 'internet'],
  },
];

// The demo tenant goes through the same door as any other: the API and the provisioning workflow.
// Returns the phone number id of its WhatsApp channel, if it has one.
export async function ensureDemoTenant(knex: Knex, apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<{ phoneNumberId: string | null }> {
  const existing = await withPlatform(knex, async (trx) => {
    const t = await Tenant.query(trx).whereNot('status', 'failed').findOne({ slug: demo.tenant.slug });
    return t;
  });
  if (!existing) await provision(apiUrl, demo, say);

  const tenant = existing ?? (await withPlatform(knex, async (trx) => Tenant.query(trx).whereNot('status', 'failed').findOne({ slug: demo.tenant.slug })));
  const channels = tenant ? await withTenant(knex, tenant.id, async (trx) => WhatsAppChannel.query(trx).select('phoneNumberId')) : [];
  const phoneNumberId = channels[0]?.phoneNumberId ?? null;
  if (existing && demo.whatsapp && !channels.some((c) => c.phoneNumberId === demo.whatsapp?.phoneNumberId)) {
    say(
      phoneNumberId
        ? `The demo tenant "${demo.tenant.slug}" is connected to WhatsApp number ${phoneNumberId}, not to the demo number ${demo.whatsapp.phoneNumberId}; leaving it as it is.`
        : `The demo tenant "${demo.tenant.slug}" was created by an older run without a WhatsApp number; leaving it as it is. ` +
            'To try WhatsApp locally, stop, remove .data/ and drop the database `orquestra`, then `npm start` again ' +
            '(or set DEMO_TENANT_SLUG and DEMO_ADMIN_EMAIL to provision a second demo tenant).',
    );
  }
  await seedFaq(apiUrl, demo, say);
  await seedCadence(apiUrl, demo, say);
  await seedPrivacyRequest(apiUrl, demo, say);
  return { phoneNumberId };
}

async function provision(apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<void> {
  const token = await platformAdminToken(apiUrl, demo);
  const created = await post(
    `${apiUrl}/api/tenants`,
    {
      name: demo.tenant.name,
      slug: demo.tenant.slug,
      admin: { name: demo.tenant.adminName, email: demo.tenant.adminEmail, password: demo.tenant.adminPassword },
      ...(demo.whatsapp ? { whatsapp: demo.whatsapp } : {}),
    },
    token,
  );
  if (created.status !== 202) throw new Error(`demo tenant was not accepted: ${JSON.stringify(created.body)}`);
  say(`Provisioning the demo tenant (workflow ${created.body.workflowId}${demo.whatsapp ? `, WhatsApp number ${demo.whatsapp.phoneNumberId}` : ''})...`);
  for (let i = 0; i < 120; i++) {
    const status = await fetch(`${apiUrl}${created.body.statusUrl}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await status.json()) as { workflowStatus?: string; progress?: { failure?: string } };
    if (body.workflowStatus === 'COMPLETED') return;
    if (body.workflowStatus && body.workflowStatus !== 'RUNNING') throw new Error(`demo provisioning ended ${body.workflowStatus}: ${body.progress?.failure}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('demo provisioning did not finish within a minute');
}

// A few answers for the assistant, as the tenant admin would enter them; only into an empty FAQ,
// so what an admin edited survives restarts.
async function seedFaq(apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<void> {
  const login = await post(`${apiUrl}/api/auth/login`, { email: demo.tenant.adminEmail, password: demo.tenant.adminPassword });
  if (login.status !== 200) {
    say(`Could not log in as the demo tenant admin to seed its FAQ (HTTP ${login.status}); skipped.`);
    return;
  }
  const headers = { authorization: `Bearer ${login.body.accessToken}`, 'content-type': 'application/json' };
  const current = await fetch(`${apiUrl}/api/assistant/faq`, { headers });
  const body = (await current.json()) as { items?: unknown[] };
  if (!current.ok || (body.items?.length ?? 0) > 0) return;
  const put = await fetch(`${apiUrl}/api/assistant/faq`, { method: 'PUT', headers, body: JSON.stringify({ items: DEMO_FAQ }) });
  if (!put.ok) {
    say(`Seeding the demo FAQ failed (HTTP ${put.status}): ${await put.text()}`);
    return;
  }
  say(`Seeded ${DEMO_FAQ.length} FAQ entries for the demo tenant (the assistant answers from them).`);
}

// The demo tenant's default cadence (a welcome, a call, a reminder), only when it has none, so new
// demo leads are nurtured and what an admin changed survives restarts.
export const DEMO_CADENCE = {
  name: 'Boas-vindas e acompanhamento',
  isDefault: true,
  steps: [
    { type: 'send_template', waitBusinessDays: 0, template: { name: 'boas_vindas_lead', language: 'pt_BR' }, category: 'marketing' },
    { type: 'call_task', waitBusinessDays: 1, title: 'Ligar para entender o que o cliente procura' },
    { type: 'send_template', waitBusinessDays: 2, template: { name: 'lembrete_interesse', language: 'pt_BR' }, category: 'marketing' },
  ],
};

async function seedCadence(apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<void> {
  const login = await post(`${apiUrl}/api/auth/login`, { email: demo.tenant.adminEmail, password: demo.tenant.adminPassword });
  if (login.status !== 200) return;
  const headers = { authorization: `Bearer ${login.body.accessToken}` };
  const current = await fetch(`${apiUrl}/api/cadences`, { headers });
  const body = (await current.json()) as { items?: unknown[] };
  if (!current.ok || (body.items?.length ?? 0) > 0) return;
  const created = await post(`${apiUrl}/api/cadences`, DEMO_CADENCE, login.body.accessToken);
  if (created.status !== 201) say(`Seeding the demo cadence failed (HTTP ${created.status}): ${JSON.stringify(created.body)}`);
  else say('Seeded the demo tenant’s default nurturing cadence.');
}

// An LGPD access request of a contact of its own (not Ana, whose data the other demos use), waiting
// for the identity check; only when the tenant has none, so a decided one is not asked again.
async function seedPrivacyRequest(apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<void> {
  const login = await post(`${apiUrl}/api/auth/login`, { email: demo.tenant.adminEmail, password: demo.tenant.adminPassword });
  if (login.status !== 200) return;
  const token = login.body.accessToken;
  const current = await fetch(`${apiUrl}/api/data-subject-requests?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await current.json()) as { items?: unknown[] };
  if (!current.ok || (body.items?.length ?? 0) > 0) return;
  const contact = await post(`${apiUrl}/api/contacts`, { waId: '5511955550000', name: 'Davi Titular', email: 'davi.titular@example.com.br' }, token);
  if (contact.status !== 201) return;
  const request = await post(`${apiUrl}/api/data-subject-requests`, { contactId: contact.body.id, kind: 'access' }, token);
  if (request.status !== 201) say(`Seeding the demo LGPD request failed (HTTP ${request.status}): ${JSON.stringify(request.body)}`);
  else say(`Seeded an LGPD access request (${request.body.protocol}); confirm it with POST /api/data-subject-requests/${request.body.id}/confirm-identity, then GET …/export.`);
}

async function post(url: string, body: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
