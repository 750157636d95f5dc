import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ensurePlatformAdmin } from '../../db/platform-admin';
import { newTotpSecret, totpCode, TOTP_PERIOD_MS } from '../../infra/totp';
import { provisioningWorkflowId } from '../../workflows/provisioning';
import type { FakeNumber } from '../../scripts/sandbox/graph-api';
import type { TestStack } from './stack';

export const uid = () => randomBytes(5).toString('hex');

type Session = { accessToken: string; refreshToken: string; user: { id: string; tenantId: string | null } };

// Logs in, answering the TOTP challenge when the account has one (SUPER_ADMIN always does).
export async function login(stack: TestStack, email: string, password: string, opts: { totpSecret?: string } = {}): Promise<Session> {
  const res = await stack.api.post('/api/auth/login', { body: { email, password } });
  assert.equal(res.status, 200, `login of ${email} failed: ${JSON.stringify(res.body)}`);
  if (!res.body.mfaRequired) return res.body as Session;
  assert.ok(opts.totpSecret && !res.body.enrolmentRequired, `login of ${email} asks for a TOTP code: pass its secret (${JSON.stringify(res.body)})`);
  return loginMfa(stack, res.body.challengeToken, opts.totpSecret);
}

// The second step: a code is good once, so when this step's code was spent by an earlier login of
// the same account, the next step's (which the server's window accepts) is given instead.
export async function loginMfa(stack: TestStack, challengeToken: string, totpSecret: string): Promise<Session & { recoveryCodes?: string[] }> {
  let res = await stack.api.post('/api/auth/login/mfa', { body: { challengeToken, code: totpCode(totpSecret) } });
  if (res.status === 401) res = await stack.api.post('/api/auth/login/mfa', { body: { challengeToken, code: totpCode(totpSecret, Date.now() + TOTP_PERIOD_MS) } });
  assert.equal(res.status, 200, `the TOTP step failed: ${JSON.stringify(res.body)}`);
  return res.body;
}

// A fresh platform admin, created as npm start creates the first one: with a TOTP secret.
export async function superAdmin(stack: TestStack) {
  const email = `root-${uid()}@orquestra.test`;
  const password = `senha-forte-${uid()}`;
  const totpSecret = newTotpSecret();
  const id = await ensurePlatformAdmin(stack.deps.knex, { email, password, totpSecret }, stack.deps.secrets);
  const tokens = await login(stack, email, password, { totpSecret });
  return { id, email, password, totpSecret, token: tokens.accessToken };
}

export interface TenantFixture {
  tenantId: string;
  slug: string;
  workflowId: string;
  admin: { id: string; email: string; password: string; token: string; refreshToken: string };
}

export interface TenantBody {
  name: string;
  slug: string;
  admin: { name: string; email: string; password: string };
  [extra: string]: any;
}

export function tenantBody(overrides: Record<string, unknown> = {}): TenantBody {
  const slug = `hotel-${uid()}`;
  return {
    name: `Pousada ${slug}`,
    slug,
    admin: { name: 'Maria Administradora', email: `admin-${slug}@example.com.br`, password: `senha-${uid()}-ok` },
    ...overrides,
  };
}

export function whatsappNumber(stack: TestStack, overrides: Partial<FakeNumber> = {}): FakeNumber {
  const n = String(100000000000000 + Math.floor(Math.random() * 1e14));
  return stack.graph.addNumber({
    phoneNumberId: n,
    wabaId: `2${n.slice(1)}`,
    accessToken: `EAAG${uid()}${uid()}`,
    displayPhoneNumber: '+55 11 99999-0001',
    verifiedName: 'Pousada Teste',
    ...overrides,
  });
}

// Provisions through the API and waits for the workflow to finish.
export async function provisionTenant(stack: TestStack, superToken: string, overrides: Record<string, unknown> = {}): Promise<TenantFixture> {
  const body = tenantBody(overrides);
  const res = await stack.api.post('/api/tenants', { token: superToken, body });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  await stack.deps.temporal.client.workflow.getHandle(res.body.workflowId).result();
  const tokens = await login(stack, body.admin.email, body.admin.password);
  return {
    tenantId: res.body.tenantId,
    slug: body.slug,
    workflowId: provisioningWorkflowId(res.body.tenantId),
    admin: { id: tokens.user.id, email: body.admin.email, password: body.admin.password, token: tokens.accessToken, refreshToken: tokens.refreshToken },
  };
}

// A user of the tenant with the given role, created through the API by the tenant's admin.
export async function addUser(stack: TestStack, t: TenantFixture, role: string) {
  const email = `${role.toLowerCase()}-${uid()}@example.com.br`;
  const password = `senha-${uid()}-ok`;
  const res = await stack.api.post('/api/users', { token: t.admin.token, body: { name: `Pessoa ${role}`, email, role, password } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const tokens = await login(stack, email, password);
  return { id: res.body.id as string, email, password, token: tokens.accessToken, refreshToken: tokens.refreshToken };
}

export async function addApiKey(stack: TestStack, t: TenantFixture, scopes: string[]) {
  const res = await stack.api.post('/api/api-keys', { token: t.admin.token, body: { name: `n8n ${uid()}`, scopes } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id as string, key: res.body.key as string };
}
