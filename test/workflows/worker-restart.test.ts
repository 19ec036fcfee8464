/**
 * Durability: the worker process is killed (SIGKILL, no goodbye) while the run waits for replication; a new
 * worker process picks the run up and it finishes with exactly one gMSA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { progressQuery } from '../../workflows/definitions';
import type { ProvisionResult } from '../../runbook/progress';
import type { provisionGmsaRemoting } from '../../workflows';
import {
  connectTemporal,
  sampleRequest,
  startTestLab,
  uniqueTaskQueue,
  type TemporalTestEnv,
  type TestLab,
} from '../support/runbook-env';

const WORKER_MAIN = join(__dirname, '..', '..', 'dist', 'workers', 'main.js');

let env: TemporalTestEnv;
let lab: TestLab;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run \`npm run build\` (npm test does)`);
  env = await connectTemporal();
  lab = await startTestLab();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await lab.close();
  await env.close();
});

/** A worker in its own process, as in production; resolves once it polls. */
function spawnWorker(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      GMSA_TASK_QUEUE: taskQueue,
      GMSA_LAB_URL: lab.url,
      GMSA_HOST_POLL_MS: '20',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('WORKER_READY')) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
  });
}

test('a worker killed during the replication wait: a new worker finishes the run with exactly one gMSA', async () => {
  const taskQueue = uniqueTaskQueue('restart');
  await lab.admin.addFault({ kind: 'replication-blocked', dc: 'dc4.lab.local' });
  const first = await spawnWorker(taskQueue);

  const request = sampleRequest({ replication: { pollIntervalSeconds: 1, timeoutSeconds: 120 } });
  const handle = await env.client.workflow.start<typeof provisionGmsaRemoting>('provisionGmsaRemoting', {
    taskQueue,
    workflowId: `gmsa-provision-${request.ticket.key}`,
    args: [request],
  });
  for (let i = 0; ; i++) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.currentStep === 'wait-replication' && p.replication) break;
    if (i > 400) throw new Error('the run never reached the replication wait');
    await new Promise((r) => setTimeout(r, 50));
  }

  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  await lab.admin.clearFaults(); // dc4 catches up while no worker runs
  await spawnWorker(taskQueue);

  const result: ProvisionResult = await handle.result();
  expect(result.status).toBe('succeeded');
  expect(Object.values(result.identities)).toEqual(['LAB\\TestgMSA$', 'LAB\\TestgMSA$']);
  const creates = (await lab.admin.events()).filter((e) => e.op === 'createServiceAccount');
  expect(creates).toHaveLength(1);
  expect(await lab.backend.directory.findAccountsNamed('dc1.lab.local', 'TestgMSA')).toHaveLength(1);
});
