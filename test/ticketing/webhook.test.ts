/**
 * The webhook server over real HTTP (global fetch on 127.0.0.1), a real Temporal server, the lab and a worker, so
 * a started run really runs. Every delivery is signed with the same functions senders are documented to use
 * (ticketing/webhook/signatures.ts); every test uses its own ticket keys and gMSA names.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import {
  DEV_WEBHOOK_SECRETS,
  loadWebhookConfig,
  resolveWebhookConfig,
  sampleWebhookConfig,
  sampleWebhookConfigFile,
  type WebhookConfig,
} from '../../ticketing/webhook/config';
import { mapPayload } from '../../ticketing/webhook/mapping';
import { createLogger } from '../../observability/logger';
import { startWebhookServer, type WebhookServer } from '../../ticketing/webhook/server';
import {
  signHubSignature,
  signServiceNow,
  standardWebhookHeaders,
  verifyStandardWebhook,
} from '../../ticketing/webhook/signatures';
import {
  connectTemporal,
  createTestWorker,
  sampleRequest,
  startTestLab,
  uniqueTaskQueue,
  type TemporalTestEnv,
  type TestLab,
} from '../support/runbook-env';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const UI = 'http://ui.test:8233';
const GENERIC_SECRET = DEV_WEBHOOK_SECRETS.GMSA_GENERIC_WEBHOOK_SECRET;
const JIRA_SECRET = DEV_WEBHOOK_SECRETS.GMSA_JIRA_WEBHOOK_SECRET;
const JIRA_TOKEN = DEV_WEBHOOK_SECRETS.GMSA_JIRA_AUTOMATION_TOKEN;
const SN_SECRET = DEV_WEBHOOK_SECRETS.GMSA_SERVICENOW_WEBHOOK_SECRET;

let env: TemporalTestEnv;
let lab: TestLab;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
let dir: string;
let config: WebhookConfig;
let server: WebhookServer;
const workflowIds = new Set<string>();

beforeAll(async () => {
  env = await connectTemporal();
  lab = await startTestLab();
  taskQueue = uniqueTaskQueue('webhook');
  worker = await createTestWorker(env, lab.backend, taskQueue);
  running = worker.run();
  dir = mkdtempSync(join(tmpdir(), 'gmsa-webhook-'));
  config = sampleWebhookConfig({ replayStoreFile: join(dir, 'replay.json') });
  server = await startServer(config);
});

afterAll(async () => {
  await server.close();
  // Runs left waiting (approval) or going would otherwise outlive the worker and fail later in another suite's log.
  await Promise.all(
    [...workflowIds].map((id) =>
      env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
  worker.shutdown();
  await running;
  await lab.close();
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every JSON line the server under test logged (its logger writes here instead of stdout). */
const logLines: string[] = [];

function startServer(c: WebhookConfig): Promise<WebhookServer> {
  return startWebhookServer({
    client: env.client,
    namespace: env.client.options.namespace,
    taskQueue,
    uiUrl: UI,
    config: c,
    logger: createLogger({ service: 'gmsa-webhook', destination: { write: (line) => void logLines.push(line) } }),
  });
}

let counter = 0;
/** Ticket keys and gMSA names of this test file only (sAMAccountName ≤ 14 characters). */
function unique(prefix: string): { key: string; gmsa: string } {
  const n = `${Date.now() % 1_000_000}${counter++}`;
  return { key: `${prefix}-${n}`, gmsa: `wh${n}`.slice(0, 14) };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(route: string, body: string, headers: Record<string, string>, base = server.url): Promise<Answer> {
  const res = await fetch(`${base}/webhooks/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function postGeneric(body: string, opts: { id?: string; timestamp?: number; secret?: string; base?: string } = {}) {
  return post('generic', body, { ...standardWebhookHeaders(opts.secret ?? GENERIC_SECRET, body, opts) }, opts.base);
}

let deliveries = 0;
function postJiraAdmin(body: string, opts: { secret?: string; id?: string } = {}) {
  return post('jira', body, {
    'x-hub-signature': signHubSignature(opts.secret ?? JIRA_SECRET, body),
    'x-atlassian-webhook-identifier': opts.id ?? `wh-${process.pid}-${Date.now()}-${deliveries++}`,
  });
}

function postServiceNow(body: string, secret = SN_SECRET) {
  return post('servicenow', body, { 'x-runbook-signature': signServiceNow(secret, body) });
}

/** A request with its own gMSA and endpoint name: runs share the lab, and an existing endpoint is never replaced. */
function genericBody(key: string, gmsa: string, extra: Record<string, unknown> = {}): string {
  const request = sampleRequest({ ticket: { key }, gmsa: { name: gmsa }, ...extra });
  return JSON.stringify({ ...request, endpoint: { ...request.endpoint, name: `Ep-${gmsa}` } });
}

function jiraIssue(key: string, fields: Record<string, unknown>, event = 'jira:issue_created'): string {
  const sample = JSON.parse(readFileSync(join(EXAMPLES, 'webhooks', 'jira-admin.json'), 'utf8')) as {
    issue: { fields: Record<string, unknown> };
  };
  return JSON.stringify({
    ...sample,
    webhookEvent: event,
    issue: { ...sample.issue, key, fields: { ...sample.issue.fields, ...fields } },
  });
}

/** Runs of a workflow id, from visibility (eventually consistent: wait until at least one shows up). */
async function runsOf(workflowId: string): Promise<number> {
  workflowIds.add(workflowId);
  const deadline = Date.now() + 10_000;
  for (;;) {
    let n = 0;
    for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
    if (n > 0 || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectNoWorkflow(ticketKey: string): Promise<void> {
  await expect(env.client.workflow.getHandle(`gmsa-provision-${ticketKey}`).describe()).rejects.toBeInstanceOf(
    WorkflowNotFoundError,
  );
}

describe('valid signed deliveries start exactly one run', () => {
  test('generic (Standard Webhooks): 202 with the run and its UI link, and the run succeeds', async () => {
    const t = unique('GEN');
    const answer = await postGeneric(JSON.stringify({ request: JSON.parse(genericBody(t.key, t.gmsa)) as unknown }));

    expect(answer.status).toBe(202);
    const workflowId = `gmsa-provision-${t.key}`;
    const runId = String(answer.body.runId);
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body).toEqual({
      workflowId,
      runId,
      uiUrl: `${UI}/namespaces/default/workflows/${workflowId}/${runId}/history`,
    });
    expect(await runsOf(workflowId)).toBe(1);
    const result = (await env.client.workflow.getHandle(workflowId).result()) as { status: string };
    expect(result.status).toBe('succeeded');
  });

  test('ten concurrent duplicate deliveries of one ticket: one run, one 202, nine 200 with the same run', async () => {
    const t = unique('DUP');
    const body = genericBody(t.key, t.gmsa);
    const answers = await Promise.all(Array.from({ length: 10 }, () => postGeneric(body)));

    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(new Set(answers.map((a) => a.body.runId)).size).toBe(1);
    expect(await runsOf(`gmsa-provision-${t.key}`)).toBe(1);
  });

  test('jira admin webhook (X-Hub-Signature): mapped by configuration; a redelivery under a new id answers 200', async () => {
    const t = unique('OPS');
    const body = jiraIssue(t.key, { customfield_10050: t.gmsa });
    const first = await postJiraAdmin(body);
    const again = await postJiraAdmin(body);

    expect(first.status).toBe(202);
    expect(again).toEqual({ status: 200, body: { ...first.body, duplicate: true } });
    const workflowId = `gmsa-provision-${t.key}`;
    expect(await runsOf(workflowId)).toBe(1);
    const { args } = await workflowInput(workflowId);
    expect(args).toMatchObject({
      ticket: { key: t.key, system: 'jira', url: `https://example.atlassian.net/browse/${t.key}` },
      gmsa: { name: t.gmsa, description: 'Remoting identity for the nightly report job' },
      hosts: ['server1.lab.local', 'server2.lab.local'],
      requestedBy: 'dana@lab.local',
    });
  });

  test('jira automation (static token header, Jira-format issue data)', async () => {
    const t = unique('AUT');
    const sample = JSON.parse(readFileSync(join(EXAMPLES, 'webhooks', 'jira-automation.json'), 'utf8')) as {
      issue: { fields: Record<string, unknown> };
    };
    const body = JSON.stringify({
      issue: { ...sample.issue, key: t.key, fields: { ...sample.issue.fields, customfield_10050: t.gmsa } },
    });

    expect((await post('jira', body, { 'x-runbook-token': 'not-the-token-at-all' })).status).toBe(401);
    await expectNoWorkflow(t.key);
    const answer = await post('jira', body, { 'X-Runbook-Token': JIRA_TOKEN });
    expect(answer.status).toBe(202);
    expect(await runsOf(`gmsa-provision-${t.key}`)).toBe(1);
  });

  test('servicenow (base64 HMAC header): catalog variables mapped by configuration', async () => {
    const n = unique('RITM');
    const key = `RITM${n.key.replace(/\D/g, '')}`;
    const sample = JSON.parse(readFileSync(join(EXAMPLES, 'webhooks', 'servicenow.json'), 'utf8')) as {
      variables: Record<string, unknown>;
    };
    // sys_id + sys_updated_on identify a delivery: a fresh update time makes this a new one.
    const body = JSON.stringify({
      ...sample,
      number: key,
      sys_updated_on: `${new Date().toISOString()} ${n.key}`,
      variables: { ...sample.variables, gmsa_name: n.gmsa },
    });
    const answer = await postServiceNow(body);

    expect(answer.status).toBe(202);
    const workflowId = `gmsa-provision-${key}`;
    expect(await runsOf(workflowId)).toBe(1);
    const { args } = await workflowInput(workflowId);
    expect(args).toMatchObject({
      ticket: { key, system: 'servicenow' },
      gmsa: { name: n.gmsa },
      hosts: ['server1.lab.local', 'server2.lab.local'],
      dryRun: false,
    });
  });
});

async function workflowInput(workflowId: string): Promise<{ args: unknown }> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  return { args: payload?.data ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as unknown) : undefined };
}

describe('refused deliveries: 401 and no workflow', () => {
  test('wrong secret, on every route', async () => {
    const t = unique('BAD');
    const body = genericBody(t.key, t.gmsa);
    const wrongWhsec = `whsec_${Buffer.from('an entirely different secret key!').toString('base64')}`;
    expect((await postGeneric(body, { secret: wrongWhsec })).status).toBe(401);
    expect((await postJiraAdmin(jiraIssue(t.key, {}), { secret: 'wrong-jira-secret-0000' })).status).toBe(401);
    expect((await postServiceNow(JSON.stringify({ number: t.key }), 'wrong-servicenow-secret')).status).toBe(401);
    await expectNoWorkflow(t.key);
  });

  test('missing signature; a Jira delivery with neither a signature nor a token', async () => {
    const t = unique('UNS');
    const body = genericBody(t.key, t.gmsa);
    expect((await post('generic', body, {})).status).toBe(401);
    const jira = await post('jira', jiraIssue(t.key, {}), {});
    expect(jira.status).toBe(401);
    expect((await post('servicenow', body, {})).status).toBe(401);
    await expectNoWorkflow(t.key);
  });

  test('stale and future timestamps (outside ±5 min)', async () => {
    const t = unique('OLD');
    const body = genericBody(t.key, t.gmsa);
    // 30 s past the tolerance: on a loaded machine the server reads its clock seconds after this line does.
    const now = Math.floor(Date.now() / 1000);
    expect((await postGeneric(body, { timestamp: now - 330 })).status).toBe(401);
    expect((await postGeneric(body, { timestamp: now + 330 })).status).toBe(401);
    await expectNoWorkflow(t.key);
  });

  test('tampered body (signature of another body)', async () => {
    const t = unique('TMP');
    const signed = genericBody(t.key, t.gmsa);
    const tampered = signed.replace('server2.lab.local', 'server3.lab.local');
    const headers = standardWebhookHeaders(GENERIC_SECRET, signed);
    expect((await post('generic', tampered, { ...headers })).status).toBe(401);
    const jiraSigned = jiraIssue(t.key, { customfield_10050: t.gmsa });
    expect(
      (
        await post('jira', jiraSigned.replace(t.gmsa, 'svc-evil'), {
          'x-hub-signature': signHubSignature(JIRA_SECRET, jiraSigned),
          'x-atlassian-webhook-identifier': `tamper-${t.key}`,
        })
      ).status,
    ).toBe(401);
    await expectNoWorkflow(t.key);
  });

  test('replayed ids, also after a restart of the server (the seen ids are persisted)', async () => {
    const a = unique('RPL');
    const body = genericBody(a.key, a.gmsa);
    const headers = standardWebhookHeaders(GENERIC_SECRET, body);
    expect((await post('generic', body, { ...headers })).status).toBe(202);
    const replay = await post('generic', body, { ...headers });
    expect(replay.status).toBe(401);
    expect(JSON.stringify(replay.body)).not.toContain(GENERIC_SECRET);

    // A second server on the same replay store (what a restart looks like) still refuses the id.
    const restarted = await startServer(config);
    try {
      expect((await post('generic', body, { ...headers }, restarted.url)).status).toBe(401);
    } finally {
      await restarted.close();
    }
    expect(await runsOf(`gmsa-provision-${a.key}`)).toBe(1);

    // A replayed Jira identifier is refused before the body is looked at: no workflow for a fresh ticket.
    const b = unique('RPJ');
    const jira = jiraIssue(b.key, { customfield_10050: b.gmsa });
    expect((await postJiraAdmin(jira, { id: `replay-${a.key}` })).status).toBe(202);
    expect((await postJiraAdmin(jiraIssue(unique('RPK').key, {}), { id: `replay-${a.key}` })).status).toBe(401);
  });
});

test('oversize body: 413 and no workflow', async () => {
  const t = unique('BIG');
  const request = JSON.parse(genericBody(t.key, t.gmsa)) as Record<string, unknown>;
  const body = JSON.stringify({ ...request, padding: 'x'.repeat(config.bodyLimitBytes) });
  const answer = await postGeneric(body);
  expect(answer.status).toBe(413);
  await expectNoWorkflow(t.key);
});

test('oversize chunked body (no Content-Length): 413 once the limit is passed', async () => {
  const t = unique('CHK');
  const headers = standardWebhookHeaders(GENERIC_SECRET, 'unused');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}/webhooks/generic`, { method: 'POST', headers: { ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The server may close the connection while chunks are still going out: only its answer matters here.
    req.on('error', () => undefined);
    req.on('close', () => reject(new Error('closed without an answer')));
    const chunk = 'x'.repeat(8192);
    const writeMore = () => {
      while (req.write(chunk)) if (req.writableLength > 4 * config.bodyLimitBytes) return;
      req.once('drain', writeMore);
    };
    writeMore();
  });
  expect(status).toBe(413);
  await expectNoWorkflow(t.key);
});

describe('payloads that map to an invalid request: 422 naming every failing field', () => {
  test('jira: each mapped field problem is named, with the payload path it came from', async () => {
    const t = unique('MAP');
    const answer = await postJiraAdmin(
      jiraIssue(t.key, {
        customfield_10050: 'this-name-is-far-too-long',
        customfield_10051: 'server1.lab.local, evil.example.com',
        summary: 'bad\u0007bell',
      }),
    );

    expect(answer.status).toBe(422);
    expect(answer.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'gmsa.name', source: 'issue.fields.customfield_10050' }),
        expect.objectContaining({ field: 'hosts[1]', source: 'issue.fields.customfield_10051' }),
        expect.objectContaining({ field: 'gmsa.description', source: 'issue.fields.summary' }),
      ]),
    );
    expect(answer.body.problems).toHaveLength(3);
    await expectNoWorkflow(t.key);
  });

  test('jira: missing fields are named', async () => {
    const t = unique('MIS');
    const answer = await postJiraAdmin(jiraIssue(t.key, { customfield_10050: null, customfield_10051: '' }));
    expect(answer.status).toBe(422);
    const fields = (answer.body.problems as { field: string }[]).map((p) => p.field).sort();
    expect(fields).toEqual(['gmsa.name', 'hosts']);
    await expectNoWorkflow(t.key);
  });

  test('servicenow: a bad ticket number and hosts outside the domain', async () => {
    const sample = readFileSync(join(EXAMPLES, 'webhooks', 'servicenow.json'), 'utf8');
    const payload = JSON.parse(sample) as Record<string, unknown> & { variables: Record<string, unknown> };
    const body = JSON.stringify({
      ...payload,
      number: 'not a ticket',
      sys_updated_on: new Date().toISOString(),
      variables: { ...payload.variables, hosts: 'server1.other.local' },
    });
    const answer = await postServiceNow(body);
    expect(answer.status).toBe(422);
    expect((answer.body.problems as { field: string }[]).map((p) => p.field).sort()).toEqual([
      'hosts[0]',
      'ticket.key',
    ]);

    // A checkbox variable that is neither true nor false reaches the schema as it is, and is named.
    const t = unique('RITM');
    const checkbox = JSON.stringify({
      ...payload,
      number: `RITM${t.key.replace(/\D/g, '')}`,
      sys_updated_on: `${new Date().toISOString()} ${t.key}`,
      variables: { ...payload.variables, gmsa_name: t.gmsa, dry_run: 'maybe' },
    });
    const second = await postServiceNow(checkbox);
    expect(second.status).toBe(422);
    expect(second.body.problems).toEqual([expect.objectContaining({ field: 'dryRun', source: 'variables.dry_run' })]);
  });

  test('generic: every field of the request schema', async () => {
    const t = unique('GBD');
    const body = genericBody(t.key, 'x'.repeat(20), { hosts: ['server1'], maxParallelHosts: 0 });
    const answer = await postGeneric(body);
    expect(answer.status).toBe(422);
    expect((answer.body.problems as { field: string }[]).map((p) => p.field).sort()).toEqual([
      'gmsa.name',
      'hosts[0]',
      'maxParallelHosts',
    ]);
    await expectNoWorkflow(t.key);
  });
});

/** Characters a terminal or log viewer would act on (the newline too: a problem is one line), unpaired surrogates. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

describe('payloads no request can be made of: 422 naming the field, never 503 (the sender would retry forever)', () => {
  const SURROGATE_RULE = /^could not be built from (issue\.key|sys_id): it holds an unpaired UTF-16 surrogate/;

  test('jira: an unpaired surrogate in issue.key (the ticket.url template): 422 naming ticket.key and ticket.url', async () => {
    const id = `wh-surrogate-${process.pid}-${Date.now()}`;
    const body = jiraIssue(`${unique('SUR').key}\ud800`, {});
    const answer = await postJiraAdmin(body, { id });

    expect(answer.status).toBe(422);
    expect(answer.body.problems).toEqual([
      {
        field: 'ticket.url',
        rule: expect.stringMatching(SURROGATE_RULE) as unknown,
        source: expect.stringContaining('{issue.key}') as unknown,
      },
      { field: 'ticket.key', rule: expect.stringMatching(/ticket key/) as unknown, source: 'issue.key' },
    ]);
    // Answered for good: the delivery id stays claimed (a 503 releases it for the sender's retry).
    expect((await postJiraAdmin(body, { id })).status).toBe(401);
  });

  test('servicenow: an unpaired surrogate in sys_id: 422 naming ticket.url', async () => {
    const n = unique('RITM');
    const sample = JSON.parse(readFileSync(join(EXAMPLES, 'webhooks', 'servicenow.json'), 'utf8')) as {
      variables: Record<string, unknown>;
    };
    const answer = await postServiceNow(
      JSON.stringify({
        ...sample,
        number: `RITM${n.key.replace(/\D/g, '')}`,
        sys_id: `a\udc00${n.key}`,
        sys_updated_on: `${new Date().toISOString()} ${n.key}`,
        variables: { ...sample.variables, gmsa_name: n.gmsa },
      }),
    );

    expect(answer.status).toBe(422);
    expect(answer.body.problems).toEqual([
      {
        field: 'ticket.url',
        rule: expect.stringMatching(SURROGATE_RULE) as unknown,
        source: expect.stringContaining('{sys_id}') as unknown,
      },
    ]);
    await expectNoWorkflow(`RITM${n.key.replace(/\D/g, '')}`);
  });

  test('mapping: a template value that cannot be encoded is a problem of the mapping, and the field is left out', () => {
    const mapped = mapPayload(
      { key: 'OPS-1\ud800', name: 'svc' },
      {
        fields: { 'ticket.key': 'key', 'ticket.url': { template: 'https://t.example/{key}' }, 'gmsa.name': 'name' },
        defaults: {},
      },
    );
    expect(mapped.input).toEqual({ ticket: { key: 'OPS-1\ud800' }, gmsa: { name: 'svc' } });
    expect(mapped.problems).toEqual([
      {
        field: 'ticket.url',
        rule: expect.stringMatching(/unpaired UTF-16 surrogate/) as unknown,
        source: 'https://t.example/{key}',
      },
    ]);
    expect(
      mapPayload({ key: 'OPS-1' }, { fields: { 'ticket.url': { template: 'https://t.example/{key}' } }, defaults: {} }),
    ).toEqual({
      input: { ticket: { url: 'https://t.example/OPS-1' } },
      sources: { 'ticket.url': 'https://t.example/{key}' },
      problems: [],
    });
  });

  test('generic: refused values come back escaped and bounded; a key is not a field name', async () => {
    const t = unique('ESC');
    const request = JSON.parse(genericBody(t.key, t.gmsa)) as {
      domain: Record<string, unknown>;
      endpoint: Record<string, unknown>;
    };
    request.domain.dns = '\u001b[31mred\u001b[0m';
    request.endpoint.roleDefinitions = {
      '\u001b[2J\r\u0007\ud800': { roleCapabilities: ['GmsaRemotingOperator'] },
      ['x'.repeat(30_000)]: { roleCapabilities: ['GmsaRemotingOperator'] },
    };
    request.endpoint.transcriptDirectory = 'C:\\Logs\\CON.txt';
    const answer = await postGeneric(JSON.stringify(request));

    expect(answer.status).toBe(422);
    const problems = answer.body.problems as { field: string; rule: string }[];
    expect(problems.map((p) => p.field)).toEqual([
      'domain.dns',
      'endpoint.roleDefinitions',
      'endpoint.roleDefinitions',
      'endpoint.transcriptDirectory',
    ]);
    expect(problems[1].rule).toBe('must be a principal like LAB\\JEA-Operators (got "\\u001b[2J\\r\\u0007\\ud800")');
    expect(problems[2].rule).toMatch(/ \(got "x{64}…" \(30000 characters\)\)$/);
    expect(problems[3].rule).toMatch(/Win32 device name/);
    for (const p of problems) expect(`${p.field}: ${p.rule}`).not.toMatch(UNSAFE);
    await expectNoWorkflow(t.key);
  });

  test('GET /runbooks/<malformed percent-encoding>: 404, not 503', async () => {
    const res = await fetch(`${server.url}/runbooks/OPS-1%E0%A4%A`);
    expect(res.status).toBe(404);
  });
});

describe('approval from a Jira transition', () => {
  function transition(key: string, to: string): string {
    return JSON.stringify({
      timestamp: Date.now(),
      webhookEvent: 'jira:issue_updated',
      issue_event_type_name: 'issue_generic',
      user: { accountId: '5b10a2844c20165700ede99x', displayName: 'Alex Approver' },
      issue: { key, fields: { status: { name: to } } },
      changelog: { id: '10100', items: [{ field: 'status', fieldtype: 'jira', fromString: 'Open', toString: to }] },
    });
  }

  /** The run may not be waiting yet when the first transition arrives (409): Jira would redeliver; so do we. */
  async function decideWhenWaiting(key: string, to: string): Promise<Answer> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const answer = await postJiraAdmin(transition(key, to));
      if (answer.status !== 409 || Date.now() > deadline) return answer;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  function startWaiting(prefix: string) {
    const t = unique(prefix);
    const body = genericBody(t.key, t.gmsa, { approval: { required: true, timeoutSeconds: 600 } });
    return { t, answer: postGeneric(body) };
  }

  test('to "Approved": the run receives the approve update with the Jira user and goes on', async () => {
    const { t, answer } = startWaiting('APR');
    expect((await answer).status).toBe(202);
    const workflowId = `gmsa-provision-${t.key}`;
    workflowIds.add(workflowId);

    const decided = await decideWhenWaiting(t.key, 'Approved');
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ workflowId, decision: 'approved', approver: 'Alex Approver' });

    const handle = env.client.workflow.getHandle(workflowId);
    const result = (await handle.result()) as { status: string };
    expect(result.status).toBe('succeeded');
    const history = await handle.fetchHistory();
    const accepted = (history.events ?? []).filter(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    );
    expect(accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)).toEqual(
      ['approve'],
    );
  });

  test('to "Rejected": the run receives the reject update; a later approval is refused (409)', async () => {
    const { t, answer } = startWaiting('REJ');
    expect((await answer).status).toBe(202);
    workflowIds.add(`gmsa-provision-${t.key}`);

    const decided = await decideWhenWaiting(t.key, 'Rejected');
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ decision: 'rejected', approver: 'Alex Approver' });
    await env.client.workflow
      .getHandle(`gmsa-provision-${t.key}`)
      .result()
      .catch(() => undefined);
    expect((await postJiraAdmin(transition(t.key, 'Approved'))).status).toBeGreaterThanOrEqual(400);
  });

  test('to "Decommission": what the ticket’s completed run made is removed (202, one decommission run)', async () => {
    const t = unique('DEC');
    expect((await postGeneric(genericBody(t.key, t.gmsa))).status).toBe(202);
    const provisioning = `gmsa-provision-${t.key}`;
    workflowIds.add(provisioning);
    // While the run is still going, there is nothing to decommission yet.
    const early = await postJiraAdmin(transition(t.key, 'Decommission'));
    expect([409, 202]).toContain(early.status);
    expect(((await env.client.workflow.getHandle(provisioning).result()) as { status: string }).status).toBe(
      'succeeded',
    );

    const answer = await postJiraAdmin(transition(t.key, 'Decommission'));
    expect(answer.status).toBe(202);
    const workflowId = String(answer.body.workflowId);
    expect(workflowId).toBe(`gmsa-decommission-${t.gmsa}`);
    workflowIds.add(workflowId);
    const report = (await env.client.workflow.getHandle(workflowId).result()) as { status: string };
    expect(report.status).toBe('decommissioned');
  });

  test('a transition for a ticket without a run: 404; another status change: ignored', async () => {
    const t = unique('NOR');
    expect((await postJiraAdmin(transition(t.key, 'Approved'))).status).toBe(404);
    const other = await postJiraAdmin(transition(t.key, 'In Progress'));
    expect(other.status).toBe(200);
    expect(other.body.ignored).toEqual(expect.any(String));
    await expectNoWorkflow(t.key);
  });
});

describe('status and health', () => {
  test('GET /runbooks/<ticket>: status and progress; 404 without a run', async () => {
    const t = unique('STA');
    expect((await postGeneric(genericBody(t.key, t.gmsa))).status).toBe(202);
    workflowIds.add(`gmsa-provision-${t.key}`);
    await env.client.workflow.getHandle(`gmsa-provision-${t.key}`).result();

    const res = await fetch(`${server.url}/runbooks/${t.key}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { workflowId: string; status: string; progress: { ticketKey: string } };
    expect(body.workflowId).toBe(`gmsa-provision-${t.key}`);
    expect(body.status).toBe('COMPLETED');
    expect(body.progress.ticketKey).toBe(t.key);

    expect((await fetch(`${server.url}/runbooks/${unique('NONE').key}`)).status).toBe(404);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('configuration', () => {
  test('examples/webhook-config.json is the sample; it loads with secrets from the variables it names', () => {
    const file = join(EXAMPLES, 'webhook-config.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(sampleWebhookConfigFile());
    const loaded = loadWebhookConfig(undefined, { ...DEV_WEBHOOK_SECRETS, GMSA_WEBHOOK_CONFIG: file });
    expect(loaded.jira?.auth).toEqual([
      { mode: 'hub-signature', secret: JIRA_SECRET },
      { mode: 'static-token', header: 'x-runbook-token', secret: JIRA_TOKEN },
    ]);
  });

  test('errors name the field, and name the variable but never print a secret', () => {
    const file = sampleWebhookConfigFile();
    const env2: NodeJS.ProcessEnv = { ...DEV_WEBHOOK_SECRETS, GMSA_JIRA_AUTOMATION_TOKEN: 'short' };
    delete env2.GMSA_SERVICENOW_WEBHOOK_SECRET;
    let message = '';
    try {
      resolveWebhookConfig(file, env2);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('jira.auth[1].secretEnv: environment variable GMSA_JIRA_AUTOMATION_TOKEN must be');
    expect(message).toContain('servicenow.secretEnv: environment variable GMSA_SERVICENOW_WEBHOOK_SECRET is not set');
    expect(message).not.toContain('short');

    expect(() => resolveWebhookConfig({ ...file, jira: { ...file.jira, auth: [] } }, DEV_WEBHOOK_SECRETS)).toThrow(
      /jira\.auth: must configure at least one mode/,
    );
    // A secret pasted into the file is refused: only variable names belong there.
    expect(() =>
      resolveWebhookConfig(
        { ...file, generic: { secretEnv: 'GMSA_GENERIC_WEBHOOK_SECRET', secret: 'whsec_abc' } },
        DEV_WEBHOOK_SECRETS,
      ),
    ).toThrow(/generic/);
  });

  test('mapping reads dot paths, splits lists, ignores prototype paths', () => {
    const { input } = mapPayload(
      { a: { b: 'x' }, list: 'h1.lab.local,\nh2.lab.local  h3.lab.local', arr: [{ value: 'v' }] },
      {
        fields: { 'gmsa.name': 'a.b', hosts: { from: 'list', as: 'list' }, requestedBy: 'arr.0.value' },
        defaults: { ticket: { system: 'jira' } },
      },
    );
    expect(input).toEqual({
      ticket: { system: 'jira' },
      gmsa: { name: 'x' },
      hosts: ['h1.lab.local', 'h2.lab.local', 'h3.lab.local'],
      requestedBy: 'v',
    });
  });

  test('Standard Webhooks: any v1 entry of the list may match (secret rotation)', () => {
    const body = Buffer.from('{}');
    const h = standardWebhookHeaders(GENERIC_SECRET, body);
    const other = `whsec_${Buffer.from('an entirely different secret key!').toString('base64')}`;
    const rotated = `${standardWebhookHeaders(other, body, { id: h['webhook-id'], timestamp: Number(h['webhook-timestamp']) })['webhook-signature']} ${h['webhook-signature']}`;
    const verdict = verifyStandardWebhook(
      GENERIC_SECRET,
      { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: rotated },
      body,
      { toleranceSeconds: 300 },
    );
    expect(verdict).toEqual({ ok: true });
  });
});

describe('observability', () => {
  test('each delivery is one JSON log line naming ticket, workflow, run and step; /metrics counts it; no secret', async () => {
    const { key, gmsa } = unique('OBS');
    const body = genericBody(key, gmsa);
    const started = await postGeneric(body);
    expect(started.status).toBe(202);
    workflowIds.add(String(started.body.workflowId));
    const bad = await postGeneric(body, { secret: 'not-the-secret' });
    expect(bad.status).toBe(401);

    const records = logLines.map((l): Record<string, unknown> => JSON.parse(l) as Record<string, unknown>);
    const accepted = records.find((r) => r.ticket === key && r.status === 202);
    expect(accepted).toMatchObject({
      service: 'gmsa-webhook',
      source: 'generic',
      step: 'start',
      workflowId: started.body.workflowId,
      runId: started.body.runId,
      path: '/webhooks/generic',
    });
    expect(typeof accepted?.durationMs).toBe('number');
    expect(records.some((r) => r.status === 401 && r.level === 'warn' && r.source === 'generic')).toBe(true);
    const everything = logLines.join('\n');
    for (const secret of Object.values(DEV_WEBHOOK_SECRETS)) expect(everything).not.toContain(secret);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^gmsa_webhook_deliveries_total\{source="generic",status="202"\} [1-9]/m);
    expect(metrics).toMatch(/^gmsa_webhook_deliveries_total\{source="generic",status="401"\} [1-9]/m);
    expect(metrics).toMatch(/^gmsa_webhook_runbooks_started_total\{source="generic"\} [1-9]/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes /m);
  });
});
