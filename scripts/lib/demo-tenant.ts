import type { Knex } from 'knex';
import { Tenant } from '../../db/models';
import { withPlatform } from '../../db/tenant-scope';

export interface DemoSettings {
  platformAdmin: { email: string; password: string };
  tenant: { slug: string; name: string; adminName: string; adminEmail: string; adminPassword: string };
}

export function demoSettings(env: NodeJS.ProcessEnv): DemoSettings {
  return {
    platformAdmin: {
      email: env.PLATFORM_ADMIN_EMAIL ?? 'plataforma@orquestra.local',
      password: env.PLATFORM_ADMIN_PASSWORD ?? 'orquestra-plataforma',
    },
    tenant: {
      slug: env.DEMO_TENANT_SLUG ?? 'pousada-demo',
      name: env.DEMO_TENANT_NAME ?? 'Pousada Demonstração',
      adminName: 'Administradora Demo',
      adminEmail: env.DEMO_ADMIN_EMAIL ?? 'admin@pousada-demo.com.br',
      adminPassword: env.DEMO_ADMIN_PASSWORD ?? 'orquestra-demo',
    },
  };
}

// The demo tenant goes through the same door as any other: the API and the provisioning workflow.
export async function ensureDemoTenant(knex: Knex, apiUrl: string, demo: DemoSettings, say: (m: string) => void): Promise<void> {
  const existing = await withPlatform(knex, async (trx) => {
    const t = await Tenant.query(trx).whereNot('status', 'failed').findOne({ slug: demo.tenant.slug });
    return t;
  });
  if (existing) return;
  const login = await post(`${apiUrl}/api/auth/login`, { email: demo.platformAdmin.email, password: demo.platformAdmin.password });
  if (login.status !== 200) throw new Error(`could not log in as the platform admin: ${JSON.stringify(login.body)}`);
  const created = await post(
    `${apiUrl}/api/tenants`,
    {
      name: demo.tenant.name,
      slug: demo.tenant.slug,
      admin: { name: demo.tenant.adminName, email: demo.tenant.adminEmail, password: demo.tenant.adminPassword },
    },
    login.body.accessToken,
  );
  if (created.status !== 202) throw new Error(`demo tenant was not accepted: ${JSON.stringify(created.body)}`);
  say(`Provisioning the demo tenant (workflow ${created.body.workflowId})...`);
  for (let i = 0; i < 120; i++) {
    const status = await fetch(`${apiUrl}${created.body.statusUrl}`, { headers: { authorization: `Bearer ${login.body.accessToken}` } });
    const body = (await status.json()) as { workflowStatus?: string; progress?: { failure?: string } };
    if (body.workflowStatus === 'COMPLETED') return;
    if (body.workflowStatus && body.workflowStatus !== 'RUNNING') throw new Error(`demo provisioning ended ${body.workflowStatus}: ${body.progress?.failure}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('demo provisioning did not finish within a minute');
}

async function post(url: string, body: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
