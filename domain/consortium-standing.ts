import type { QuotaStatus } from './consortium-statuses';

// A quota's standing from its installments (Resolução BCB 285/2023 and the groups' contracts):
// up to date on a date when every installment due by then was paid by then; excluded after the
// group's number of consecutive missed due dates (at most 3), never once contemplated.

export interface InstallmentStanding {
  sequence: number;
  dueDate: string; // YYYY-MM-DD
  paidOn: string | null; // the tenant calendar day it was paid in full
  cancelled: boolean; // cancelled or replaced by a renegotiation: not owed as such
}

export function isUpToDate(installments: readonly InstallmentStanding[], asOf: string): boolean {
  return installments.every((i) => i.cancelled || i.dueDate > asOf || (i.paidOn !== null && i.paidOn <= asOf));
}

// Due dates passed (before asOf) without payment, counted back from the latest one.
export function consecutiveMissed(installments: readonly InstallmentStanding[], asOf: string): number {
  const past = installments.filter((i) => !i.cancelled && i.dueDate < asOf).sort((a, b) => b.sequence - a.sequence);
  let n = 0;
  for (const i of past) {
    if (i.paidOn !== null && i.paidOn <= asOf) break;
    n++;
  }
  return n;
}

export function shouldExclude(status: QuotaStatus, missed: number, limit: number): boolean {
  return status === 'active' && missed >= Math.min(limit, 3);
}
