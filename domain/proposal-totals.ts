// A proposal's amounts, in integer centavos. A discount never takes a line, or the proposal,
// below zero: what it cannot take off is not applied (and the applied amount is what is stored).

export interface ProposalItemInput {
  description: string;
  quantity: number; // whole units
  unitPriceCents: number;
  discountCents: number;
}

export interface ProposalLine extends ProposalItemInput {
  totalCents: number;
}

export interface ProposalTotals {
  items: ProposalLine[];
  subtotalCents: number;
  // The proposal-level discount as applied (at most the subtotal).
  discountCents: number;
  totalCents: number;
}

const assertCents = (name: string, v: number) => {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer number of centavos`);
};

export function proposalTotals<T extends ProposalItemInput>(items: readonly T[], proposalDiscountCents: number): Omit<ProposalTotals, 'items'> & { items: (T & { totalCents: number })[] } {
  assertCents('discountCents', proposalDiscountCents);
  const lines = items.map((item) => {
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1) throw new RangeError('quantity must be a positive integer');
    assertCents('unitPriceCents', item.unitPriceCents);
    assertCents('item discountCents', item.discountCents);
    const gross = item.quantity * item.unitPriceCents;
    return { ...item, discountCents: Math.min(item.discountCents, gross), totalCents: Math.max(0, gross - item.discountCents) };
  });
  const subtotalCents = lines.reduce((sum, l) => sum + l.totalCents, 0);
  const discountCents = Math.min(proposalDiscountCents, subtotalCents);
  return { items: lines, subtotalCents, discountCents, totalCents: subtotalCents - discountCents };
}
