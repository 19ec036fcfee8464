/**
 * The lab as its own process:
 * `node dist/backends/lab/main.js --state FILE [--port N] [--time-scale X] [--host H] [--hosts N]`.
 * `--hosts N` seeds the domain with N member servers instead of the default four (fan-out and load runs); like any
 * topology it applies only when the state file is new. Prints `LAB_URL=http://127.0.0.1:PORT` once listening (parents wait for that line), exits cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { LdapDirectory, ldapConfigFromEnv } from '../ldap';
import { startLabServer } from './server';
import { DEFAULT_TIME_SCALE, MAX_GENERATED_HOSTS, topologyWithHosts } from './topology';

function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number (got ${value})`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      state: { type: 'string' },
      port: { type: 'string' },
      'time-scale': { type: 'string' },
      host: { type: 'string' },
      directory: { type: 'string' },
      hosts: { type: 'string' },
    },
    strict: true,
  });
  if (!values.state) {
    throw new Error(
      'usage: main.js --state FILE [--port N] [--time-scale X] [--host H] [--hosts N] [--directory lab|ldap]',
    );
  }
  if (values.directory && !['lab', 'ldap'].includes(values.directory)) {
    throw new Error(`--directory must be lab or ldap (got ${values.directory})`);
  }
  let topology;
  if (values.hosts !== undefined) {
    const count = Number(values.hosts);
    if (!Number.isInteger(count) || count < 1 || count > MAX_GENERATED_HOSTS) {
      throw new Error(`--hosts must be a whole number from 1 to ${MAX_GENERATED_HOSTS} (got ${values.hosts})`);
    }
    topology = topologyWithHosts(count);
  }
  // ldap: hosts retrieve gMSA passwords from the real directory named by GMSA_LDAP_* (the hybrid configuration).
  const directory = values.directory === 'ldap' ? new LdapDirectory(ldapConfigFromEnv()) : undefined;
  const lab = await startLabServer({
    stateFile: values.state,
    port: numberOption(values.port, 'port', 0),
    timeScale: numberOption(values['time-scale'], 'time-scale', DEFAULT_TIME_SCALE),
    host: values.host,
    topology,
    directory,
  });
  console.log(`LAB_URL=${lab.url}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    Promise.all([lab.close(), directory?.close()]).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
