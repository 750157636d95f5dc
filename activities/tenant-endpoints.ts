import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TenantSlots } from '../infra/tenant-slots';

// The activities that call an endpoint a tenant chose (its automation URL, its own AI base URL).
// They run on a task queue of their own (workflows/workflow-start.ts tenantEndpointsQueue), so a
// tenant's slow or hanging endpoint holds only that worker's slots, never the ones that send
// other tenants' WhatsApp replies; and each tenant holds at most `perTenant` of those at once.
export const TENANT_ENDPOINT_ACTIVITIES = {
  postAutomationEvent: 'automation',
  decideReplyAtTenantEndpoint: 'ai',
} as const;
export type TenantEndpointActivity = keyof typeof TENANT_ENDPOINT_ACTIVITIES;

export const TENANT_ENDPOINT_BUSY = 'TenantEndpointBusy';

export interface TenantEndpointLimit {
  slots: TenantSlots;
  // Concurrent calls one tenant may have in flight to each of its endpoints.
  perTenant: number;
  // How long an attempt waits for a slot before it fails (retryably) and gives its worker slot back.
  waitMs?: number;
}

const DEFAULT_WAIT_MS = 250;
const POLL_MS = 50;
// A holder outlives its attempt's timeout by this much at most, should its worker die mid-call.
const EXPIRY_MARGIN_MS = 1_000;
const FALLBACK_TTL_MS = 60_000;

type Activity = (...args: never[]) => Promise<unknown>;

// The given activities, those of TENANT_ENDPOINT_ACTIVITIES each taking one of its tenant's slots
// for the call. A tenant at its limit waits briefly, then the attempt fails retryably: Temporal
// retries it with the workflow's backoff, and the worker slot goes to someone else meanwhile.
export function withTenantEndpointSlots<T extends Record<string, Activity>>(activities: T, limit: TenantEndpointLimit): T {
  const wrapped: Record<string, Activity> = { ...activities };
  for (const [name, endpoint] of Object.entries(TENANT_ENDPOINT_ACTIVITIES)) {
    const fn = activities[name] as ((input: { tenantId: string }) => Promise<unknown>) | undefined;
    if (!fn) continue;
    wrapped[name] = (async (input: { tenantId: string }) => {
      const key = `${input.tenantId}:${endpoint}`;
      const holder = await acquire(limit, key);
      try {
        return await fn(input);
      } finally {
        await limit.slots.release(key, holder).catch(() => {
          // Redis away: the holder's expiry frees the slot.
        });
      }
    }) as Activity;
  }
  return wrapped as T;
}

// Only the tenant-endpoint activities, for the worker of their queue.
export function tenantEndpointActivities<T extends Record<string, Activity>>(activities: T): Pick<T, TenantEndpointActivity & keyof T> {
  const picked: Record<string, Activity> = {};
  for (const name of Object.keys(TENANT_ENDPOINT_ACTIVITIES)) {
    const fn = activities[name];
    if (!fn) throw new Error(`no activity "${name}" to run on the tenant-endpoint queue`);
    picked[name] = fn;
  }
  return picked as Pick<T, TenantEndpointActivity & keyof T>;
}

async function acquire(limit: TenantEndpointLimit, key: string): Promise<string> {
  const info = Context.current().info;
  const holder = `${info.workflowExecution?.workflowId ?? '-'}:${info.activityId}:${info.attempt}:${randomUUID()}`;
  const ttlMs = (info.startToCloseTimeoutMs || FALLBACK_TTL_MS) + EXPIRY_MARGIN_MS;
  const deadline = Date.now() + (limit.waitMs ?? DEFAULT_WAIT_MS);
  for (;;) {
    if (await limit.slots.tryAcquire(key, holder, limit.perTenant, ttlMs)) return holder;
    if (Date.now() >= deadline) break;
    await Context.current().sleep(POLL_MS);
  }
  throw ApplicationFailure.retryable(`the tenant already has ${limit.perTenant} calls in flight to its ${key.split(':').at(-1)} endpoint`, TENANT_ENDPOINT_BUSY);
}
