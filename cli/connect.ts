/**
 * How CLI commands find Temporal and the lab. The Temporal connection is temporal/connection-config.ts's
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, mTLS, TEMPORAL_PROFILE/TEMPORAL_CONFIG_FILE); when the
 * environment names no server (none of TEMPORAL_ADDRESS, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE) a running
 * `gmsa-runbook dev` stack is used, then the default profile file, then 127.0.0.1:7233.
 */
import { Client } from '@temporalio/client';
import {
  connectClientConnection,
  isTemporalCloudAddress,
  loadConnectionConfig,
  plainConnectionConfig,
  type TemporalConnectionConfig,
} from '../temporal/connection-config';
import { DEFAULT_TASK_QUEUE } from '../workers/config';
import { readStackInfo } from './dev-stack';

export interface Target {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string | null;
  labUrl: string | null;
  /** How to connect (TLS, API key). Absent: plaintext to `address`, as for a dev stack this process started. */
  connection?: TemporalConnectionConfig;
}

/** Variables that name a server explicitly: with any of them set, a running dev stack is not used. */
const EXPLICIT_SERVER_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'] as const;

/** Temporal Cloud's UI, for links when TEMPORAL_UI_URL is not set. */
const CLOUD_UI_URL = 'https://cloud.temporal.io';

export function resolveTarget(env: NodeJS.ProcessEnv = process.env): Target & { connection: TemporalConnectionConfig } {
  const explicit = EXPLICIT_SERVER_VARS.some((name) => (env[name] ?? '').trim() !== '');
  const stack = explicit ? null : readStackInfo();
  const connection = loadConnectionConfig(
    env,
    stack
      ? { fallback: { address: stack.temporalAddress, namespace: stack.namespace, source: 'the running dev stack' } }
      : {},
  );
  const viaStack = stack !== null && connection.address === stack.temporalAddress;
  return {
    address: connection.address,
    namespace: connection.namespace,
    taskQueue: env.GMSA_TASK_QUEUE || (viaStack ? stack.taskQueue : undefined) || DEFAULT_TASK_QUEUE,
    uiUrl:
      env.TEMPORAL_UI_URL ||
      (viaStack ? stack.uiUrl : null) ||
      (isTemporalCloudAddress(connection.address) ? CLOUD_UI_URL : null),
    labUrl: env.GMSA_LAB_URL || readStackInfo()?.labUrl || null,
    connection,
  };
}

export async function connectClient(target: Target): Promise<{ client: Client; close: () => Promise<void> }> {
  const config = target.connection ?? plainConnectionConfig(target.address, target.namespace);
  let connection;
  try {
    connection = await connectClientConnection(config);
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\n` +
        '  (start the embedded stack with `gmsa-runbook dev`, or set TEMPORAL_ADDRESS and its credentials)',
    );
  }
  return { client: new Client({ connection, namespace: config.namespace }), close: () => connection.close() };
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
