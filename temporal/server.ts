/**
 * One entry point for "give me a Temporal server": an existing one named by TEMPORAL_ADDRESS (a cluster, or
 * `docker compose up`), else a dev server started from the located (or freshly built) `temporal` CLI.
 */
import { Connection } from '@temporalio/client';
import { locateTemporalCli } from './cli-locator';
import { startDevServer } from './dev-server';
import { ensureSearchAttributes } from './search-attributes';

export interface ObtainTemporalServerOptions {
  /** SQLite file for the dev server's state (ignored for an external server); in-memory when omitted. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  log?: (line: string) => void;
}

export interface TemporalServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  /** Stops the dev server this call started; a no-op for an external server, which is not ours to stop. */
  stop(): Promise<void>;
  /** True when TEMPORAL_ADDRESS pointed at a server that was already running. */
  external: boolean;
}

export async function obtainTemporalServer(opts: ObtainTemporalServerOptions = {}): Promise<TemporalServer> {
  const log = opts.log ?? (() => undefined);
  const externalAddress = process.env.TEMPORAL_ADDRESS;
  if (externalAddress) {
    const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
    log(`Using the Temporal server at ${externalAddress} (TEMPORAL_ADDRESS), namespace ${namespace}`);
    // lazy + ensureConnected so the channel can be closed even when the server does not answer.
    const connection = Connection.lazy({ address: externalAddress });
    try {
      await connection.ensureConnected();
    } catch (err) {
      await connection.close();
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `TEMPORAL_ADDRESS is set to ${externalAddress}, but no Temporal server answers there (${reason}). ` +
          'Start it (for example `docker compose up`), or unset TEMPORAL_ADDRESS to run a dev server.',
      );
    }
    try {
      // An external server never saw start-dev's --search-attribute flags.
      const added = await ensureSearchAttributes(connection, namespace);
      if (added.length > 0) log(`Registered search attributes on ${namespace}: ${added.join(', ')}`);
    } finally {
      await connection.close();
    }
    return {
      address: externalAddress,
      namespace,
      uiUrl: process.env.TEMPORAL_UI_URL || null,
      stop: () => Promise.resolve(),
      external: true,
    };
  }

  const cliPath = await locateTemporalCli({ log });
  const server = await startDevServer({
    cliPath,
    dbFile: opts.dbFile,
    port: opts.port,
    uiPort: opts.uiPort,
    headless: opts.headless,
    log,
  });
  return {
    address: server.address,
    namespace: server.namespace,
    uiUrl: server.uiUrl,
    stop: () => server.stop(),
    external: false,
  };
}
