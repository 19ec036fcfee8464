/**
 * The worker process: `node dist/workers/main.js`. Configuration comes from the environment (workers/config.ts;
 * the Temporal connection, including an API key or mTLS, from temporal/connection-config.ts).
 * Every line it writes to stdout is one JSON object (pino); activity lines name the workflow, run, ticket and step.
 * With GMSA_METRICS_ADDRESS set, Prometheus scrapes `/metrics` there.
 * SIGINT/SIGTERM drain it gracefully (the Temporal runtime installs those handlers).
 */
import type { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../observability/logger';
import { installWorkerRuntime } from '../observability/runtime';
import { describeConnection } from '../temporal/connection-config';
import { connectNativeConnection } from '../temporal/worker-connection';
import { createBackend } from './backend';
import { createTicketPorts } from '../ticketing/adapters';
import { workerEnv } from './config';
import { createRunbookWorker } from './worker';

const logger = createLogger({ service: 'gmsa-worker', level: 'info' });

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
    const worker = await createRunbookWorker({
      connection,
      namespace: env.temporal.namespace,
      taskQueue: env.GMSA_TASK_QUEUE,
      backend,
      hostOptions: { pollIntervalMs: env.GMSA_HOST_POLL_MS },
      tickets: createTicketPorts(process.env),
    });
    logger.info(
      {
        temporal: describeConnection(env.temporal),
        taskQueue: env.GMSA_TASK_QUEUE,
        backend: backend.kind,
        metrics: env.GMSA_METRICS_ADDRESS ? `http://${env.GMSA_METRICS_ADDRESS}/metrics` : null,
      },
      // The marker parents (tests, the health check) wait for.
      `WORKER_READY task-queue=${env.GMSA_TASK_QUEUE} backend=${backend.kind}`,
    );
    await worker.run();
  } finally {
    await connection.close();
    await backend.close?.();
  }
}

main().catch((err: unknown) => {
  logger.fatal({ error: err instanceof Error ? err.message : String(err) }, 'worker stopped');
  process.exit(1);
});
