// Who acted. Carried from the request into workflows so that what an activity changes on a
// person's or an automation's behalf is recorded under them.
export interface Actor {
  type: 'user' | 'api_key' | 'system';
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };
