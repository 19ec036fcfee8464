/**
 * What workflow tests share: a real Temporal client (the server comes from global setup), a lab domain on a
 * free loopback port with its state in a temp dir, and a worker on a task queue of the test's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createLabBackend, LabAdminClient } from '../../backends/lab/client';
import { startLabServer } from '../../backends/lab/server';
import type { Backend, DirectoryPort } from '../../backends/ports';
import type { RunbookRequestInput } from '../../runbook/request';
import {
  createRunbookWorker,
  workflowInterceptorModules,
  workflowPreloadModules,
  workflowsPath,
} from '../../workers/worker';
import type { provisionGmsaRemoting } from '../../workflows';

/** Lab latencies × 0.002: intra-site replication 30 ms, inter-site 1.8 s, WinRM restart 16 ms. */
export const TEST_TIME_SCALE = 0.002;

// Workers log every state change and retried activity at INFO; tests want only what went wrong.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed by another suite in this process
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: workflowInterceptorModules(),
    preloadModules: workflowPreloadModules(),
    logger: quietLogger,
  });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface TestLab {
  url: string;
  stateFile: string;
  admin: LabAdminClient;
  backend: Backend;
  close(): Promise<void>;
}

export async function startTestLab(
  opts: { timeScale?: number; dir?: string; directory?: DirectoryPort } = {},
): Promise<TestLab> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gmsa-lab-'));
  const stateFile = join(dir, 'lab.json');
  const server = await startLabServer({
    stateFile,
    port: 0,
    timeScale: opts.timeScale ?? TEST_TIME_SCALE,
    directory: opts.directory,
  });
  return {
    url: server.url,
    stateFile,
    admin: new LabAdminClient(server.url),
    backend: createLabBackend(server.url),
    async close() {
      await server.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TemporalTestEnv {
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

export async function connectTemporal(): Promise<TemporalTestEnv> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup starts the server');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }),
    nativeConnection,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

let queueCounter = 0;
export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${process.pid}-${Date.now()}-${queueCounter++}`;
}

export async function createTestWorker(env: TemporalTestEnv, backend: Backend, taskQueue: string): Promise<Worker> {
  return createRunbookWorker({
    connection: env.nativeConnection,
    taskQueue,
    backend,
    workflowBundle: await workflowBundle(),
    hostOptions: { pollIntervalMs: 20 },
    shutdownGraceTime: '1s',
  });
}

let ticketCounter = 0;
/** The seed scenario on the lab: TestgMSA for remoting to two HQ hosts. Fast replication polling for tests. */
export function sampleRequest(overrides: Partial<RunbookRequestInput> = {}): RunbookRequestInput {
  return {
    ticket: { key: `TEST-${Date.now() % 1_000_000_000}${ticketCounter++}` },
    domain: { netbios: 'LAB', dns: 'lab.local' },
    gmsa: { name: 'TestgMSA' },
    hosts: ['server1.lab.local', 'server2.lab.local'],
    endpoint: {
      name: 'GmsaRemoting',
      roleDefinitions: { 'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRemotingOperator'] } },
      transcriptDirectory: 'C:\\ProgramData\\JEA\\Transcripts',
    },
    replication: { pollIntervalSeconds: 0.2, timeoutSeconds: 30 },
    ...overrides,
  };
}

export interface RunbookHarness {
  readonly env: TemporalTestEnv;
  readonly lab: TestLab;
  readonly taskQueue: string;
  /** Start the provisioning workflow for a request, with the ticket's workflow id. */
  start(request: RunbookRequestInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof provisionGmsaRemoting>>;
}

/**
 * Registers beforeAll/afterAll for a suite: a Temporal client, a lab (or the backend a suite builds on it), and a
 * worker polling a task queue of the suite's own. Fields are ready inside tests.
 */
export function useRunbookHarness(
  name: string,
  opts: { lab?: Parameters<typeof startTestLab>[0]; backend?: (lab: TestLab) => Backend } = {},
): RunbookHarness {
  let env: TemporalTestEnv | undefined;
  let lab: TestLab | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const taskQueue = uniqueTaskQueue(name);
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the runbook harness is used outside a test');
    return value;
  };
  beforeAll(async () => {
    env = await connectTemporal();
    lab = await startTestLab(opts.lab);
    worker = await createTestWorker(env, opts.backend ? opts.backend(lab) : lab.backend, taskQueue);
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await lab?.close();
    await env?.close();
  });
  return {
    get env() {
      return ready(env);
    },
    get lab() {
      return ready(lab);
    },
    taskQueue,
    start(request) {
      return ready(env).client.workflow.start<typeof provisionGmsaRemoting>('provisionGmsaRemoting', {
        taskQueue,
        workflowId: `gmsa-provision-${request.ticket.key}`,
        args: [request],
      });
    },
  };
}
