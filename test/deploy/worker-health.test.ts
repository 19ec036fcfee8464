/**
 * The worker container's health check (docker-compose.yml → `node dist/temporal/worker-health-main.js`), run as
 * compose runs it, against the test run's real Temporal server: unhealthy while no worker on this host polls the
 * task queue, healthy once one does, and a bad setting is unhealthy with the variable named.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLabBackend } from '../../backends/lab/client';
import { connectTemporal, createTestWorker, uniqueTaskQueue } from '../support/runbook-env';

const HEALTH = join(__dirname, '..', '..', 'dist', 'temporal', 'worker-health-main.js');

function health(env: Record<string, string>) {
  const run = spawnSync(process.execPath, [HEALTH], {
    encoding: 'utf8',
    // The worker's own variables: the check reads the same configuration (a lab URL is required for GMSA_BACKEND=lab).
    env: { ...process.env, GMSA_LAB_URL: 'http://127.0.0.1:9', ...env },
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  if (!existsSync(HEALTH)) throw new Error(`${HEALTH} is missing: run \`npm run build\` (npm test does)`);
});

test('unhealthy without a polling worker, healthy with one', async () => {
  const taskQueue = uniqueTaskQueue('health');
  const before = health({ GMSA_TASK_QUEUE: taskQueue });
  expect(before.status).toBe(1);
  expect(before.stderr).toMatch(
    new RegExp(`^unhealthy: no recent workflow or activity poll .* on task queue ${taskQueue}`),
  );

  const env = await connectTemporal();
  try {
    const worker = await createTestWorker(env, createLabBackend('http://127.0.0.1:9'), taskQueue);
    await worker.runUntil(async () => {
      // Pollers show up in DescribeTaskQueue once the worker's first long polls are in.
      const deadline = Date.now() + 20_000;
      let run = health({ GMSA_TASK_QUEUE: taskQueue });
      while (run.status !== 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        run = health({ GMSA_TASK_QUEUE: taskQueue });
      }
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`healthy: the worker on`);
    });
  } finally {
    await env.close();
  }
});

test('a bad setting is unhealthy, naming the variable', () => {
  const run = health({ TEMPORAL_NAMESPACE: 'not a namespace' });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('unhealthy: invalid worker configuration:');
  expect(run.stderr).toContain('TEMPORAL_NAMESPACE: must be a namespace name');
});
