import { condition, setHandler } from '@temporalio/workflow';
import { contactRepliedSignal, leadStageChangedSignal, optedOutSignal, type NurturingInput } from './definitions';

// Placeholder until the nurturing process lands (same branch of work): an enrolment that ends when
// the contact replies, opts out or the lead closes.
export async function leadNurturing(_input: NurturingInput): Promise<void> {
  let stopped = false;
  setHandler(contactRepliedSignal, () => void (stopped = true));
  setHandler(optedOutSignal, () => void (stopped = true));
  setHandler(leadStageChangedSignal, ({ stage }) => void (stopped = stage === 'won' || stage === 'lost' || stopped));
  await condition(() => stopped);
}
