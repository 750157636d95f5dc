// What makes two arrivals of one contact the same lead: the offering when one is named, else the
// interest text as a person would read it ("Apartamento  Centro" and "apartamento centro" are
// one interest). The migration's unique partial index on (contact, interest_key) for open leads
// decides races.

export const MAX_INTEREST_LENGTH = 500;

export function normalizeInterest(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

export function interestKey({ offeringId, interest }: { offeringId?: string | null; interest?: string | null }): string {
  if (offeringId) return `offering:${offeringId.toLowerCase()}`;
  return `text:${normalizeInterest(interest ?? '')}`;
}
