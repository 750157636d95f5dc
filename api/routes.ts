import { apiKeyRoutes } from './api-keys/routes';
import { appointmentRoutes } from './appointments/routes';
import { assistantRoutes } from './assistant/routes';
import { auditRoutes } from './audit/routes';
import { automationRoutes } from './automations/routes';
import { billingGatewayRoutes } from './billing-gateway/routes';
import { billingReportRoutes } from './billing-reports/routes';
import { catalogRoutes } from './catalog/routes';
import { collectionRoutes } from './collections/routes';
import { contactRoutes } from './contacts/routes';
import { authRoutes } from './auth/routes';
import { mfaRoutes } from './auth/mfa-routes';
import { contractTemplateRoutes } from './contract-templates/routes';
import { contractRoutes } from './contracts/routes';
import { consortiumRoutes } from './consortium/routes';
import { conversationRoutes } from './conversations/routes';
import { dataSubjectRequestRoutes } from './data-subject-requests/routes';
import { dunningRoutes } from './dunning/routes';
import { invoiceRoutes } from './invoices/routes';
import { leadFormRoutes } from './lead-forms/routes';
import { leadRoutes } from './leads/routes';
import { cadenceRoutes } from './cadences/routes';
import { nurturingRoutes } from './nurturing/routes';
import { paymentRoutes } from './payments/routes';
import { payoutRoutes } from './payouts/routes';
import { proposalRoutes } from './proposals/routes';
import { publicSigningRoutes } from './public-signing/routes';
import type { RouteDefinition } from './route';
import { settingsRoutes } from './settings/routes';
import { subscriptionRoutes } from './subscriptions/routes';
import { taskRoutes } from './tasks/routes';
import { tenantRoutes } from './tenants/routes';
import { userRoutes } from './users/routes';
import { whatsappRoutes } from './whatsapp/routes';

export const API_PREFIX = '/api';

// Every /api route. Tests walk this list, so a new route is checked for validation and
// cross-tenant isolation without anyone remembering to add it.
export const apiRoutes: RouteDefinition[] = [
  ...authRoutes,
  ...mfaRoutes,
  ...tenantRoutes,
  ...userRoutes,
  ...apiKeyRoutes,
  ...settingsRoutes,
  ...auditRoutes,
  ...conversationRoutes,
  ...automationRoutes,
  ...assistantRoutes,
  ...whatsappRoutes,
  ...catalogRoutes,
  ...contactRoutes,
  ...leadRoutes,
  ...leadFormRoutes,
  ...cadenceRoutes,
  ...nurturingRoutes,
  ...taskRoutes,
  ...appointmentRoutes,
  ...proposalRoutes,
  ...contractTemplateRoutes,
  ...contractRoutes,
  ...publicSigningRoutes,
  ...billingGatewayRoutes,
  ...paymentRoutes,
  ...dunningRoutes,
  ...collectionRoutes,
  // Billing (issue 9): recurring billing, invoices, reports and owner payouts.
  ...subscriptionRoutes,
  ...invoiceRoutes,
  ...billingReportRoutes,
  ...payoutRoutes,
  // Consortium (issue 10): groups, quotas and the monthly assemblies.
  ...consortiumRoutes,
  // LGPD data-subject requests (issue 11).
  ...dataSubjectRequestRoutes,
];
