/**
 * The webhook side of the hostile-input suites: the example configuration (examples/webhook-config.json) with the
 * development secrets, signed deliveries for each source, sample payloads with a hostile value at one path, and a
 * recording stand-in for the Temporal client so that thousands of deliveries can be judged in-process without
 * starting thousands of workflows (the end-to-end suite uses the real client).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { DEV_WEBHOOK_SECRETS, loadWebhookConfig, type WebhookConfig } from '../../../ticketing/webhook/config';
import { signHubSignature, signServiceNow, standardWebhookHeaders } from '../../../ticketing/webhook/signatures';
import { jsonCopy, setPayloadPath, type JsonObject } from './hostile-fields';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');

export type WebhookSource = 'generic' | 'jira' | 'servicenow';

/**
 * examples/webhook-config.json as shipped, resolved with the development secrets; seen delivery ids stay in memory
 * (the example's relative replay file would land in the working directory). `defaults` are merged into the Jira
 * and ServiceNow mapping defaults: the end-to-end suite uses that for fast replication polling and an endpoint
 * name of each run's own, which a ticket cannot choose (every run of the example would register `GmsaRemoting`).
 */
export function exampleWebhookConfig(defaults: JsonObject = {}): WebhookConfig {
  const config = loadWebhookConfig(join(EXAMPLES, 'webhook-config.json'), DEV_WEBHOOK_SECRETS);
  const merge = (base: Record<string, unknown>): Record<string, unknown> => {
    const out = jsonCopy(base);
    for (const [key, value] of Object.entries(defaults)) {
      const current = out[key];
      out[key] =
        typeof current === 'object' && current !== null && typeof value === 'object' && value !== null
          ? { ...(current as JsonObject), ...(value as JsonObject) }
          : value;
    }
    return out;
  };
  return {
    ...config,
    replayStoreFile: undefined,
    jira: config.jira && {
      ...config.jira,
      mapping: { ...config.jira.mapping, defaults: merge(config.jira.mapping.defaults) },
    },
    servicenow: config.servicenow && {
      ...config.servicenow,
      mapping: { ...config.servicenow.mapping, defaults: merge(config.servicenow.mapping.defaults) },
    },
  };
}

function sample(name: string): JsonObject {
  return JSON.parse(readFileSync(join(EXAMPLES, 'webhooks', name), 'utf8')) as JsonObject;
}

/** examples/webhooks/jira-admin.json with this delivery's own ticket key, gMSA name and host. */
export function jiraPayload(key: string, gmsa: string, host = 'server1.lab.local'): JsonObject {
  const payload = sample('jira-admin.json');
  setPayloadPath(payload, 'issue.key', key);
  setPayloadPath(payload, 'issue.fields.customfield_10050', gmsa);
  setPayloadPath(payload, 'issue.fields.customfield_10051', host);
  return payload;
}

/** examples/webhooks/jira-automation.json (static-token deliveries), likewise. */
export function jiraAutomationPayload(key: string, gmsa: string, host = 'server1.lab.local'): JsonObject {
  const payload = sample('jira-automation.json');
  setPayloadPath(payload, 'issue.key', key);
  setPayloadPath(payload, 'issue.fields.customfield_10050', gmsa);
  setPayloadPath(payload, 'issue.fields.customfield_10051', host);
  return payload;
}

let deliveries = 0;
/** A delivery id no other delivery of this process has. */
export function deliveryId(): string {
  return `${process.pid}-${Date.now()}-${deliveries++}-${randomBytes(4).toString('hex')}`;
}

/** examples/webhooks/servicenow.json with this delivery's own number, gMSA name, host and record version. */
export function serviceNowPayload(number: string, gmsa: string, host = 'server1.lab.local'): JsonObject {
  const payload = sample('servicenow.json');
  setPayloadPath(payload, 'number', number);
  setPayloadPath(payload, 'sys_id', randomBytes(16).toString('hex'));
  setPayloadPath(payload, 'sys_updated_on', `2026-11-25 09:14:03 ${deliveryId()}`);
  setPayloadPath(payload, 'variables.gmsa_name', gmsa);
  setPayloadPath(payload, 'variables.hosts', host);
  return payload;
}

export interface Answer {
  status: number;
  body: JsonObject;
}

/** Keep-alive connections for the thousands of small deliveries (node:http is about twice as fast as fetch). */
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** Closes the kept-alive connections (after a server closes, before the suite ends). */
export function closeDeliveryConnections(): void {
  agent.destroy();
}

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * One signed delivery the way each source sends it (a fresh delivery id every time: never a replay). Bodies over
 * `largeBytes` go through fetch, which copes with the server answering 413 and closing while it still sends.
 */
export async function deliver(
  base: string,
  source: WebhookSource | 'jira-automation',
  body: string,
  largeBytes = 64 * 1024,
): Promise<Answer> {
  const secrets = DEV_WEBHOOK_SECRETS;
  const headers: Record<string, string> =
    source === 'generic'
      ? { ...standardWebhookHeaders(secrets.GMSA_GENERIC_WEBHOOK_SECRET, body, { id: `msg_${deliveryId()}` }) }
      : source === 'jira'
        ? {
            'x-hub-signature': signHubSignature(secrets.GMSA_JIRA_WEBHOOK_SECRET, body),
            'x-atlassian-webhook-identifier': deliveryId(),
          }
        : source === 'jira-automation'
          ? { 'x-runbook-token': secrets.GMSA_JIRA_AUTOMATION_TOKEN }
          : { 'x-runbook-signature': signServiceNow(secrets.GMSA_SERVICENOW_WEBHOOK_SECRET, body) };
  const url = `${base}/webhooks/${source === 'jira-automation' ? 'jira' : source}`;
  let status: number;
  let text: string;
  if (Buffer.byteLength(body) > largeBytes) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    status = res.status;
    text = await res.text();
  } else {
    ({ status, text } = await post(url, body, headers));
  }
  let parsed: JsonObject;
  try {
    parsed = JSON.parse(text) as JsonObject;
  } catch {
    parsed = { unparsable: text.slice(0, 200) };
  }
  return { status, body: parsed };
}

export interface RecordedStart {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  /** As the worker would receive them: through JSON, like Temporal's default payload converter. */
  args: unknown[];
}

/**
 * Just enough of the Temporal client for the webhook server and startProvisioning: `workflow.start`,
 * `workflow.getHandle(…).describe()`. Every start is recorded and reported back as a new run; a describe of a workflow
 * id nobody started is WorkflowNotFoundError, like the server's answer. Earlier runs read as completed, so a
 * repeated ticket key (two sources, one key) starts again instead of attaching.
 */
export class RecordingClient {
  readonly starts: RecordedStart[] = [];
  /** Every call, in order: `describe <id>`, `start <id>`. */
  readonly calls: string[] = [];
  private readonly runs = new Map<string, string>();
  private counter = 0;

  readonly workflow = {
    start: (workflowType: string, options: { workflowId: string; taskQueue: string; args?: unknown[] }) => {
      this.calls.push(`start ${options.workflowId}`);
      const runId = `run-${++this.counter}`;
      this.runs.set(options.workflowId, runId);
      this.starts.push({
        workflowType,
        workflowId: options.workflowId,
        taskQueue: options.taskQueue,
        args: JSON.parse(JSON.stringify(options.args ?? [])) as unknown[],
      });
      return Promise.resolve(this.handle(options.workflowId, runId));
    },
    getHandle: (workflowId: string, runId?: string) => this.handle(workflowId, runId),
  };

  private handle(workflowId: string, runId?: string) {
    return {
      workflowId,
      runId,
      describe: () => {
        this.calls.push(`describe ${workflowId}`);
        const current = this.runs.get(workflowId);
        if (!current) return Promise.reject(new WorkflowNotFoundError('workflow not found', workflowId, runId));
        // The latest start is running only until the next call asks: a later start counts as a new run.
        return Promise.resolve({ workflowId, runId: current, status: { name: 'COMPLETED' } });
      },
    };
  }

  asClient(): Client {
    return this as unknown as Client;
  }

  /** Forget what was recorded (the runs stay known). */
  clear(): void {
    this.starts.length = 0;
    this.calls.length = 0;
  }
}

/** Runs `work` over `items` with at most `limit` at once; results in item order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
