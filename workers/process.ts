/**
 * The body of a worker process, shared by the production worker (workers/main.ts) and the benchmark's
 * (bench/worker.ts): configuration from the environment, pino JSON logs through the SDK runtime, the connection,
 * the runbook worker options, the `WORKER_READY` line parents wait for, and a clean close on the way out.
 */
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { createLogger } from '../observability/logger';
import { installWorkerRuntime } from '../observability/runtime';
import { describeConnection } from '../temporal/connection-config';
import { connectNativeConnection } from '../temporal/worker-connection';
import { createTicketPorts } from '../ticketing/adapters';
import { createBackend } from './backend';
import { workerEnv } from './config';
import { createWorkerWithPrebuiltBundle, runbookWorkerOptions } from './worker';

export interface WorkerProcessOptions {
  /** The `service` field of every log line. */
  service: string;
  /** Options beyond the runbook's (the benchmark registers its baseline workflow and activity here). */
  extend?: (options: WorkerOptions) => WorkerOptions;
}

export function runWorkerProcess(opts: WorkerProcessOptions): void {
  const logger = createLogger({ service: opts.service, level: 'info' });
  main(logger, opts).catch((err: unknown) => {
    logger.fatal({ error: err instanceof Error ? err.message : String(err) }, 'worker stopped');
    process.exit(1);
  });
}

async function main(logger: ReturnType<typeof createLogger>, opts: WorkerProcessOptions): Promise<void> {
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
    const worker = await createWorkerWithPrebuiltBundle(opts.extend ? opts.extend(options) : options);
    logger.info(
      {
        temporal: describeConnection(env.temporal),
        taskQueue: env.GMSA_TASK_QUEUE,
        backend: backend.kind,
        metrics: env.GMSA_METRICS_ADDRESS ? `http://${env.GMSA_METRICS_ADDRESS}/metrics` : null,
      },
      // The marker parents (tests, the health check, the benchmark) wait for.
      `WORKER_READY task-queue=${env.GMSA_TASK_QUEUE} backend=${backend.kind}`,
    );
    await worker.run();
  } finally {
    await connection.close();
    await backend.close?.();
  }
}
