/**
 * The three entry points, for real: the compiled CLI in its own process (`gmsa-runbook start --file`), the webhook
 * server with a real Temporal client (a server of each run's own for Jira and ServiceNow, whose configuration fixes
 * the endpoint name), and a direct `client.workflow.start('provisionGmsaRemoting', …)` with the raw request.
 *
 * Each builds LabRuns for accepted values (hostile-lab.ts runs them) and judges refusals: nothing started, the
 * error names the field and its rule.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../../runbook/failures';
import { mapPayload } from '../../../ticketing/webhook/mapping';
import { startWebhookServer } from '../../../ticketing/webhook/server';
import type { HostileValue } from '../../support/hostile-values';
import { uniqueNames } from './hostile-checks';
import {
  jsonCopy,
  judge,
  JIRA_FIELDS,
  ROLE_CAPABILITY,
  ROLE_PRINCIPAL,
  rulelessProblems,
  SERVICENOW_FIELDS,
  setPayloadPath,
  terminalUnsafe,
  validRequest,
  type JsonObject,
  type PayloadField,
  type RequestField,
} from './hostile-fields';
import type { LabRun } from './hostile-lab';
import { deliver, exampleWebhookConfig, jiraPayload, serviceNowPayload } from './hostile-webhook';

/** An unpaired UTF-16 surrogate. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli', 'main.js');

/** HQ hosts, round-robin: runs of a batch spread their registrations (one registration per host at a time). */
const HOSTS = ['server1.lab.local', 'server2.lab.local', 'server4.lab.local'];
let hostTurn = 0;
const nextHost = () => HOSTS[hostTurn++ % HOSTS.length];

export interface EntryContext {
  client: Client;
  taskQueue: string;
  /** A scratch directory: request files, the CLI's state dir. */
  dir: string;
}

/** A request field with the hostile value it carries in one run. */
export interface RequestSlot {
  field: RequestField;
  value: HostileValue;
}

/** A payload path with the hostile value it carries in one run. */
export interface PayloadSlot {
  field: PayloadField;
  value: HostileValue;
}

const ROLE_KEY = 'endpoint.roleDefinitions';
const ROLE_CAPABILITY_FIELD = `endpoint.roleDefinitions.${ROLE_PRINCIPAL}.roleCapabilities[0]`;

/**
 * A valid request with each slot's value in its field. A role principal key and a role capability share one object
 * (`{ [key]: { roleCapabilities: [capability] } }`), so they are set together.
 */
export function slotRequest(prefix: string, slots: readonly RequestSlot[], host = nextHost()): JsonObject {
  const input = validRequest({ ...uniqueNames(prefix), host });
  for (const s of slots)
    if (s.field.field !== ROLE_KEY && s.field.field !== ROLE_CAPABILITY_FIELD) s.field.set(input, s.value.value);
  const key = slots.find((s) => s.field.field === ROLE_KEY)?.value.value ?? ROLE_PRINCIPAL;
  const capability = slots.find((s) => s.field.field === ROLE_CAPABILITY_FIELD)?.value.value ?? ROLE_CAPABILITY;
  (input.endpoint as JsonObject).roleDefinitions = { [key]: { roleCapabilities: [capability] } };
  return input;
}

/** slotRequest, validated: it must be accepted. */
function acceptedRequest(prefix: string, slots: readonly RequestSlot[]) {
  const input = slotRequest(prefix, slots);
  const verdict = judge(input);
  if (!verdict.accepted) throw new Error(`not accepted: ${JSON.stringify(verdict.problems).slice(0, 300)}`);
  return { input, request: verdict.request };
}

/** Free text (description, requestedBy, a ticket link) never changes how a run ends. */
export function isFreeText(f: RequestField): boolean {
  return f.kind === 'free-text' || f.kind === 'url';
}

const labSlots = (slots: readonly { field: RequestField | PayloadField; value: HostileValue }[]) =>
  slots.map((s) => ({ field: 'path' in s.field ? s.field.path : s.field.field, value: s.value }));

let directCounter = 0;
const directId = () => `hostile-direct-${process.pid}-${Date.now()}-${directCounter++}`;

export function directRun(ctx: EntryContext, slots: readonly RequestSlot[]): LabRun {
  const { input, request } = acceptedRequest('DIR', slots);
  return {
    slots: labSlots(slots),
    request,
    input,
    mustSucceed: slots.every((s) => isFreeText(s.field)),
    start: async () =>
      (
        await ctx.client.workflow.start('provisionGmsaRemoting', {
          taskQueue: ctx.taskQueue,
          workflowId: directId(),
          args: [input],
        })
      ).workflowId,
  };
}

/** A direct start of a refused request: a typed, non-retryable RequestInvalid that lists the schema's problems. */
export async function directRefusal(
  ctx: EntryContext,
  value: HostileValue,
  fields: readonly RequestField[],
  opts: { evenIfAccepted?: boolean } = {},
): Promise<{ workflowId: string | null; flaws: string[] }> {
  const input = validRequest({ ...uniqueNames('DIR'), host: nextHost() });
  for (const f of fields) f.set(input, value.value);
  const judged = judge(input);
  // `evenIfAccepted`: a value the schema lets through but must not (a known finding): the run must still refuse it.
  if (judged.accepted && !opts.evenIfAccepted) {
    return { workflowId: null, flaws: ['the schema accepts it: not a refusal case'] };
  }
  const oracle = judged.accepted ? { problems: [] } : judged;
  const workflowId = directId();
  try {
    await ctx.client.workflow.start('provisionGmsaRemoting', { taskQueue: ctx.taskQueue, workflowId, args: [input] });
  } catch (err) {
    // Temporal itself may refuse an oversized start: then nothing started either.
    return {
      workflowId: null,
      flaws: /size|too large|exceeds/i.test(String(err)) ? [] : [`start failed: ${String(err)}`],
    };
  }
  const handle = ctx.client.workflow.getHandle(workflowId);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 30_000)));
  const flaws: string[] = [];
  try {
    const ended = await Promise.race([handle.result().then(() => 'completed' as const), timeout]);
    flaws.push(ended === 'timeout' ? 'still running after 30 s' : 'completed instead of failing');
    if (ended === 'timeout') await handle.terminate('hostile-input: did not end').catch(() => undefined);
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (!(cause instanceof ApplicationFailure)) {
      flaws.push(`failed without an ApplicationFailure: ${String(err)}`);
    } else {
      if (cause.type !== FailureType.RequestInvalid) flaws.push(`failure type ${String(cause.type)}`);
      if (!cause.nonRetryable) flaws.push('the failure is retryable');
      const problems = (cause.details?.[0] as { problems?: unknown } | undefined)?.problems;
      if (!judged.accepted && JSON.stringify(problems) !== JSON.stringify(oracle.problems)) {
        flaws.push(`details ${JSON.stringify(problems).slice(0, 200)} are not the schema's problems`);
      }
      for (const p of oracle.problems) {
        if (!cause.message.includes(`  - ${p.field}: ${p.rule}`)) flaws.push(`the message does not list ${p.field}`);
      }
      flaws.push(...rulelessProblems(oracle.problems));
    }
  } finally {
    clearTimeout(timer);
  }
  // Nothing was asked of the lab: the workflow never scheduled an activity.
  const history = await handle.fetchHistory();
  if ((history.events ?? []).some((e) => e.activityTaskScheduledEventAttributes)) {
    flaws.push('the refused run scheduled an activity');
  }
  return { workflowId, flaws };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli/main.js …` against the test server, on the suite's task queue, with no dev stack to find. */
export function runCli(ctx: EntryContext, args: string[]): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, GMSA_TASK_QUEUE: ctx.taskQueue, GMSA_STATE_DIR: join(ctx.dir, 'cli-state') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

let fileCounter = 0;
function requestFile(ctx: EntryContext, input: unknown): string {
  const file = join(ctx.dir, `request-${fileCounter++}.json`);
  writeFileSync(file, JSON.stringify(input, null, 2));
  return file;
}

export function cliRun(ctx: EntryContext, slots: readonly RequestSlot[]): LabRun {
  const { input, request } = acceptedRequest('CLI', slots);
  return {
    slots: labSlots(slots),
    request,
    input: request,
    mustSucceed: slots.every((s) => isFreeText(s.field)),
    start: async () => {
      const run = await runCli(ctx, ['start', '--file', requestFile(ctx, input)]);
      const started = /^Started (\S+)$/m.exec(run.stdout);
      if (run.status !== 0 || !started)
        throw new Error(`exit ${run.status}: ${run.stderr || run.stdout}`.slice(0, 300));
      return started[1];
    },
  };
}

/** A refused request file: exit 2, stderr exactly the schema's message (every field and rule), nothing started. */
export async function cliRefusal(
  ctx: EntryContext,
  value: HostileValue,
  fields: readonly RequestField[],
): Promise<string[]> {
  const input = validRequest(uniqueNames('CLR'));
  for (const f of fields) f.set(input, value.value);
  const oracle = judge(input);
  if (oracle.accepted) return ['the schema accepts it: not a refusal case'];
  const run = await runCli(ctx, ['start', '--file', requestFile(ctx, input)]);
  const flaws: string[] = [];
  if (run.status !== 2) flaws.push(`exit ${run.status}, not 2`);
  const message = `invalid runbook request:\n${oracle.problems.map((p) => `  - ${p.field}: ${p.rule}`).join('\n')}\n`;
  if (run.stderr !== message) {
    // Written as UTF-8, an unpaired surrogate becomes U+FFFD: only a value echoed into the message can carry one.
    const written = message.replace(LONE_SURROGATE, '\ufffd');
    flaws.push(
      run.stderr === written
        ? 'the refusal printed on stderr turned an unpaired surrogate of an echoed value into U+FFFD'
        : `stderr ${JSON.stringify(run.stderr.slice(0, 300))} is not the schema's message`,
    );
  }
  if (terminalUnsafe(run.stderr)) flaws.push('the refusal printed on stderr carries control characters');
  if (run.stdout !== '') flaws.push(`printed ${JSON.stringify(run.stdout.slice(0, 200))}`);
  flaws.push(...rulelessProblems(oracle.problems));
  return flaws;
}

/** The generic route of a webhook server with the real client. */
export function genericRun(ctx: EntryContext & { webhookUrl: string }, slots: readonly RequestSlot[]): LabRun {
  const { input } = acceptedRequest('GEN', slots);
  if (!slots.some((s) => s.field.field === 'ticket.system')) delete (input.ticket as JsonObject).system;
  const started = judge({ ...input, ticket: { system: 'generic', ...(input.ticket as JsonObject) } });
  if (!started.accepted) throw new Error('the generic request is refused');
  return {
    slots: labSlots(slots),
    request: started.request,
    input: started.request,
    mustSucceed: slots.every((s) => isFreeText(s.field)),
    start: async () => {
      const answer = await deliver(ctx.webhookUrl, 'generic', JSON.stringify({ request: input }));
      if (answer.status !== 202)
        throw new Error(`answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      return String(answer.body.workflowId);
    },
  };
}

/** What a ticket cannot choose, for runs on the lab: an endpoint of the run's own, fast polling, no schedule. */
function runDefaults(endpoint: string): JsonObject {
  return {
    endpoint: { name: endpoint },
    replication: { pollIntervalSeconds: 0.1, timeoutSeconds: 60, scope: 'host-sites' },
    verification: { enabled: false },
  };
}

/** Jira or ServiceNow: a payload with each slot's value at its path, through a webhook server of the run's own. */
export function ticketRun(ctx: EntryContext, source: 'jira' | 'servicenow', slots: readonly PayloadSlot[]): LabRun {
  const n = uniqueNames(source === 'jira' ? 'TJR' : 'TSN');
  const host = nextHost();
  const payload =
    source === 'jira'
      ? jiraPayload(n.key, n.gmsa, host)
      : serviceNowPayload(`RITM${n.key.replace(/\D/g, '')}`, n.gmsa, host);
  for (const s of slots) setPayloadPath(payload, s.field.path, s.value.value);
  const config = exampleWebhookConfig(runDefaults(n.endpoint));
  const mapping = source === 'jira' ? config.jira!.mapping : config.servicenow!.mapping;
  const mapped = mapPayload(jsonCopy(payload), mapping).input;
  const verdict = judge({ ...mapped, ticket: { system: source, ...(mapped.ticket as JsonObject) } });
  if (!verdict.accepted) throw new Error(`not accepted: ${JSON.stringify(verdict.problems).slice(0, 300)}`);
  return {
    slots: labSlots(slots),
    request: verdict.request,
    input: verdict.request,
    mustSucceed: slots.every((s) => s.field.free === true || s.field.targets.length === 0),
    start: async () => {
      const server = await startWebhookServer({
        client: ctx.client,
        namespace: ctx.client.options.namespace,
        taskQueue: ctx.taskQueue,
        uiUrl: null,
        config,
      });
      try {
        const answer = await deliver(server.url, source, JSON.stringify(payload));
        if (answer.status !== 202)
          throw new Error(`answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        return String(answer.body.workflowId);
      } finally {
        await server.close();
      }
    },
  };
}

export const TICKET_FIELDS = { jira: JIRA_FIELDS, servicenow: SERVICENOW_FIELDS } as const;
