/**
 * Accepted hostile values, run for real: batches of provisioning runs (started through any entry point) at once on
 * a freshly reset lab, then judged on the lab's settled state with the end-state invariants
 * (test/support/lab-invariants.ts). Runs of one batch never share a gMSA, an endpoint name, or a ticket.
 *
 * For every run: it either succeeded, and then exactly its gMSA and endpoint exist as asked and the hostile value
 * sits verbatim where it belongs (a description, a transcript path, an endpoint name…); or it failed with a typed,
 * non-retryable failure and left nothing behind. And apart from what the succeeded runs asked for, the lab equals
 * the state before the batch. HOSTILE_DEBUG=1 prints every run's outcome and duration.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { LabAdminClient } from '../../../backends/lab/client';
import type { ComparableState } from '../../../backends/lab/model';
import { FailureType } from '../../../runbook/failures';
import { runMark } from '../../../runbook/marks';
import type { RunbookRequest } from '../../../runbook/request';
import { provisionedViolations, settledState, unchangedViolations } from '../../support/lab-invariants';
import { describeHostile, type HostileValue } from '../../support/hostile-values';
import { jsonCopy } from './hostile-fields';
import { mapLimit } from './hostile-webhook';

/** One hostile value in one field (a request field, or a payload path for a ticket source). */
export interface Slot {
  field: string;
  value: HostileValue;
}

export interface LabRun {
  /** Which value went into which field: a run may carry several, one per field, each verified on its own. */
  slots: Slot[];
  /** The request the run works on (validated and normalised): what the lab is judged against. */
  request: RunbookRequest;
  /** What the entry point must start the workflow with: the validated request, or the raw one for a direct start. */
  input: unknown;
  /** Starts the run through its entry point; resolves to its workflow id, or rejects with why it did not start. */
  start(): Promise<string>;
  /** Free text alone must never change a run's outcome. */
  mustSucceed: boolean;
}

export interface RunOutcome {
  run: LabRun;
  workflowId?: string;
  /** `planned`: a dry run that returned its plan (and must have changed nothing). */
  status: 'succeeded' | 'planned' | 'typed-failure' | 'broken';
  detail: string;
  /** From the start to the end of the run. */
  ms?: number;
}

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** `field ← [category] value, …`: which values a run carried, printable. */
export function describeRun(run: LabRun): string {
  return run.slots.map((s) => `${s.field} ← [${s.value.category}] ${s.value.label}`).join(', ');
}

const computerSam = (host: string) => `${host.split('.')[0]}$`;

/** `after` without what the succeeded requests legitimately made: their gMSA, endpoints, group memberships. */
export function withoutRequested(after: ComparableState, requests: readonly RunbookRequest[]): ComparableState {
  const out: ComparableState = jsonCopy(after);
  for (const r of requests) {
    const sam = `${r.gmsa.name}$`;
    const group = r.principals.mode === 'group' ? r.principals.group : null;
    const computers = r.hosts.map(computerSam);
    for (const [dc, objects] of Object.entries(out.domainControllers)) {
      out.domainControllers[dc] = objects
        .filter((o) => !(o.objectClass === 'msDS-GroupManagedServiceAccount' && eqi(o.samAccountName, sam)))
        .map((o) =>
          group && o.objectClass === 'group' && eqi(o.samAccountName, group)
            ? { ...o, members: o.members.filter((m) => !computers.some((c) => eqi(c, m))) }
            : o,
        );
    }
    for (const [host, state] of Object.entries(out.hosts)) {
      if (!r.hosts.some((h) => eqi(h, host))) continue;
      state.sessionConfigurations = state.sessionConfigurations.filter((c) => !eqi(c.name, r.endpoint.name));
      if (group) state.ticketGroups = state.ticketGroups.filter((g) => !eqi(g, group));
    }
  }
  return out;
}

/** Where each field's value must sit in the lab after a successful run: verbatim. */
function verbatimViolations(after: ComparableState, run: LabRun, workflowId: string, runId: string): string[] {
  const r = run.request;
  const out: string[] = [];
  const sam = `${r.gmsa.name}$`;
  const mark = runMark(workflowId, runId);
  const description = [r.gmsa.description, `ticket ${r.ticket.key}`, mark].filter(Boolean).join(' ');
  for (const [dc, objects] of Object.entries(after.domainControllers)) {
    const gmsa = objects.find((o) => o.objectClass === 'msDS-GroupManagedServiceAccount' && eqi(o.samAccountName, sam));
    if (!gmsa || gmsa.objectClass !== 'msDS-GroupManagedServiceAccount') continue; // provisionedViolations says so
    if (gmsa.samAccountName !== sam) out.push(`${dc}: the gMSA is ${describeHostile(gmsa.samAccountName)}, not ${sam}`);
    if (gmsa.description !== description) {
      out.push(
        `${dc}: description ${describeHostile(String(gmsa.description), 80)}, not ${describeHostile(description, 80)}`,
      );
    }
    if (r.principals.mode === 'group' && JSON.stringify(gmsa.principals) !== JSON.stringify([r.principals.group])) {
      out.push(`${dc}: principals ${JSON.stringify(gmsa.principals)}, not the group ${r.principals.group}`);
    }
  }
  for (const host of r.hosts) {
    const state = Object.entries(after.hosts).find(([name]) => eqi(name, host))?.[1];
    const endpoint = state?.sessionConfigurations.find((c) => eqi(c.name, r.endpoint.name));
    if (!endpoint) continue; // provisionedViolations says so
    const want = {
      name: r.endpoint.name,
      transcriptDirectory: r.endpoint.transcriptDirectory,
      roleDefinitions: r.endpoint.roleDefinitions,
    };
    const got = {
      name: endpoint.name,
      transcriptDirectory: endpoint.transcriptDirectory,
      roleDefinitions: endpoint.roleDefinitions,
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      out.push(
        `${host}: endpoint ${describeHostile(JSON.stringify(got), 200)}, not ${describeHostile(JSON.stringify(want), 200)}`,
      );
    }
  }
  return out;
}

/** The workflow's own input, from its history: what the entry point really started it with. */
export async function workflowInput(client: Client, workflowId: string): Promise<{ input: unknown; runId: string }> {
  const handle = client.workflow.getHandle(workflowId);
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new Error(`${workflowId} has no input`);
  return { input: defaultPayloadConverter.fromPayload(payload), runId: started.originalExecutionRunId ?? '' };
}

const TYPED: ReadonlySet<string> = new Set(Object.values(FailureType));

/** Waits for a run to end (or `timeoutMs`), and says how it ended. */
async function outcomeOf(client: Client, run: LabRun, workflowId: string, timeoutMs: number): Promise<RunOutcome> {
  const handle = client.workflow.getHandle(workflowId);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    const result = await Promise.race([handle.result() as Promise<{ status: string }>, timeout]);
    if (result === 'timeout') {
      await handle.terminate('hostile-input: did not end in time').catch(() => undefined);
      return { run, workflowId, status: 'broken', detail: `did not end within ${timeoutMs} ms` };
    }
    if (result.status === 'succeeded' && !run.request.dryRun)
      return { run, workflowId, status: 'succeeded', detail: '' };
    if (result.status === 'planned' && run.request.dryRun) return { run, workflowId, status: 'planned', detail: '' };
    return { run, workflowId, status: 'broken', detail: `ended ${result.status}` };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && TYPED.has(cause.type) && cause.nonRetryable) {
      if (cause.type === FailureType.RollbackIncomplete) {
        return { run, workflowId, status: 'broken', detail: `rollback incomplete: ${cause.message}` };
      }
      return { run, workflowId, status: 'typed-failure', detail: cause.type };
    }
    return { run, workflowId, status: 'broken', detail: `failed untyped: ${String(cause ?? err)}` };
  } finally {
    clearTimeout(timer);
  }
}

export interface BatchReport {
  outcomes: RunOutcome[];
  /** Printable; empty when every run and the lab are as they must be. */
  violations: string[];
}

/**
 * Resets the lab, starts every run (all at once unless `concurrency` says), waits for all, and judges the lab. Runs must not share
 * a gMSA name, a ticket, or an endpoint name on a host.
 */
export async function runBatch(
  client: Client,
  admin: LabAdminClient,
  runs: readonly LabRun[],
  opts: { concurrency?: number; timeoutMs?: number } = {},
): Promise<BatchReport> {
  await admin.reset();
  const before = await settledState(admin);
  // `concurrency` bounds the starts (a CLI start is a process); every started run is waited for at once.
  const started = await mapLimit(runs, opts.concurrency ?? runs.length, async (run) => {
    const t0 = Date.now();
    try {
      return { run, t0, workflowId: await run.start() };
    } catch (err) {
      return { run, t0, error: err instanceof Error ? err.message : String(err) };
    }
  });
  const outcomes = await Promise.all(
    started.map(async (s): Promise<RunOutcome> => {
      if (s.workflowId === undefined) return { run: s.run, status: 'broken', detail: `did not start: ${s.error}` };
      const outcome = await outcomeOf(client, s.run, s.workflowId, opts.timeoutMs ?? 90_000);
      return { ...outcome, ms: Date.now() - s.t0 };
    }),
  );
  const after = await settledState(admin);
  const violations: string[] = [];
  const at = (o: RunOutcome, what: string) => violations.push(`${describeRun(o.run)}: ${what}`);
  const succeeded = outcomes.filter((o) => o.status === 'succeeded');
  for (const o of outcomes) {
    if (o.status === 'broken') at(o, o.detail);
    if (o.status === 'typed-failure' && o.run.mustSucceed) at(o, `free text changed the outcome: ${o.detail}`);
    if (!o.workflowId) continue;
    const { input, runId } = await workflowInput(client, o.workflowId);
    if (JSON.stringify(input) !== JSON.stringify(o.run.input)) at(o, 'the workflow was started with another request');
    if (o.status !== 'succeeded') continue;
    const others = succeeded.filter((s) => s !== o).map((s) => s.run.request);
    const mine = withoutRequested(after, others);
    for (const v of provisionedViolations(before, mine, o.run.request)) {
      // Group memberships a group-mode run makes are legitimate; the whole-lab check below judges the rest.
      if (!v.startsWith('besides the requested objects')) at(o, v);
    }
    for (const v of verbatimViolations(after, o.run, o.workflowId, runId)) at(o, v);
  }
  const rest = withoutRequested(
    after,
    succeeded.map((s) => s.run.request),
  );
  for (const v of unchangedViolations(before, rest)) violations.push(`the lab beyond what was asked: ${v}`);
  if (process.env.HOSTILE_DEBUG) {
    console.log(outcomes.map((o) => `${describeRun(o.run)}: ${o.status} ${o.detail} ${o.ms} ms`).join('\n'));
  }
  return { outcomes, violations };
}
