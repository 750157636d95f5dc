// A quota's monthly installment on the linear plan (Lei 11.795 art. 27; ABAC's example): the
// common fund's share of the credit, plus the administration fee and the reserve fund, each a
// percentage of the credit, spread over the term. R$ 30.000, 50 months, 15%, 2% → 600 + 90 + 12
// = R$ 702,00. Money in centavos; each part is rounded half-up on its own, the total is their sum.

export interface InstallmentParts {
  commonFundCents: number;
  adminFeeCents: number;
  reserveFundCents: number;
  totalCents: number;
}

// Percentages with up to 4 decimals, as integers of 1/10 000 of a percent.
const scaled = (p: number) => Math.round(p * 10_000);

function share(creditCents: number, percent: number, termMonths: number): number {
  // creditCents × percent / 100 / term, in integers so 17,5% of odd amounts rounds the same everywhere.
  const num = creditCents * scaled(percent);
  const den = 100 * 10_000 * termMonths;
  return Math.floor((2 * num + den) / (2 * den));
}

export function monthlyInstallment(creditCents: number, termMonths: number, adminFeePercent: number, reserveFundPercent: number): InstallmentParts {
  if (!Number.isInteger(creditCents) || creditCents <= 0) throw new RangeError('the credit is a positive amount of centavos');
  if (!Number.isInteger(termMonths) || termMonths <= 0) throw new RangeError('the term is a positive number of months');
  if (adminFeePercent < 0 || reserveFundPercent < 0) throw new RangeError('percentages are not negative');
  const commonFundCents = share(creditCents, 100, termMonths);
  const adminFeeCents = share(creditCents, adminFeePercent, termMonths);
  const reserveFundCents = share(creditCents, reserveFundPercent, termMonths);
  return { commonFundCents, adminFeeCents, reserveFundCents, totalCents: commonFundCents + adminFeeCents + reserveFundCents };
}

// A bid's amount: its share of the credit, in centavos (half-up).
export function bidAmountCents(creditCents: number, percent: number): number {
  return share(creditCents, percent, 1);
}
