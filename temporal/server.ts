/**
 * One entry point for "give me a Temporal server": an existing one named by TEMPORAL_ADDRESS (or a
 * TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE profile: a cluster, Temporal Cloud, `docker compose up`), connected as
 * temporal/connection-config.ts says (TLS, API key), else a dev server started from the located (or freshly built)
 * `temporal` CLI.
 */
import { locateTemporalCli } from './cli-locator';
import {
  connectClientConnection,
  describeConnection,
  loadConnectionConfig,
  plainConnectionConfig,
  type TemporalConnectionConfig,
} from './connection-config';
import { startDevServer } from './dev-server';
import { ensureSearchAttributes } from './search-attributes';

export interface ObtainTemporalServerOptions {
  /** SQLite file for the dev server's state (ignored for an external server); in-memory when omitted. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  log?: (line: string) => void;
  /** Extra dynamic config for a dev server this call starts (an external server is configured by its operator). */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface TemporalServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  /** Stops the dev server this call started; a no-op for an external server, which is not ours to stop. */
  stop(): Promise<void>;
  /** True when TEMPORAL_ADDRESS pointed at a server that was already running. */
  external: boolean;
  /** How to connect to it: the environment's TLS / API key for an external server, plaintext for a dev server. */
  connection: TemporalConnectionConfig;
}

/** Variables that name an existing server: with any of them set, no dev server is started. */
const EXTERNAL_SERVER_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'] as const;

export async function obtainTemporalServer(opts: ObtainTemporalServerOptions = {}): Promise<TemporalServer> {
  const log = opts.log ?? (() => undefined);
  const external = EXTERNAL_SERVER_VARS.some((name) => (process.env[name] ?? '').trim() !== '');
  if (external) {
    // Throws ConnectionConfigError (naming the variable and the rule) on a bad value.
    const config = loadConnectionConfig(process.env);
    log(`Using the Temporal server at ${describeConnection(config)} (from ${config.source.address})`);
    let connection;
    try {
      connection = await connectClientConnection(config);
    } catch (err) {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}\n  Start that server (for example \`docker compose up\`), ` +
          'or unset TEMPORAL_ADDRESS (and TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE) to run a dev server.',
      );
    }
    try {
      // An external server never saw start-dev's --search-attribute flags.
      const added = await ensureSearchAttributes(connection, config.namespace);
      if (added.length > 0) log(`Registered search attributes on ${config.namespace}: ${added.join(', ')}`);
    } finally {
      await connection.close();
    }
    return {
      address: config.address,
      namespace: config.namespace,
      uiUrl: process.env.TEMPORAL_UI_URL || null,
      stop: () => Promise.resolve(),
      external: true,
      connection: config,
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
    dynamicConfig: opts.dynamicConfig,
  });
  return {
    address: server.address,
    namespace: server.namespace,
    uiUrl: server.uiUrl,
    stop: () => server.stop(),
    external: false,
    connection: plainConnectionConfig(server.address, server.namespace),
  };
}
