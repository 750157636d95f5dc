import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, patched, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { signersOnTurn, signingProgress, type SignerTurn } from '../../domain/contract-signing';
import {
  cancelContractUpdate,
  CONTRACT_ERRORS,
  contractSigningStateQuery,
  signerDeclinedSignal,
  signerSignedSignal,
  signerViewedSignal,
  type CancelContractRequest,
  type ContractSigningInput,
  type ContractSigningView,
} from './definitions';

// A contract from its rendered original to its activation: each signer gets a tokenized link on
// their turn (sequential or parallel), unsigned signers are reminded, the deadline expires it, one
// decline or a staff cancel ends it; when everyone has signed it is sealed (evidence page + the
// platform's signature), the lead is won and billing is handed the contract. Active, it waits for
// a cancel, which compensates billing.

const db = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Rendering and sealing are CPU work of a second or two; sends wait on the conversation's pacing.
const work = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

// The hand-off point the billing process plugs into: retried until billing takes the contract.
const billing = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const DAY_MS = 24 * 3600 * 1000;
const ACTIVE_WAIT_MS = 180 * DAY_MS;

export async function contractSigning(input: ContractSigningInput): Promise<ContractSigningView> {
  const { tenantId, contractId } = input;
  const view: ContractSigningView = {
    contractId,
    phase: input.phase === 'active' ? 'active' : 'preparing',
    status: input.phase === 'active' ? 'active' : 'draft',
    signingOrder: null,
    signers: [],
    nextReminderAt: null,
    expiresAt: null,
    endReason: null,
  };
  let woken = false;
  let cancel: CancelContractRequest | null = null;
  const wake = () => {
    woken = true;
  };
  setHandler(signerViewedSignal, wake);
  setHandler(signerSignedSignal, wake);
  setHandler(signerDeclinedSignal, wake);
  setHandler(contractSigningStateQuery, () => view);
  setHandler(
    cancelContractUpdate,
    async (req) => {
      cancel = req;
      await condition(() => view.phase === 'ended');
      return view;
    },
    {
      validator: (_req: CancelContractRequest) => {
        if (view.phase === 'ended') throw ApplicationFailure.create({ type: CONTRACT_ERRORS.ended, message: 'O contrato já foi encerrado.', nonRetryable: true });
        if (cancel) throw ApplicationFailure.create({ type: CONTRACT_ERRORS.busy, message: 'O cancelamento já está em andamento.', nonRetryable: true });
        if (view.phase === 'sealing' || view.phase === 'activating') {
          throw ApplicationFailure.create({ type: CONTRACT_ERRORS.busy, message: 'O contrato está sendo finalizado; tente cancelar em instantes.', nonRetryable: true });
        }
      },
    },
  );

  // The cancel update answers once the contract is ended; the workflow returns after it did.
  const end = async (status: ContractSigningView['status'], reason: string) => {
    view.status = status;
    view.endReason = reason;
    view.phase = 'ended';
    await condition(allHandlersFinished);
    return view;
  };

  if (input.phase !== 'active') {
    const prepared = await work.prepareContractSigning({ tenantId, contractId, expiresInMs: input.options?.expiresInMs });
    view.signingOrder = prepared.signingOrder;
    view.expiresAt = prepared.expiresAt;
    if (prepared.status !== 'signing') {
      // Already past signing (a retried start after the end): nothing left to drive.
      return end(prepared.status, 'already_ended');
    }
    view.status = 'signing';
    view.phase = 'signing';
    const reminderEveryMs = input.options?.reminderEveryMs ?? prepared.reminderEveryDays * DAY_MS;
    const expiresAt = Date.parse(prepared.expiresAt);
    const notifiedAt = new Map<string, number>(Object.entries(input.resume?.notifiedAt ?? {}));
    let sent = input.resume?.sent ?? false;
    let signers: SignerTurn[] = prepared.signers;

    const sync = (list: SignerTurn[]) => {
      signers = list;
      view.signers = list.map((s) => ({
        signerId: s.id,
        position: s.position,
        status: s.status,
        notified: notifiedAt.has(s.id) || s.status !== 'waiting',
        reminders: view.signers.find((v) => v.signerId === s.id)?.reminders ?? input.resume?.reminders[s.id] ?? 0,
      }));
    };
    sync(signers);

    for (;;) {
      const progress = signingProgress(signers);
      if (progress === 'declined') {
        await work.endContract({ tenantId, contractId, outcome: 'declined', reason: null, actor: null });
        return end('declined', 'declined');
      }
      if (progress === 'all_signed') break;
      if (cancel) {
        const req: CancelContractRequest = cancel;
        await work.endContract({ tenantId, contractId, outcome: 'cancelled', reason: req.reason ?? null, actor: req.actor });
        return end('cancelled', 'cancelled');
      }
      if (Date.now() >= expiresAt) {
        await work.expireContract({ tenantId, contractId });
        return end('expired', 'expired');
      }
      // Bounded history: a long signing (many reminders, views) starts over with what it knows.
      const maxEvents = input.options?.maxHistoryEvents;
      if (cancel === null && (workflowInfo().continueAsNewSuggested || (maxEvents !== undefined && workflowInfo().historyLength > maxEvents))) {
        await continueAsNew<typeof contractSigning>({
          ...input,
          phase: 'signing',
          resume: { sent, notifiedAt: Object.fromEntries(notifiedAt), reminders: Object.fromEntries(view.signers.map((v) => [v.signerId, v.reminders])) },
        });
      }
      // Whoever's turn it is and has not had a link yet gets one now.
      for (const s of signersOnTurn(view.signingOrder ?? 'sequential', signers)) {
        if (notifiedAt.has(s.id)) continue;
        await work.notifySigner({ tenantId, contractId, signerId: s.id, publicBaseUrl: input.publicBaseUrl, kind: 'link', round: 0 });
        notifiedAt.set(s.id, Date.now());
        signers = signers.map((x) => (x.id === s.id && x.status === 'waiting' ? { ...x, status: 'notified' } : x));
        if (!sent) {
          await db.recordContractSent({ tenantId, contractId });
          sent = true;
        }
      }
      sync(signers);
      // Reminders for notified, unsigned signers, each on its own clock.
      const now = Date.now();
      for (const s of signersOnTurn(view.signingOrder ?? 'sequential', signers)) {
        const since = notifiedAt.get(s.id);
        const v = view.signers.find((x) => x.signerId === s.id);
        if (since === undefined || !v) continue;
        if (now - since >= reminderEveryMs) {
          v.reminders += 1;
          await work.notifySigner({ tenantId, contractId, signerId: s.id, publicBaseUrl: input.publicBaseUrl, kind: 'reminder', round: v.reminders });
          notifiedAt.set(s.id, Date.now());
        }
      }
      const nextReminder = Math.min(
        ...signersOnTurn(view.signingOrder ?? 'sequential', signers).map((s) => (notifiedAt.get(s.id) ?? Date.now()) + reminderEveryMs),
      );
      view.nextReminderAt = Number.isFinite(nextReminder) ? new Date(nextReminder).toISOString() : null;
      const wait = Math.max(1, Math.min(nextReminder, expiresAt) - Date.now());
      // A signer's signal can arrive while the steps above run (a decline right after the link
      // went out): it is cleared only once it has led to a read, or it would sleep until the
      // next reminder. Runs from before this change clear it before the wait, as they did.
      const keepsEarlyWake = patched('signing-keeps-early-wake');
      if (!keepsEarlyWake) woken = false;
      await condition(() => woken || cancel !== null, wait);
      if (keepsEarlyWake) woken = false;
      // The database is the record (the public endpoints wrote it).
      sync(await db.readContractSigners({ tenantId, contractId }));
    }

    // Everyone signed: seal, win the lead, hand off to billing, activate.
    view.phase = 'sealing';
    view.nextReminderAt = null;
    await work.sealContract({ tenantId, contractId });
    view.status = 'signed';
    await db.markContractLeadWon({ tenantId, contractId });
    view.phase = 'activating';
    await billing.startContractBilling({ tenantId, contractId });
    await db.activateContract({ tenantId, contractId });
    view.status = 'active';
    view.phase = 'active';
  }

  // Active: only a cancel changes anything now, and it undoes what billing created.
  const activeWaitMs = input.options?.activeWaitMs ?? ACTIVE_WAIT_MS;
  const cancelled = await condition(() => cancel !== null, activeWaitMs);
  // Bounded history: a long quiet stretch starts over with only the wait.
  if (!cancelled) await continueAsNew<typeof contractSigning>({ ...input, phase: 'active' });
  const req = cancel as unknown as CancelContractRequest;
  await billing.cancelContractBilling({ tenantId, contractId });
  await work.endContract({ tenantId, contractId, outcome: 'cancelled', reason: req.reason ?? null, actor: req.actor });
  return end('cancelled', 'cancelled');
}
