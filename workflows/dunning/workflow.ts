import { condition, setHandler } from '@temporalio/workflow';
import { dunningViewQuery, paymentRecordedSignal, type DunningInput, type DunningView } from './definitions';

// FOUNDATION SKELETON — replaced by the dunning workflow (helper B) before this lands.
export async function dunning(input: DunningInput): Promise<DunningView['stage']> {
  let woken = false;
  setHandler(paymentRecordedSignal, () => {
    woken = true;
  });
  setHandler(dunningViewQuery, () => ({
    invoiceId: input.invoiceId,
    stage: 'upcoming',
    invoiceStatus: 'open',
    nextAction: null,
    waitingFor: null,
    amountDueToday: { principalCents: 0, fineCents: 0, interestCents: 0, totalCents: 0, daysLate: 0 },
    today: '',
    promise: null,
    done: [],
  }));
  await condition(() => woken);
  return 'paid';
}
