import { z } from 'zod';
import { GATEWAY_ENVIRONMENTS } from '../../domain/billing-statuses';

// The tenant's Asaas account: its API key ($aact_…) and the token Asaas will send back in
// asaas-access-token. Both are sealed at rest; neither is ever shown again after the PUT.
export const putGatewayBody = z
  .object({
    apiKey: z.string().trim().min(16).max(500),
    environment: z.enum(GATEWAY_ENVIRONMENTS).default('sandbox'),
    // Asaas accepts 32–255 characters; without one, a random token is generated.
    webhookToken: z.string().min(32).max(255).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').optional(),
  })
  .strict();

export const gatewayView = z.object({
  configured: z.boolean(),
  provider: z.literal('asaas'),
  environment: z.enum(GATEWAY_ENVIRONMENTS).nullable(),
  webhookUrl: z.string().nullable(),
  updatedAt: z.string().nullable(),
});

export const putGatewayResponse = gatewayView.extend({
  // Shown once: paste it into Asaas's webhook settings ("Token de autenticação").
  webhookToken: z.string(),
});
