/**
 * The benchmark's stack, all real: a Temporal dev server (temporal/server.ts, headless, in memory), lab processes
 * (backends/lab/main.js) and worker processes (bench/worker.js) on loopback, talking gRPC and HTTP as in
 * production. Workers are processes of their own so their peak RSS is the worker's alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { LabAdminClient } from '../backends/lab/client';
import { obtainTemporalServer, type TemporalServer } from '../temporal/server';

const DIST = join(__dirname, '..');
const LAB_MAIN = join(DIST, 'backends', 'lab', 'main.js');
const WORKER_MAIN = join(DIST, 'bench', 'worker.js');

/** A child process that printed its ready line. Its output is drained (a full pipe would block it) and tailed. */
export interface ChildHandle {
  readonly pid: number;
  readonly readyLine: string;
  output(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

function spawnReady(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  marker: string,
  nodeArgs: string[] = [],
): Promise<ChildHandle> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let ready = false;
  const keep = (chunk: Buffer): void => {
    // Only the start-up output and the last few KB matter (ticket log lines would otherwise pile up).
    tail = ready ? (tail + chunk.toString()).slice(-8192) : tail + chunk.toString();
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} printed no ${marker} within 60 s:\n${tail}`));
    }, 60_000);
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready:\n${tail}`));
    };
    child.once('exit', onExit);
    child.stderr?.on('data', keep);
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (ready) return;
      const line = tail.split('\n').find((l) => l.includes(marker));
      if (line === undefined) return;
      ready = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ pid: child.pid ?? -1, readyLine: line.trim(), output: () => tail, stop });
    });
  });
}

export interface LabProcess {
  readonly pid: number;
  readonly url: string;
  readonly admin: LabAdminClient;
  readonly timeScale: number;
  readonly hosts: number;
  stop(): Promise<void>;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly taskQueue: string;
  readonly hostPollMs: number;
  /** VmHWM: the most resident memory the process has had since start or since resetPeakRss. */
  peakRssMb(): number;
  /** Writes 5 to /proc/<pid>/clear_refs (Linux ≥ 4.0), so the next peak is one scenario's own. */
  resetPeakRss(): boolean;
  stop(): Promise<void>;
}

export interface WorkerSettings {
  lab: LabProcess;
  /** GMSA_HOST_POLL_MS for the worker; by default the production 500 ms compressed like the lab's latencies. */
  hostPollMs?: number;
}

/** The worker's production default host poll (workers/config.ts), in real-world milliseconds. */
const HOST_POLL_MS = 500;
/** The smallest GMSA_HOST_POLL_MS the worker accepts. */
const MIN_HOST_POLL_MS = 10;

/**
 * A time-scaled lab compresses every real-world wait; the runbook's own poll intervals are compressed by the same
 * factor, or a run would measure poll granularity the real world does not have (500 ms against a 100 ms restart).
 */
export function scaledHostPollMs(timeScale: number): number {
  return Math.max(MIN_HOST_POLL_MS, Math.round(HOST_POLL_MS * timeScale));
}

export interface BenchStack {
  readonly temporal: TemporalServer;
  /** The dev server's pid (for its CPU time); undefined for an external server. */
  readonly temporalPid: number | undefined;
  readonly client: Client;
  startLab(opts: { timeScale: number; hosts: number }): Promise<LabProcess>;
  startWorker(settings: WorkerSettings): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * Where the labs keep their state files: memory-backed /dev/shm when there is one. The lab replaces its whole
 * state file after every change (write, then rename over the old one); on this machine's ext4 the renames were a
 * third of the lab's CPU at 200 concurrent runs. That is the simulation's cost, not the runbook's, and it shares
 * the CPUs with the worker being measured. Kill-safety, which is what the file is for, is not exercised here.
 */
function stateRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The pid of this process's child whose command line contains `needle` (the dev server), if any. */
function childPid(needle: string): number | undefined {
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    const children = readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim();
    for (const pid of children.split(/\s+/).filter(Boolean).map(Number)) {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) return pid;
    }
  }
  return undefined;
}

function procStatusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]);
}

/**
 * Two dev-server constants would otherwise be what the figures measure:
 * - it runs one history shard, and each of its queue readers (transfer: activity and workflow task dispatch;
 *   timer; visibility) polls at most `history.*ProcessorMaxPollRPS` = 20 times a second, so any chain of tasks
 *   faster than that (activity after activity) is dispatched on a 50 ms grid whatever the workflow does;
 * - a timer never fires sooner than `history.timerProcessorMaxTimeShift` = 1 s after it was created. Against the
 *   real world's 15 s replication poll that is noise; in a lab compressed 100× it is 100 s of real time.
 * The caps are lifted and the timer floor is compressed like the lab (1 s × time scale, at least 10 ms);
 * everything else is the dev server as shipped. `--server-defaults` measures without this.
 */
export function devServerTuning(timeScale: number): Record<string, number | string> {
  return {
    'history.transferProcessorMaxPollRPS': 1000,
    'history.timerProcessorMaxPollRPS': 1000,
    'history.visibilityProcessorMaxPollRPS': 1000,
    'history.timerProcessorMaxTimeShift': `${Math.max(10, Math.round(1000 * timeScale))}ms`,
  };
}

export async function startBenchStack(
  log: (line: string) => void,
  opts: { dynamicConfig?: Record<string, number | string> } = {},
): Promise<BenchStack> {
  const dir = mkdtempSync(join(stateRoot(), 'gmsa-bench-'));
  const temporal = await obtainTemporalServer({ headless: true, log, dynamicConfig: opts.dynamicConfig });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const children: ChildHandle[] = [];
  let labs = 0;
  let workers = 0;

  return {
    temporal,
    temporalPid: temporal.external ? undefined : childPid('start-dev'),
    client,
    async startLab({ timeScale, hosts }) {
      const stateFile = join(dir, `lab-${labs++}.json`);
      const lab = await spawnReady(
        LAB_MAIN,
        ['--state', stateFile, '--time-scale', String(timeScale), '--hosts', String(hosts)],
        process.env,
        'LAB_URL=',
      );
      children.push(lab);
      const url = lab.readyLine.slice(lab.readyLine.indexOf('LAB_URL=') + 'LAB_URL='.length);
      return { pid: lab.pid, url, admin: new LabAdminClient(url), timeScale, hosts, stop: () => lab.stop() };
    },
    async startWorker({ lab, hostPollMs }) {
      const taskQueue = `bench-${process.pid}-${workers++}`;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: temporal.namespace,
        GMSA_TASK_QUEUE: taskQueue,
        GMSA_BACKEND: 'lab',
        GMSA_LAB_URL: lab.url,
        GMSA_HOST_POLL_MS: String(hostPollMs ?? scaledHostPollMs(lab.timeScale)),
      };
      // BENCH_WORKER_NODE_ARGS: Node flags for the worker alone, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (Node
      // refuses --cpu-prof in NODE_OPTIONS) to see where a figure's time goes.
      const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const worker = await spawnReady(WORKER_MAIN, [], env, 'WORKER_READY', nodeArgs);
      children.push(worker);
      return {
        pid: worker.pid,
        taskQueue,
        hostPollMs: Number(env.GMSA_HOST_POLL_MS),
        peakRssMb: () => procStatusKb(worker.pid, 'VmHWM') / 1024,
        resetPeakRss: () => {
          try {
            writeFileSync(`/proc/${worker.pid}/clear_refs`, '5');
            return true;
          } catch {
            return false;
          }
        },
        stop: () => worker.stop(),
      };
    },
    async close() {
      await Promise.all(children.map((c) => c.stop()));
      await connection.close().catch(() => undefined);
      await temporal.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
