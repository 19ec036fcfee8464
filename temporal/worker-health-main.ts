/**
 * Health check for a worker container: `node dist/temporal/worker-health-main.js`. Exit 0 when THIS host's worker
 * (identity `<pid>@<hostname>`, the SDK's default) has polled the task queue for workflow and activity tasks
 * recently, 1 otherwise, with one line saying why. It reads the same environment as the worker (workers/config.ts),
 * so it asks the same server, namespace and task queue with the same TLS / API key, and it proves what matters:
 * the worker is connected and taking work, not merely that the process exists.
 */
import * as os from 'node:os';
import type { temporal } from '@temporalio/proto';
import { workerEnv } from '../workers/config';
import { connectClientConnection } from './connection-config';

/** Pollers stay listed for a while after their last poll; a live worker re-polls at least once a minute. */
const MAX_POLL_AGE_MS = 150_000;

const TASK_QUEUE_KIND_NORMAL = 1 as temporal.api.enums.v1.TaskQueueKind;
const TYPES = [
  ['workflow', 1 as temporal.api.enums.v1.TaskQueueType],
  ['activity', 2 as temporal.api.enums.v1.TaskQueueType],
] as const;

function seconds(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | null {
  if (!ts?.seconds) return null;
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

async function main(): Promise<number> {
  const env = workerEnv();
  const host = os.hostname();
  const connection = await connectClientConnection(env.temporal, { connectTimeout: '5s' });
  try {
    const missing: string[] = [];
    for (const [label, taskQueueType] of TYPES) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: env.temporal.namespace,
        taskQueue: { name: env.GMSA_TASK_QUEUE, kind: TASK_QUEUE_KIND_NORMAL },
        taskQueueType,
      });
      const ours = (pollers ?? []).filter((p) => (p.identity ?? '').endsWith(`@${host}`));
      const newest = Math.max(0, ...ours.map((p) => seconds(p.lastAccessTime) ?? 0));
      if (ours.length === 0 || Date.now() - newest > MAX_POLL_AGE_MS) missing.push(label);
    }
    if (missing.length > 0) {
      console.error(
        `unhealthy: no recent ${missing.join(' or ')} poll from a worker on ${host} on task queue ${env.GMSA_TASK_QUEUE}`,
      );
      return 1;
    }
    console.log(`healthy: the worker on ${host} polls task queue ${env.GMSA_TASK_QUEUE}`);
    return 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
