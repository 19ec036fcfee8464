/**
 * What an operator of the worker process relies on: every line on stdout is one JSON object; activity lines name
 * the workflow, the run, the ticket and the step; Prometheus `/metrics` carries the SDK's metrics and the project's
 * own; the Jira API token the worker uses never appears in any line.
 */
import type { provisionGmsaRemoting } from '../../workflows';
import { findFreePort } from '../../temporal/dev-server';
import { startStandIn, type StandIn } from '../support/http-stand-in';
import { startProcessStack, type ManagedProcess, type ProcessStack } from '../support/processes';
import { sampleRequest } from '../support/runbook-env';

const JIRA_TOKEN = 'jira-token-never-logged-7f3a';
const JIRA_EMAIL = 'automation@example.com';

let stack: ProcessStack;
let jira: StandIn;
let worker: ManagedProcess;
let metricsUrl: string;

beforeAll(async () => {
  stack = await startProcessStack();
  // Answers like Jira Cloud: comments are created, the issue offers no transitions.
  jira = await startStandIn((req) =>
    req.method === 'GET' ? { status: 200, body: { transitions: [] } } : { status: 201, body: { id: '1' } },
  );
  const metricsPort = await findFreePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  worker = await stack.startWorker({
    GMSA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    GMSA_LOG_LEVEL: 'info',
    GMSA_JIRA_BASE_URL: jira.url,
    GMSA_JIRA_EMAIL: JIRA_EMAIL,
    GMSA_JIRA_API_TOKEN: JIRA_TOKEN,
  });
});

afterAll(async () => {
  await stack?.close();
  await jira?.close();
});

test('a run leaves JSON log lines with workflow, run, ticket and step, metrics on /metrics, and no secret', async () => {
  const request = sampleRequest({ ticket: { key: `OPS-${Date.now() % 100000}`, system: 'jira' } });
  const workflowId = `gmsa-provision-${request.ticket.key}`;
  const handle = await stack.client.workflow.start<typeof provisionGmsaRemoting>('provisionGmsaRemoting', {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [request],
  });
  const result = await handle.result();
  expect(result.status).toBe('succeeded');
  const runId = handle.firstExecutionRunId;
  // The worker really talked to "Jira" with the token (so a leak had every chance to happen).
  expect(jira.requests.some((r) => r.method === 'POST' && typeof r.headers.authorization === 'string')).toBe(true);

  const out = worker.output();
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const records = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`a worker output line is not JSON: ${line}`);
    }
  });
  const activityLines = records.filter((r) => r.workflowId === workflowId && typeof r.activity === 'string');
  expect(activityLines.length).toBeGreaterThan(10);
  for (const r of activityLines) {
    expect(r).toMatchObject({ runId, ticket: request.ticket.key, service: 'gmsa-worker' });
    expect(typeof r.step).toBe('string');
  }
  const steps = new Set(activityLines.map((r) => r.step));
  expect([...steps]).toEqual(expect.arrayContaining(['preflight', 'create-gmsa', 'wait-replication', 'hosts']));
  const created = activityLines.find((r) => r.activity === 'ensureServiceAccount' && r.msg === 'activity completed');
  expect(created).toMatchObject({ step: 'create-gmsa' });
  expect(typeof created?.durationMs).toBe('number');

  expect(out).not.toContain(JIRA_TOKEN);
  expect(out).not.toContain(Buffer.from(`${JIRA_EMAIL}:${JIRA_TOKEN}`).toString('base64'));

  const metrics = await (await fetch(metricsUrl)).text();
  // The project's own, emitted by the workflow…
  expect(metrics).toMatch(/^gmsa_runbooks_started_total\{[^}]*\} 1$/m);
  expect(metrics).toMatch(/^gmsa_runbooks_finished_total\{[^}]*outcome="succeeded"[^}]*\} 1$/m);
  expect(metrics).toMatch(/^gmsa_step_duration_seconds_bucket\{[^}]*step="wait-replication"/m);
  expect(metrics).toMatch(/^gmsa_replication_wait_seconds_count\{[^}]*\} 1$/m);
  // …and the SDK's.
  expect(metrics).toMatch(/^temporal_workflow_completed_total\{/m);
  expect(metrics).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
  expect(metrics).not.toContain(JIRA_TOKEN);
});
