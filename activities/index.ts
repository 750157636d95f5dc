import { appointmentActivities } from './appointments';
import { automationActivities } from './automation-events';
import { billingGatewayActivities } from './billing-gateway';
import { billingScheduleActivities } from './billing-schedules';
import { channelActivities } from './channels';
import { consortiumActivities } from './consortium';
import { contractActivities } from './contracts';
import { conversationActivities } from './conversations';
import type { ActivityDeps } from './deps';
import { dataSubjectRequestActivities } from './data-subject-requests';
import { dunningActivities } from './dunning';
import { leadNurturingActivities } from './lead-nurturing';
import { leadScoringActivities } from './lead-scoring';
import { mediaActivities } from './media';
import { messagingActivities } from './messaging';
import { withPermanentFailures } from './permanent-failures';
import { salesInboundActivities } from './sales-inbound';
import { tenantActivities } from './tenants';
import { triageActivities } from './triage';
import { userActivities } from './users';
import { whatsappActivities } from './whatsapp';

export type { ActivityDeps } from './deps';

// Errors no retry can fix fail at the first attempt, for every activity (see permanent-failures.ts).
export function createActivities(deps: ActivityDeps) {
  const factories = {
    tenants: tenantActivities(deps),
    users: userActivities(deps),
    channels: channelActivities(deps),
    whatsapp: whatsappActivities(deps),
    conversations: conversationActivities(deps),
    messaging: messagingActivities(deps),
    media: mediaActivities(deps),
    triage: triageActivities(deps),
    automations: automationActivities(deps),
    salesInbound: salesInboundActivities(deps),
    leadScoring: leadScoringActivities(deps),
    leadNurturing: leadNurturingActivities(deps),
    appointments: appointmentActivities(deps),
    contracts: contractActivities(deps),
    billingGateway: billingGatewayActivities(deps),
    dunning: dunningActivities(deps),
    billingSchedules: billingScheduleActivities(deps),
    consortium: consortiumActivities(deps),
    dataSubjectRequests: dataSubjectRequestActivities(deps),
  };
  assertDistinctActivityNames(factories);
  return withPermanentFailures(deps.knex, {
    // Replaced by name by the gateway's own activities once they are registered below.
    ...factories.tenants,
    ...factories.users,
    ...factories.channels,
    ...factories.whatsapp,
    ...factories.conversations,
    ...factories.messaging,
    ...factories.media,
    ...factories.triage,
    ...factories.automations,
    ...factories.salesInbound,
    ...factories.leadScoring,
    ...factories.leadNurturing,
    ...factories.appointments,
    ...factories.contracts,
    ...factories.billingGateway,
    ...factories.dunning,
    ...factories.billingSchedules,
    ...factories.consortium,
    ...factories.dataSubjectRequests,
  });
}

export type Activities = ReturnType<typeof createActivities>;

// The worker registers activities by name: two factories defining the same one would silently
// leave one of them unreachable, so the worker refuses to start instead.
export function assertDistinctActivityNames(factories: Record<string, object>): void {
  const owner = new Map<string, string>();
  for (const [factory, activities] of Object.entries(factories)) {
    for (const name of Object.keys(activities)) {
      const first = owner.get(name);
      if (first) throw new Error(`activity "${name}" is defined by both the ${first} and the ${factory} activities`);
      owner.set(name, factory);
    }
  }
}
