import { automationActivities } from './automation-events';
import { channelActivities } from './channels';
import { conversationActivities } from './conversations';
import type { ActivityDeps } from './deps';
import { mediaActivities } from './media';
import { messagingActivities } from './messaging';
import { withPermanentFailures } from './permanent-failures';
import { tenantActivities } from './tenants';
import { triageActivities } from './triage';
import { userActivities } from './users';
import { whatsappActivities } from './whatsapp';

export type { ActivityDeps } from './deps';

// Errors no retry can fix fail at the first attempt, for every activity (see permanent-failures.ts).
export function createActivities(deps: ActivityDeps) {
  return withPermanentFailures(deps.knex, {
    ...tenantActivities(deps),
    ...userActivities(deps),
    ...channelActivities(deps),
    ...whatsappActivities(deps),
    ...conversationActivities(deps),
    ...messagingActivities(deps),
    ...mediaActivities(deps),
    ...triageActivities(deps),
    ...automationActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
