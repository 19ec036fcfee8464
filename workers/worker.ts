/**
 * Builds a worker for the runbook workflows and activities. Used by the worker process (workers/main.ts), the
 * dev stack and the tests, so all three run the same thing.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { activityLogContextInterceptor } from '../observability/activity-interceptors';
import { withPrebuiltWorkflowBundle } from './prebundle';

export interface RunbookWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** A prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start, out of process. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Let running activities finish on shutdown (a half-done WinRM registration is worse than a late stop). */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/**
 * Workflow interceptor modules: the log-context header (ticket and step) on every activity. A prebuilt bundle must
 * be bundled with these (`bundleWorkflowCode({ workflowInterceptorModules })`); Worker.create ignores them then.
 */
export function workflowInterceptorModules(): string[] {
  return [require.resolve('../workflows/interceptors')];
}

/**
 * Modules evaluated once per workflow thread and shared by every run instead of once per run (see
 * workflows/shared-modules.ts: zod, most of a run's memory). A prebuilt bundle must be bundled with these too.
 */
export function workflowPreloadModules(): string[] {
  return [require.resolve('../workflows/shared-modules')];
}

/**
 * The options every runbook worker runs with. Exported so that a harness which must register something more
 * (the benchmark's baseline workflow) runs on exactly the same settings instead of a copy of them.
 */
export function runbookWorkerOptions(opts: RunbookWorkerOptions): WorkerOptions {
  return {
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities(opts),
    // Only where the worker bundles (out of process, workers/prebundle.ts); with a bundle given it would be ignored.
    ...(opts.workflowBundle ? {} : { bundlerOptions: { preloadModules: workflowPreloadModules() } }),
    interceptors: {
      workflowModules: workflowInterceptorModules(),
      activity: [activityLogContextInterceptor],
    },
    shutdownGraceTime: opts.shutdownGraceTime ?? '10s',
  };
}

/** Without a prebuilt bundle the workflows are bundled out of process first (workers/prebundle.ts: less RSS). */
export async function createRunbookWorker(opts: RunbookWorkerOptions): Promise<Worker> {
  return createWorkerWithPrebuiltBundle(runbookWorkerOptions(opts));
}

/** Worker.create on options whose workflowsPath is bundled out of process; the bundle file goes once it is read. */
export async function createWorkerWithPrebuiltBundle(options: WorkerOptions): Promise<Worker> {
  const { options: prebuilt, cleanup } = await withPrebuiltWorkflowBundle(options);
  try {
    return await Worker.create(prebuilt);
  } finally {
    cleanup();
  }
}
