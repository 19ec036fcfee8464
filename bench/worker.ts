/**
 * The benchmark's worker process: workers/main.ts (same environment, runtime logger, connection and worker
 * options) with the baseline workflow and its no-op activity registered next to the runbook, so both sides of a
 * comparison run on one worker with one set of settings. A process of its own, so its peak RSS can be read.
 */
import type { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../observability/logger';
import { installWorkerRuntime } from '../observability/runtime';
import { connectNativeConnection } from '../temporal/worker-connection';
import { createTicketPorts } from '../ticketing/adapters';
import { createBackend } from '../workers/backend';
import { workerEnv } from '../workers/config';
import { createWorkerWithPrebuiltBundle, runbookWorkerOptions } from '../workers/worker';
import { createBenchActivities } from './activities';

const logger = createLogger({ service: 'gmsa-bench-worker', level: 'info' });

async function main(): Promise<void> {
  const env = workerEnv();
  logger.level = env.GMSA_LOG_LEVEL;
  installWorkerRuntime({ logger, metricsAddress: env.GMSA_METRICS_ADDRESS });
  const backend = createBackend(env);
  let connection: NativeConnection;
  try {
    connection = await connectNativeConnection(env.temporal);
  } catch (err) {
    await backend.close?.();
    throw err;
  }
  try {
    const options = runbookWorkerOptions({
      connection,
      namespace: env.temporal.namespace,
      taskQueue: env.GMSA_TASK_QUEUE,
      backend,
      hostOptions: { pollIntervalMs: env.GMSA_HOST_POLL_MS },
      tickets: createTicketPorts(process.env),
    });
    const worker = await createWorkerWithPrebuiltBundle({
      ...options,
      workflowsPath: require.resolve('./workflows'),
      activities: { ...options.activities, ...createBenchActivities() },
    });
    logger.info(`WORKER_READY task-queue=${env.GMSA_TASK_QUEUE} pid=${process.pid}`);
    await worker.run();
  } finally {
    await connection.close();
    await backend.close?.();
  }
}

main().catch((err: unknown) => {
  logger.fatal({ error: err instanceof Error ? err.message : String(err) }, 'bench worker stopped');
  process.exit(1);
});
