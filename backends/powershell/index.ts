import { PowerShellBackend } from './backend';
import type { PowerShellConfig } from './config';
import { PowerShellRunner } from './shell';

export { PowerShellBackend, type ScriptRunner } from './backend';
export { powerShellConfigFromEnv, type PowerShellConfig } from './config';

/** The production backend: every call a fresh PowerShell on this (domain-joined) management host. */
export function createPowerShellBackend(config: PowerShellConfig): PowerShellBackend {
  return new PowerShellBackend(
    new PowerShellRunner({ executable: config.executable, scriptsDir: config.scriptsDir, timeoutMs: config.timeoutMs }),
  );
}
