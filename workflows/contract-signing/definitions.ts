import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { ContractStatus, SignerStatus, SigningOrder } from '../../domain/sales-statuses';

export const contractWorkflowId = (tenantId: string, contractId: string) => `contract:${tenantId}:${contractId}`;

export interface ContractSigningOptions {
  // Tests: shorter than the tenant's settings.sales.signing (days).
  reminderEveryMs?: number;
  expiresInMs?: number;
  // After activation the workflow waits this long for a cancel, then continues as new.
  activeWaitMs?: number;
  // Tests: continue as new past this many history events (the server's suggestion otherwise).
  maxHistoryEvents?: number;
}

// What a signing run hands the next one when it continues as new.
export interface SigningResume {
  sent: boolean;
  notifiedAt: Record<string, number>; // signer id → ms
  reminders: Record<string, number>;
}

export interface ContractSigningInput {
  tenantId: string;
  contractId: string;
  // Where signing links point (PUBLIC_BASE_URL at start time).
  publicBaseUrl: string;
  // 'active': continued as new after activation, only waiting for a cancel.
  phase?: 'signing' | 'active';
  resume?: SigningResume;
  options?: ContractSigningOptions;
}

export interface SignerProgress {
  signerId: string;
  position: number;
  status: SignerStatus;
  notified: boolean;
  reminders: number;
}

export type ContractSigningPhase = 'preparing' | 'signing' | 'sealing' | 'activating' | 'active' | 'ended';

export interface ContractSigningView {
  contractId: string;
  phase: ContractSigningPhase;
  status: ContractStatus;
  signingOrder: SigningOrder | null;
  signers: SignerProgress[];
  nextReminderAt: string | null;
  expiresAt: string | null;
  endReason: string | null;
}

// The public endpoints record the evidence in the database first, then tell the workflow; the
// workflow re-reads the signers, so a signal is a wake-up, never the only copy of what happened.
export interface SignerSignal {
  signerId: string;
  at: string;
}
export const signerViewedSignal = defineSignal<[SignerSignal]>('signerViewed');
export const signerSignedSignal = defineSignal<[SignerSignal]>('signerSigned');
export const signerDeclinedSignal = defineSignal<[SignerSignal]>('signerDeclined');

export interface CancelContractRequest {
  actor: Actor;
  reason?: string;
}
export const cancelContractUpdate = defineUpdate<ContractSigningView, [CancelContractRequest]>('cancel');
export const contractSigningStateQuery = defineQuery<ContractSigningView>('contractSigningState');

export const CONTRACT_ERRORS = {
  ended: 'ContractSigningEnded',
  busy: 'ContractSigningBusy',
} as const;
