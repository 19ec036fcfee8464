/** The backend a worker acts on, chosen by GMSA_BACKEND; its secrets come from this process's environment only. */
import { createHybridBackend } from '../backends/hybrid';
import { createLabBackend } from '../backends/lab/client';
import { ldapConfigFromEnv } from '../backends/ldap';
import type { Backend } from '../backends/ports';
import { powerShellConfigFromEnv } from '../backends/powershell/config';
import { createPowerShellBackend } from '../backends/powershell';
import type { WorkerEnv } from './config';

export function createBackend(env: WorkerEnv, processEnv: NodeJS.ProcessEnv = process.env): Backend {
  const labUrl = env.GMSA_LAB_URL ?? '';
  switch (env.GMSA_BACKEND) {
    case 'lab':
      return createLabBackend(labUrl);
    case 'hybrid':
      return createHybridBackend({ ldap: ldapConfigFromEnv(processEnv), labUrl });
    case 'powershell':
      return createPowerShellBackend(powerShellConfigFromEnv(processEnv));
  }
}
