/**
 * The worker process: `node dist/workers/main.js`. Configuration comes from the environment (workers/config.ts;
 * the Temporal connection, including an API key or mTLS, from temporal/connection-config.ts).
 * SIGINT/SIGTERM drain it gracefully (the Temporal runtime installs those handlers).
 */
import type { NativeConnection } from '@temporalio/worker';
import { describeConnection } from '../temporal/connection-config';
import { connectNativeConnection } from '../temporal/worker-connection';
import { createBackend } from './backend';
import { createTicketPorts } from '../ticketing/adapters';
import { workerEnv } from './config';
import { createRunbookWorker } from './worker';

async function main(): Promise<void> {
  const env = workerEnv();
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
    console.log(`Temporal ${describeConnection(env.temporal)}`);
    console.log(`WORKER_READY task-queue=${env.GMSA_TASK_QUEUE} backend=${backend.kind}`);
    await worker.run();
  } finally {
    await connection.close();
    await backend.close?.();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
