/**
 * How the worker reaches the directory over LDAPS. Everything comes from the worker's environment (a bind
 * password never travels in workflow arguments or history); a bad value names the variable and the rule.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const LdapEnvSchema = z.object({
  GMSA_LDAP_URL: z
    .string()
    .regex(
      /^ldaps:\/\/[A-Za-z0-9.-]+(:\d+)?$/,
      'must be ldaps://<a DC>[:port] (simple binds need transport encryption)',
    ),
  GMSA_LDAP_BIND_USER: z.string().min(1, 'must name the bind account, like svc-gmsa-ops@lab.local'),
  GMSA_LDAP_BIND_PASSWORD: z.string().optional(),
  GMSA_LDAP_BIND_PASSWORD_FILE: z.string().optional(),
  GMSA_LDAP_CA_FILE: z
    .string()
    .min(1, 'must be a PEM file with the CA that signed the DCs’ LDAPS certificates')
    .optional(),
  /** `dc1.lab.local=127.0.0.11,dc2.lab.local=127.0.0.12`: where to reach DCs whose names DNS does not resolve. */
  GMSA_LDAP_DC_ADDRESSES: z
    .string()
    .regex(
      /^([A-Za-z0-9.-]+=[A-Za-z0-9.:-]+)(,[A-Za-z0-9.-]+=[A-Za-z0-9.:-]+)*$/,
      'must be name=address pairs, comma-separated',
    )
    .optional(),
  GMSA_LDAP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
});

export interface LdapConfig {
  /** A DC to start from: discovery finds the others. */
  url: string;
  bindUser: string;
  bindPassword: string;
  ca?: Buffer;
  /** DC host name (lower-case) → address to connect to; TLS still checks the certificate against the name. */
  addresses: Record<string, string>;
  timeoutMs: number;
}

export function ldapConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LdapConfig {
  const parsed = LdapEnvSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
  if (parsed.success && !parsed.data.GMSA_LDAP_BIND_PASSWORD && !parsed.data.GMSA_LDAP_BIND_PASSWORD_FILE) {
    problems.push('  - GMSA_LDAP_BIND_PASSWORD: must be set (or GMSA_LDAP_BIND_PASSWORD_FILE)');
  }
  if (!parsed.success || problems.length > 0) throw new Error(`invalid LDAP configuration:\n${problems.join('\n')}`);
  const e = parsed.data;
  return {
    url: e.GMSA_LDAP_URL,
    bindUser: e.GMSA_LDAP_BIND_USER,
    bindPassword: e.GMSA_LDAP_BIND_PASSWORD ?? readFileSync(e.GMSA_LDAP_BIND_PASSWORD_FILE ?? '', 'utf8').trim(),
    ca: e.GMSA_LDAP_CA_FILE ? readFileSync(e.GMSA_LDAP_CA_FILE) : undefined,
    addresses: Object.fromEntries(
      (e.GMSA_LDAP_DC_ADDRESSES ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string])
        .map(([name, address]) => [name.toLowerCase(), address]),
    ),
    timeoutMs: e.GMSA_LDAP_TIMEOUT_MS,
  };
}
