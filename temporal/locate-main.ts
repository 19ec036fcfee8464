/**
 * Prints the path of the Temporal CLI, finding or building it first. CI runs this before the tests so a first
 * `go install` (minutes) shows its progress as its own step instead of silently eating into jest's global setup.
 */
import { locateTemporalCli } from './cli-locator';

locateTemporalCli()
  .then((cliPath) => {
    process.stdout.write(`${cliPath}\n`);
  })
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
