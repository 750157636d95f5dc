import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../activities';
import { tenantEndpointActivities, withTenantEndpointSlots, type TenantEndpointLimit } from '../activities/tenant-endpoints';
import type { PayloadCodec } from '@temporalio/common';
import type { Config } from '../infra/config';
import { FAILURE_CONVERTER_PATH, orquestraDataConverter } from '../infra/temporal';
import { createTenantSlots } from '../infra/tenant-slots';
import { tenantEndpointsQueue } from '../workflows/workflow-start';

export const WORKFLOWS_PATH = require.resolve('../workflows');

// In the reusable V8 context every workflow run evaluates the bundle's modules afresh in a module
// scope of its own, unless they were preloaded: zod and the rules built on it took a third of the
// workflow thread's CPU (bench:webhook --profile: zod's constructors and the garbage they left),
// paid again by each of the 800 conversations of a run. The pure rules of domain/ hold no
// per-run state (test/workflows/preloaded-modules.test.ts keeps it so), so one copy serves all.
// Workflow modules themselves stay per run. (zod comes in with the rules that use it: named on
// its own, webpack drops the require, zod being free of side effects.)
const DOMAIN_DIR = join(__dirname, '..', 'domain');
export const PRELOADED_MODULES: string[] = readdirSync(DOMAIN_DIR)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .sort()
  .map((f) => join(DOMAIN_DIR, f));

// Bundled once and shared: webpack-bundling the workflows takes seconds.
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    preloadModules: PRELOADED_MODULES,
    logger: quietBundlerLogger,
  });
  return bundle;
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: unknown) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: unknown) {
    console.error(message, meta ?? '');
  },
};

export async function createOrquestraWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  // Seals and opens every payload (infra/payload-codec.ts).
  payloadCodec: PayloadCodec;
  // Stand-ins for some activities (tests of a workflow's own logic: a step that fails on cue).
  // Only activities that exist can be replaced, so a renamed one cannot leave a stale stub behind.
  activityOverrides?: Partial<Activities>;
  shutdownGraceTime?: number;
  shutdownForceTime?: number;
  maxConcurrentActivityTaskExecutions?: number;
  // The per-tenant limit on calls to tenants' endpoints; the main queue still runs them for runs
  // recorded before they moved to their own queue.
  tenantEndpointLimit?: TenantEndpointLimit;
}): Promise<Worker> {
  const activities = withOverrides(createActivities(opts.deps), opts.activityOverrides ?? {});
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    dataConverter: orquestraDataConverter(opts.payloadCodec),
    activities: opts.tenantEndpointLimit ? withTenantEndpointSlots(activities, opts.tenantEndpointLimit) : activities,
    // Spread, not assigned: an explicit undefined would replace the SDK's default.
    ...(opts.maxConcurrentActivityTaskExecutions !== undefined ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions } : {}),
    ...(opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {}),
    ...(opts.shutdownForceTime !== undefined ? { shutdownForceTime: opts.shutdownForceTime } : {}),
  });
}

// The worker of the tenant-endpoint queue next to `taskQueue`: only the activities that call
// endpoints tenants chose, in slots of their own, each tenant within its limit.
export async function createTenantEndpointWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  payloadCodec: PayloadCodec;
  slots: number;
  limit: TenantEndpointLimit;
  shutdownGraceTime?: number;
  shutdownForceTime?: number;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: tenantEndpointsQueue(opts.taskQueue),
    dataConverter: orquestraDataConverter(opts.payloadCodec),
    activities: withTenantEndpointSlots(tenantEndpointActivities(createActivities(opts.deps)), opts.limit),
    maxConcurrentActivityTaskExecutions: opts.slots,
    ...(opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {}),
    ...(opts.shutdownForceTime !== undefined ? { shutdownForceTime: opts.shutdownForceTime } : {}),
  });
}

export function tenantEndpointLimitFromConfig(config: Pick<Config, 'TENANT_ENDPOINT_CONCURRENCY'>, deps: Pick<ActivityDeps, 'redis' | 'redisKeyPrefix'>): TenantEndpointLimit {
  return { slots: createTenantSlots(deps.redis ?? null, deps.redisKeyPrefix ?? ''), perTenant: config.TENANT_ENDPOINT_CONCURRENCY };
}

export function withOverrides(activities: Activities, overrides: Partial<Activities>): Activities {
  const unknown = Object.keys(overrides).filter((name) => !(name in activities));
  if (unknown.length) throw new Error(`no such activities to override: ${unknown.join(', ')}`);
  return { ...activities, ...overrides };
}
