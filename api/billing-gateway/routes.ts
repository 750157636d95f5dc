import { randomUUID } from 'node:crypto';
import { GatewayAccount } from '../../db/models';
import { newSecret } from '../../infra/secret-tokens';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { gatewayView, putGatewayBody, putGatewayResponse } from './schema';

// The tenant's payment gateway account (Asaas). Its webhook URL carries the account id, so the
// webhook finds the tenant (and the token to check) before anything else is known.

export const webhookUrlOf = (deps: Pick<ApiDeps, 'config'>, accountId: string) =>
  `${deps.config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/webhooks/asaas/${accountId}`;

export const getGateway = route({
  method: 'get',
  path: '/billing/gateway',
  summary: 'The tenant’s payment gateway account: environment and webhook URL (no secrets)',
  tags: ['billing'],
  access: { roles: ['TENANT_ADMIN'] },
  responses: { 200: { description: 'The account, or configured: false', schema: gatewayView } },
  async handler({ db, deps, tenantId }) {
    const account = await GatewayAccount.query(db).findOne({ tenantId });
    return {
      body: account
        ? { configured: true, provider: 'asaas', environment: account.environment, webhookUrl: webhookUrlOf(deps, account.id), updatedAt: account.updatedAt.toISOString() }
        : { configured: false, provider: 'asaas', environment: null, webhookUrl: null, updatedAt: null },
    };
  },
});

export const putGateway = route({
  method: 'put',
  path: '/billing/gateway',
  summary: 'Connect (or rotate) the tenant’s Asaas account; answers the webhook URL and its token, once',
  tags: ['billing'],
  access: { roles: ['TENANT_ADMIN'] },
  body: putGatewayBody,
  responses: { 200: { description: 'Saved; the token is shown only now', schema: putGatewayResponse } },
  async handler({ body, db, deps, tenantId, audit }) {
    const existing = await GatewayAccount.query(db).findOne({ tenantId });
    const id = existing?.id ?? randomUUID();
    const webhookToken = body.webhookToken ?? newSecret();
    const sealed = {
      environment: body.environment,
      apiKeySealed: deps.secrets.seal(body.apiKey),
      webhookTokenSealed: deps.secrets.seal(webhookToken),
      updatedAt: new Date(),
    };
    if (existing) await GatewayAccount.query(db).patch(sealed).where({ id });
    else await GatewayAccount.query(db).insert({ id, tenantId, provider: 'asaas', ...sealed });
    await audit({ action: existing ? 'billing_gateway.updated' : 'billing_gateway.connected', entityType: 'billing_gateway_account', entityId: id, details: { environment: body.environment, tokenGenerated: !body.webhookToken } });
    return {
      body: { configured: true, provider: 'asaas', environment: body.environment, webhookUrl: webhookUrlOf(deps, id), updatedAt: sealed.updatedAt.toISOString(), webhookToken },
    };
  },
});

export const billingGatewayRoutes = [getGateway, putGateway];
