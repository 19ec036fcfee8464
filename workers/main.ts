/**
 * The worker process: `node dist/workers/main.js`. Configuration comes from the environment (workers/config.ts).
 * SIGINT/SIGTERM drain it gracefully (the Temporal runtime installs those handlers).
 */
import { NativeConnection } from '@temporalio/worker';
import { createBackend } from './backend';
import { createTicketPorts } from '../ticketing/adapters';
import { workerEnv } from './config';
import { createRunbookWorker } from './worker';

async function main(): Promise<void> {
  const env = workerEnv();
  const backend = createBackend(env);
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  try {
    const worker = await createRunbookWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.GMSA_TASK_QUEUE,
      backend,
      hostOptions: { pollIntervalMs: env.GMSA_HOST_POLL_MS },
      tickets: createTicketPorts(process.env),
    });
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
