/**
 * The reliability suites' stack: the Temporal dev server, the lab and the workers each in a process of their own,
 * so that killing one is real (SIGKILL, no goodbye) and restarting one keeps only what it persisted (the Temporal
 * SQLite file, the lab's JSON state file). Everything binds to loopback on ports chosen once, so a restarted
 * process comes back at the same address and the clients reconnect on their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createLabBackend, LabAdminClient } from '../../backends/lab/client';
import type { Backend } from '../../backends/ports';
import { locateTemporalCli } from '../../temporal/cli-locator';
import { findFreePort, startDevServer, type DevServer } from '../../temporal/dev-server';
import { TEST_TIME_SCALE } from './runbook-env';

const DIST = join(__dirname, '..', '..', 'dist');
const WORKER_MAIN = join(DIST, 'workers', 'main.js');
const LAB_MAIN = join(DIST, 'backends', 'lab', 'main.js');

/** A child process that printed its ready line; `output` keeps what it said, for failure messages. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves once the process has exited (at once if it already has). */
  readonly exited: Promise<void>;
}

/**
 * Spawn `node script` and resolve once stdout shows `readyMarker`; reject with the process's output if it exits
 * first or stays silent for `timeoutMs`.
 */
export function spawnNode(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyMarker: string,
  timeoutMs = 30_000,
): Promise<ManagedProcess & { readyLine: string }> {
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` (npm test does)`);
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} printed no ${readyMarker} within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready:\n${output}`));
    };
    child.once('exit', onExit);
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const line = output.split('\n').find((l) => l.includes(readyMarker));
      if (line === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ child, output: () => output, exited, readyLine: line.trim() });
    });
  });
}

/** SIGKILL (or the given signal) and wait for the exit. */
export async function killProcess(p: ManagedProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

export interface ProcessStackOptions {
  /** Lab time scale (default the tests' 0.002). */
  timeScale?: number;
  /** Worker host-poll interval in ms (default 20). */
  hostPollMs?: number;
}

export interface ProcessStack {
  readonly dir: string;
  readonly temporalAddress: string;
  readonly labUrl: string;
  readonly taskQueue: string;
  readonly client: Client;
  readonly admin: LabAdminClient;
  /** The lab's ports, for reading the directory and hosts the way the worker sees them. */
  readonly backend: Backend;
  /** Start one more worker process on the stack's task queue (with extra env, if given); resolves once it polls. */
  startWorker(extraEnv?: NodeJS.ProcessEnv): Promise<ManagedProcess>;
  /** SIGKILL every worker process of the stack. */
  killWorkers(): Promise<void>;
  /** SIGKILL the lab process and start it again on the same port and state file. */
  restartLab(opts?: { downMs?: number }): Promise<void>;
  /** Stop the Temporal server (SIGTERM, SIGKILL after 5 s) and start it again on the same port and SQLite file. */
  restartTemporal(opts?: { downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

let stackCounter = 0;

export async function startProcessStack(opts: ProcessStackOptions = {}): Promise<ProcessStack> {
  const dir = mkdtempSync(join(tmpdir(), 'gmsa-stack-'));
  const dbFile = join(dir, 'temporal.db');
  const stateFile = join(dir, 'lab.json');
  const taskQueue = `reliability-${process.pid}-${Date.now()}-${stackCounter++}`;
  const cliPath = await locateTemporalCli();
  const temporalPort = await findFreePort();
  const labPort = await findFreePort();
  const timeScale = String(opts.timeScale ?? TEST_TIME_SCALE);

  const startTemporal = (): Promise<DevServer> =>
    startDevServer({ cliPath, dbFile, port: temporalPort, headless: true, startTimeoutMs: 60_000 });
  const startLab = (): Promise<ManagedProcess> =>
    spawnNode(
      LAB_MAIN,
      ['--state', stateFile, '--port', String(labPort), '--time-scale', timeScale],
      process.env,
      'LAB_URL=',
    );

  let temporal = await startTemporal();
  let lab = await startLab();
  const labUrl = `http://127.0.0.1:${labPort}`;
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const workers: ManagedProcess[] = [];

  const stack: ProcessStack = {
    dir,
    temporalAddress: temporal.address,
    labUrl,
    taskQueue,
    client,
    admin: new LabAdminClient(labUrl),
    backend: createLabBackend(labUrl),
    async startWorker(extraEnv = {}) {
      const worker = await spawnNode(
        WORKER_MAIN,
        [],
        {
          ...process.env,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_NAMESPACE: temporal.namespace,
          GMSA_TASK_QUEUE: taskQueue,
          GMSA_LAB_URL: labUrl,
          GMSA_HOST_POLL_MS: String(opts.hostPollMs ?? 20),
          ...extraEnv,
        },
        'WORKER_READY',
      );
      workers.push(worker);
      return worker;
    },
    async killWorkers() {
      await Promise.all(workers.splice(0).map((w) => killProcess(w)));
    },
    async restartLab({ downMs = 0 } = {}) {
      await killProcess(lab);
      if (downMs > 0) await sleep(downMs);
      lab = await startLab();
    },
    async restartTemporal({ downMs = 0 } = {}) {
      await temporal.stop();
      if (downMs > 0) await sleep(downMs);
      temporal = await startTemporal();
    },
    async close() {
      await stack.killWorkers();
      await killProcess(lab);
      await connection.close().catch(() => undefined);
      await temporal.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reliability suites run a short slice in `npm test` and everything under `npm run test:reliability`. */
export function fullReliabilityRun(): boolean {
  return process.env.GMSA_RELIABILITY === 'full';
}
