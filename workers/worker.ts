import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../activities';

export const WORKFLOWS_PATH = require.resolve('../workflows');

// Bundled once and shared: webpack-bundling the workflows takes seconds.
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
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
  // Stand-ins for some activities (tests of a workflow's own logic: a step that fails on cue).
  // Only activities that exist can be replaced, so a renamed one cannot leave a stale stub behind.
  activityOverrides?: Partial<Activities>;
  shutdownGraceTime?: number;
  shutdownForceTime?: number;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: withOverrides(createActivities(opts.deps), opts.activityOverrides ?? {}),
    // Spread, not assigned: an explicit undefined would replace the SDK's default.
    ...(opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {}),
    ...(opts.shutdownForceTime !== undefined ? { shutdownForceTime: opts.shutdownForceTime } : {}),
  });
}

export function withOverrides(activities: Activities, overrides: Partial<Activities>): Activities {
  const unknown = Object.keys(overrides).filter((name) => !(name in activities));
  if (unknown.length) throw new Error(`no such activities to override: ${unknown.join(', ')}`);
  return { ...activities, ...overrides };
}
