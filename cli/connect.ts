/** How CLI commands find Temporal and the lab: the environment first, then a running dev stack. */
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../workers/config';
import { readStackInfo } from './dev-stack';

export interface Target {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string | null;
  labUrl: string | null;
}

export function resolveTarget(): Target {
  const stack = readStackInfo();
  return {
    address: process.env.TEMPORAL_ADDRESS ?? stack?.temporalAddress ?? '127.0.0.1:7233',
    namespace: process.env.TEMPORAL_NAMESPACE ?? stack?.namespace ?? 'default',
    taskQueue: process.env.GMSA_TASK_QUEUE ?? stack?.taskQueue ?? DEFAULT_TASK_QUEUE,
    uiUrl: process.env.TEMPORAL_UI_URL ?? stack?.uiUrl ?? null,
    labUrl: process.env.GMSA_LAB_URL ?? stack?.labUrl ?? null,
  };
}

export async function connectClient(target: Target): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address });
  } catch (err) {
    throw new Error(
      `no Temporal server answers at ${target.address} (${err instanceof Error ? err.message : String(err)}); ` +
        'start the embedded stack with `gmsa-runbook dev`, or set TEMPORAL_ADDRESS',
    );
  }
  return { client: new Client({ connection, namespace: target.namespace }), close: () => connection.close() };
}

/** Connect to the resolved target, do the work, always close. */
export async function withTemporal<T>(work: (client: Client, target: Target) => Promise<T>): Promise<T> {
  const target = resolveTarget();
  const { client, close } = await connectClient(target);
  try {
    return await work(client, target);
  } finally {
    await close();
  }
}
