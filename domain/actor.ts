// Who acted. Carried from the request into workflows so that what an activity changes on a
// person's or an automation's behalf is recorded under them; the audit log's CHECK reads the list.
export const ACTOR_TYPES = ['user', 'api_key', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };
