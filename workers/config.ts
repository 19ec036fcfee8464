/**
 * Worker configuration from the environment, validated: a bad value names the variable and the rule.
 * Secrets (later: directory bind credentials, ticket tokens) live here, never in workflow arguments.
 */
import { z } from 'zod';

export const DEFAULT_TASK_QUEUE = 'gmsa-runbooks';

const WorkerEnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1, 'must be host:port of the Temporal frontend').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
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
});

export type WorkerEnv = z.output<typeof WorkerEnvSchema>;

export function workerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = WorkerEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      'invalid worker configuration:\n' +
        parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n'),
    );
  }
  if (parsed.data.GMSA_BACKEND !== 'powershell' && !parsed.data.GMSA_LAB_URL) {
    throw new Error(
      `invalid worker configuration:\n  - GMSA_LAB_URL: must be set when GMSA_BACKEND is ${parsed.data.GMSA_BACKEND}`,
    );
  }
  return parsed.data;
}
