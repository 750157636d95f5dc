import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';

// The bare pipeline of bench:webhook: what one guest message costs Temporal alone. The same server
// round trips as a conversation's message (signal-with-start, a workflow task that runs one local
// activity, one activity, the idle timer restarted), no database, no AI, no codec. Bundled by the
// bench only; no product worker runs it.

export interface BareMessage {
  id: string;
}

export interface BarePipelineActivities {
  bareRecord(m: BareMessage): Promise<void>;
  bareSend(m: BareMessage): Promise<void>;
}

export const bareMessageSignal = defineSignal<[BareMessage]>('message');

const record = proxyLocalActivities<BarePipelineActivities>({ startToCloseTimeout: '10 seconds' });
const send = proxyActivities<BarePipelineActivities>({ startToCloseTimeout: '10 seconds' });

export async function benchBarePipeline(): Promise<void> {
  const inbox: BareMessage[] = [];
  setHandler(bareMessageSignal, (m) => {
    inbox.push(m);
  });
  for (;;) {
    if (!(await condition(() => inbox.length > 0, '10 minutes'))) return;
    const m = inbox.shift() as BareMessage;
    await record.bareRecord(m);
    await send.bareSend(m);
  }
}
