/**
 * Worker configuration from the environment, validated: a bad value names the variable and the rule, and every
 * problem is listed at once. The Temporal connection (address, namespace, API key, mTLS, profile) is
 * temporal/connection-config.ts's; the rest is the worker's own. Secrets (directory bind credentials, ticket
 * tokens, the API key) live here, never in workflow arguments.
 */
import { z } from 'zod';
import {
  CONNECTION_ENV_VARS,
  ConnectionConfigError,
  loadConnectionConfig,
  type TemporalConnectionConfig,
} from '../temporal/connection-config';

export const DEFAULT_TASK_QUEUE = 'gmsa-runbooks';

const WorkerEnvSchema = z.object({
  GMSA_TASK_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be a task queue name')
    .default(DEFAULT_TASK_QUEUE),
  /**
   * lab: everything simulated; hybrid: the directory over LDAPS (GMSA_LDAP_*), hosts in the lab; powershell: a real
   * Windows domain from a domain-joined management host (GMSA_PWSH*).
   */
  GMSA_BACKEND: z.enum(['lab', 'hybrid', 'powershell']).default('lab'),
  GMSA_LAB_URL: z.url({ protocol: /^https?$/, error: 'must be the lab URL, like http://127.0.0.1:8700' }).optional(),
  GMSA_HOST_POLL_MS: z.coerce.number().int().min(10, 'must be at least 10 ms').max(60000).default(500),
  /**
   * host:port for the Prometheus exporter (`/metrics`: the SDK's metrics and the runbooks'); none when unset, so
   * that several workers on one machine (tests) never fight over a port.
   */
  GMSA_METRICS_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, like 0.0.0.0:9464')
    .optional(),
  GMSA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

/** The variables the worker process reads for itself and for its Temporal connection (compose is checked against these). */
export const WORKER_ENV_VARS: readonly string[] = [...Object.keys(WorkerEnvSchema.shape), ...CONNECTION_ENV_VARS];

export type WorkerEnv = z.output<typeof WorkerEnvSchema> & {
  /** Where and how to connect (nativeConnectionOptions(env.temporal) for NativeConnection.connect). */
  temporal: TemporalConnectionConfig;
  /** = temporal.address, temporal.namespace (kept for callers that predate the connection config). */
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
};

export function workerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const problems: string[] = [];
  let temporal: TemporalConnectionConfig | undefined;
  try {
    temporal = loadConnectionConfig(env);
  } catch (err) {
    if (!(err instanceof ConnectionConfigError)) throw err;
    problems.push(...err.problems.map((p) => `${p.variable}: ${p.rule}`));
  }
  const parsed = WorkerEnvSchema.safeParse(env);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  else if (parsed.data.GMSA_BACKEND !== 'powershell' && !parsed.data.GMSA_LAB_URL) {
    problems.push(`GMSA_LAB_URL: must be set when GMSA_BACKEND is ${parsed.data.GMSA_BACKEND}`);
  }
  if (problems.length > 0 || !parsed.success || !temporal) {
    throw new Error('invalid worker configuration:\n' + problems.map((p) => `  - ${p}`).join('\n'));
  }
  return { ...parsed.data, temporal, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace };
}
