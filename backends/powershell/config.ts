/**
 * The PowerShell backend's settings, from the worker's environment (zod-validated; a bad value names the
 * variable). Credentials are not here: the worker runs as a service account (ideally itself a gMSA) whose
 * Kerberos identity the cmdlets use.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const PowerShellEnvSchema = z.object({
  /** pwsh (7.x) or powershell (Windows PowerShell 5.1, which the ActiveDirectory module always supports). */
  GMSA_PWSH: z
    .string()
    .min(1)
    .default(process.platform === 'win32' ? 'powershell' : 'pwsh'),
  /** How long one script may run before its shell is killed. */
  GMSA_PWSH_TIMEOUT_MS: z.coerce.number().int().min(1000, 'must be at least 1000 ms').max(3_600_000).default(120_000),
  /** Where the scripts are (defaults to the ones shipped with this package). */
  GMSA_PWSH_SCRIPTS_DIR: z.string().min(1).optional(),
});

export interface PowerShellConfig {
  executable: string;
  timeoutMs: number;
  scriptsDir: string;
}

/** The scripts ship as files next to the sources; compiled code runs from dist/, so look in both places. */
export function defaultScriptsDir(): string {
  const candidates = [
    join(__dirname, 'scripts'),
    join(__dirname, '..', '..', '..', 'backends', 'powershell', 'scripts'),
  ];
  return candidates.find((dir) => existsSync(join(dir, '_Common.ps1'))) ?? candidates[0];
}

export function powerShellConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PowerShellConfig {
  const parsed = PowerShellEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      'invalid PowerShell configuration:\n' +
        parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n'),
    );
  }
  return {
    executable: parsed.data.GMSA_PWSH,
    timeoutMs: parsed.data.GMSA_PWSH_TIMEOUT_MS,
    scriptsDir: parsed.data.GMSA_PWSH_SCRIPTS_DIR ?? defaultScriptsDir(),
  };
}
