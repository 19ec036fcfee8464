/**
 * Runs `temporal server start-dev` as a child process and waits until it really serves requests.
 *
 * Not the SDK's `TestWorkflowEnvironment.createLocal`: that one has a fixed 5 s start-up deadline (too short for a
 * file-backed DB on a slow CI disk) and only reports "StartupTimeout". Here start-up waits as long as asked, an
 * early exit is reported with the server's own output, and the search attributes are (re-)registered even on a
 * DB file that predates them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes, searchAttributeCliArgs } from './search-attributes';

export interface DevServerOptions {
  /** The `temporal` CLI binary (see locateTemporalCli). */
  cliPath: string;
  /** SQLite file to keep state across restarts; in-memory (lost on stop) when omitted. */
  dbFile?: string;
  /** Interface to bind, default 127.0.0.1 (never exposed beyond this machine unless asked). */
  ip?: string;
  /** Frontend gRPC port; a free port when omitted, so parallel runs and a developer's own server never collide. */
  port?: number;
  /** UI port; a free port when omitted. Ignored when headless. */
  uiPort?: number;
  /** No UI (tests do not need one, and it saves start-up time). */
  headless?: boolean;
  /** Namespace to create and hand out, default 'default' (which always exists). */
  namespace?: string;
  log?: (line: string) => void;
  /** How long to wait for the frontend to answer, default 60000 ms. */
  startTimeoutMs?: number;
  /** Extra `--dynamic-config-value KEY=VALUE` settings (values as JSON), e.g. for a benchmark's server. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface DevServer {
  /** host:port of the frontend, for Connection/NativeConnection `address`. */
  address: string;
  namespace: string;
  /** http://host:port of the Temporal UI, or null when headless. */
  uiUrl: string | null;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Safe to call more than once. */
  stop(): Promise<void>;
}

const DEFAULT_IP = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_LINES = 40;

/** Resolves with a TCP port that was free a moment ago (the OS picks it). */
export function findFreePort(host: string = DEFAULT_IP): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('Could not determine a free port'))));
    });
  });
}

/** True if nothing listens on `port` at `host` (we could bind it ourselves). */
export function isPortFree(port: number, host: string = DEFAULT_IP): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The bind address as a client must dial it: a wildcard bind is reached through loopback. */
function dialHost(ip: string): string {
  return ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
}

/** host:port for gRPC and URLs, with IPv6 literals bracketed. */
function dialAddress(ip: string, port: number): string {
  const host = dialHost(ip);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Keeps the last lines of the child's output: the explanation when it dies or never becomes ready. */
class OutputTail {
  private readonly lines: string[] = [];
  private partial = '';

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim()) this.add(line);
  }

  text(): string {
    const lines = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return lines.join('\n');
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > OUTPUT_TAIL_LINES) this.lines.shift();
  }
}

/** Start-up failed; the message carries the server's last output lines. */
export class DevServerStartError extends Error {
  override name = 'DevServerStartError';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const log = opts.log ?? (() => undefined);
  const ip = opts.ip ?? DEFAULT_IP;
  const namespace = opts.namespace ?? 'default';
  const headless = opts.headless ?? false;
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;

  const port = opts.port ?? (await findFreePort(ip));
  if (opts.port !== undefined && !(await isPortFree(port, ip))) {
    throw new Error(
      `Port ${ip}:${port} is already in use; is a Temporal server already running there? ` +
        `To use it, set TEMPORAL_ADDRESS=${dialAddress(ip, port)}; otherwise choose another port.`,
    );
  }
  let uiPort: number | null = null;
  if (!headless) {
    uiPort = opts.uiPort ?? (await findFreePort(ip));
    if (opts.uiPort !== undefined && !(await isPortFree(uiPort, ip))) {
      throw new Error(`UI port ${ip}:${uiPort} is already in use; choose another one or run headless.`);
    }
  }

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port)];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFile) {
    const dbFile = path.resolve(opts.dbFile);
    // The CLI creates the file but not its directory.
    await fsp.mkdir(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  args.push('--namespace', namespace, '--log-level', 'warn');
  // The server otherwise phones home to check for a newer version on every start: pointless offline and in CI.
  args.push('--dynamic-config-value', 'frontend.enableServerVersionCheck=false');
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  // Effective only when the DB is created; ensureSearchAttributes below covers an existing DB file.
  args.push(...searchAttributeCliArgs());

  const address = dialAddress(ip, port);
  log(`Starting Temporal dev server on ${address}${opts.dbFile ? ` (db ${opts.dbFile})` : ' (in-memory)'}`);
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const tail = new OutputTail();
  // Always drain both pipes: a full pipe buffer would block the server's logging and with it the server.
  child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));

  let exited = false;
  const exitPromise = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      exited = true;
      resolve(`could not be started: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      exited = true;
      resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`);
    });
  });

  // A dev server must not outlive the process that started it (a test run that ends without teardown, a CLI that
  // calls process.exit). Only synchronous work is possible in 'exit', so send SIGTERM and let the server shut down
  // on its own. Signals need no handler here: the child is in our process group, so a Ctrl-C or a group-wide kill
  // from CI reaches it directly, and installing signal handlers would change the host process's own behaviour.
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= stopChild(child, exitPromise, () => exited).finally(() => process.off('exit', killOnExit));
    return stopping;
  };

  const earlyExit = exitPromise.then((how) => {
    throw new DevServerStartError(`The Temporal dev server (${opts.cliPath}) ${how} during start-up:\n${tail.text()}`);
  });
  const abandon = new AbortController();
  void exitPromise.then(() => abandon.abort());
  try {
    await Promise.race([waitUntilReady(ip, port, namespace, startTimeoutMs, abandon.signal), earlyExit]);
  } catch (err) {
    abandon.abort();
    await stop();
    if (err instanceof DevServerStartError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DevServerStartError(
      `The Temporal dev server on ${address} did not become ready: ${reason}\n${tail.text()}`,
    );
  }
  // Once the server stops (normally, much later) `earlyExit` rejects; that is no error, so it must not surface.
  earlyExit.catch(() => undefined);
  // A crash after start-up would otherwise go unnoticed until the next RPC fails with "connection refused".
  void exitPromise.then((how) => {
    if (!stopping) log(`The Temporal dev server on ${address} ${how} unexpectedly:\n${tail.text()}`);
  });

  return {
    address,
    namespace,
    uiUrl: uiPort === null ? null : `http://${dialAddress(ip, uiPort)}`,
    pid: child.pid ?? -1,
    stop,
  };
}

async function stopChild(child: ChildProcess, exitPromise: Promise<string>, hasExited: () => boolean): Promise<void> {
  if (hasExited()) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  try {
    if ((await Promise.race([exitPromise, grace])) === 'timeout' && !hasExited()) {
      child.kill('SIGKILL');
      await exitPromise;
    }
  } finally {
    // A pending 5 s timer would keep the caller's process (jest, a CLI) alive long after the server is gone.
    clearTimeout(timer);
  }
}

/**
 * Polls until the frontend answers getSystemInfo and knows the namespace, then registers the search attributes.
 * The port opens before the frontend is fully wired up, so "accepts TCP" alone is not "ready". `signal` aborts
 * the wait (the process died, or start-up is being abandoned) and closes an in-flight gRPC attempt at once, so
 * no channel or timer outlives a failed start.
 */
async function waitUntilReady(
  host: string,
  port: number,
  namespace: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const address = dialAddress(host, port);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    if (signal.aborted) throw new Error('start-up was abandoned');
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms (last error: ${describe(lastError)})`);
    }
    // Cheap TCP check first: a gRPC attempt against a closed port leaves deadline timers pending for the whole
    // connectTimeout even after close(), which would hold the caller's process open after a failed start.
    if (!(await acceptsTcp(host, port))) {
      lastError = new Error(`nothing accepts connections on ${address} yet`);
      await sleep(100);
      continue;
    }
    // lazy + ensureConnected rather than connect(): a failed connect() leaks its gRPC channel (nothing to close),
    // and leaked channels keep the process (jest's, for one) alive after everything else has ended.
    const connection = Connection.lazy({ address, connectTimeout: '2s' });
    const closeOnAbort = (): void => void connection.close();
    signal.addEventListener('abort', closeOnAbort);
    try {
      await connection.ensureConnected();
      await connection.workflowService.describeNamespace({ namespace });
      await ensureSearchAttributes(connection, namespace);
      return;
    } catch (err) {
      lastError = err;
    } finally {
      signal.removeEventListener('abort', closeOnAbort);
      await connection.close();
    }
    await sleep(200);
  }
}

/** True if a TCP connection to host:port succeeds within a second. */
function acceptsTcp(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: dialHost(ip), port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function describe(err: unknown): string {
  if (err === null) return 'none';
  return err instanceof Error ? err.message : JSON.stringify(err);
}
