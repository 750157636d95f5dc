import { channelActivities } from './channels';
import type { ActivityDeps } from './deps';
import { tenantActivities } from './tenants';
import { userActivities } from './users';
import { whatsappActivities } from './whatsapp';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...tenantActivities(deps),
    ...userActivities(deps),
    ...channelActivities(deps),
    ...whatsappActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
