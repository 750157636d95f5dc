// Round robin among a tenant's sales users (Pipedrive's and HubSpot's "rotate leads"): the next
// user after the last one given a lead, in a stable order, skipping the inactive and those at
// their capacity of open leads. Nobody eligible: no owner (the lead waits on the board).

export interface OwnerCandidate {
  userId: string;
  active: boolean;
  openLeads: number;
  capacity: number;
}

// `candidates` in the stable order the rotation follows (creation order, then id).
export function pickOwner(candidates: readonly OwnerCandidate[], lastUserId: string | null): string | null {
  if (candidates.length === 0) return null;
  const last = lastUserId ? candidates.findIndex((c) => c.userId === lastUserId) : -1;
  // A last user no longer among the candidates (removed, role changed) restarts at the top.
  for (let i = 1; i <= candidates.length; i++) {
    const c = candidates[(last + i + candidates.length) % candidates.length] as OwnerCandidate;
    if (c.active && c.openLeads < c.capacity) return c.userId;
  }
  return null;
}
