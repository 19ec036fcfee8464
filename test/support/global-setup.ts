/**
 * Jest global setup: ONE Temporal server for the whole run. Starting a dev server per test file would cost seconds
 * each; with `--runInBand` every suite shares this one through TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, which the
 * test environments inherit because they are created after this runs.
 */
import { obtainTemporalServer, type TemporalServer } from '../../temporal/server';

/** Read by global-teardown (globalThis is shared between the two; test files run in their own contexts). */
export interface GlobalTemporal {
  server: TemporalServer;
  /** TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE as they were before setup, restored by teardown. */
  previousEnv: { address: string | undefined; namespace: string | undefined };
}

declare global {
  var __gmsaTemporal: GlobalTemporal | undefined;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // Headless and in-memory: tests need neither a UI nor state that outlives the run.
  const server = await obtainTemporalServer({
    headless: true,
    log: (line) => process.stderr.write(`[temporal] ${line}\n`),
  });
  globalThis.__gmsaTemporal = {
    server,
    previousEnv: { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE },
  };
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
  const how = server.external ? 'using external server' : 'started dev server';
  process.stderr.write(
    `\n[temporal] ${how} at ${server.address} (namespace ${server.namespace}) in ${Date.now() - started} ms\n`,
  );
}
