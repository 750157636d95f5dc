import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { Actor } from '../domain/actor';
import { createRealtimeEmitter, type RealtimeEmitter } from '../infra/realtime-emitter';
import type { SecretBox } from '../infra/secret-box';
import type { OutboundGuard } from '../infra/guarded-fetch';
import type { AiConfig } from './ai';

// What activities need from the outside world, handed in by the worker (or a test).
export interface ActivityDeps {
  knex: Knex;
  secrets: SecretBox;
  whatsapp: { baseUrl: string; apiVersion: string; timeoutMs?: number; numberMessagesPerSecond?: number; perCustomerIntervalMs?: number };
  redis?: Redis | null;
  redisKeyPrefix?: string;
  realtime?: RealtimeEmitter;
  ai?: AiConfig;
  mediaDir?: string;
  // Where WhatsApp media may be downloaded from (https hosts, besides whatsapp.baseUrl's origin) and its size cap.
  media?: { hosts: readonly string[]; maxBytes: number };
  // Every call to a URL a tenant chose goes through it (infra/guarded-fetch.ts); absent: nothing internal is allowed.
  outbound?: OutboundGuard;
  // The platform certificate that seals signed contracts (infra/pdf/seal.ts loadPlatformCertificate).
  signing?: { p12Base64?: string; passphrase?: string; dataDir?: string };
  // The payment gateway (infra/asaas-client.ts): the host override (ASAAS_BASE_URL) and timeout.
  gateway?: { asaasBaseUrl?: string; timeoutMs?: number };
  // Starts the delivery workflow of each automation event, so a slow endpoint never holds a conversation.
  temporal?: { client: Client; taskQueue: string };
}

export interface AuditContext {
  actor: Actor;
  requestId?: string;
}

// The id of the workflow this activity runs for: every audit row written by a step points back
// to the process that wrote it.
export function callerWorkflowId(): string | null {
  return Context.current().info.workflowExecution?.workflowId ?? null;
}

const SILENT = createRealtimeEmitter(null);

// Live events are optional (a worker without Redis, a test): emitting then does nothing.
export function realtimeOf(deps: Pick<ActivityDeps, 'realtime'>): RealtimeEmitter {
  return deps.realtime ?? SILENT;
}
