/**
 * The harness the process-kill suites share: one case = one fresh process stack (Temporal dev server, lab, worker
 * processes) running one provisioning run, a trigger that waits for the moment to strike (polling the lab's events,
 * its faults, the workflow's pending activities or its `progress` query), the strike itself (SIGKILL the worker,
 * restart Temporal or the lab), and the checks on what the run left behind.
 *
 * Cases run concurrently, a few at a time: most of a case is Temporal waiting out a dead worker's heartbeat or
 * sticky-queue timeout, which costs wall time, not CPU. Every case has a stack of its own, so the lab invariants
 * compare whole states and no case sees another's faults.
 */
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LabFaultSpec } from '../../../backends/lab/faults';
import type { ComparableState } from '../../../backends/lab/model';
import type { LabEvent } from '../../../backends/lab/state';
import type { ProvisionResult, RollbackReport, RunbookProgress } from '../../../runbook/progress';
import type { RunbookRequestInput } from '../../../runbook/request';
import type { provisionGmsaRemoting } from '../../../workflows';
import { progressQuery } from '../../../workflows/definitions';
import { provisionedViolations, settledState, unchangedViolations } from '../../support/lab-invariants';
import { verifyScheduleId } from '../../../runbook/verify';
import {
  fullReliabilityRun,
  startProcessStack,
  type ManagedProcess,
  type ProcessStack,
  type ProcessStackOptions,
} from '../../support/processes';
import { sampleRequest } from '../../support/runbook-env';

export type ProvisionHandle = WorkflowHandle<typeof provisionGmsaRemoting>;

/** Everything a trigger or a check may look at while its case runs. */
export interface KillCase {
  readonly name: string;
  readonly stack: ProcessStack;
  readonly request: RunbookRequestInput;
  readonly handle: ProvisionHandle;
  /** Every worker process the case started, in order (the first is the one that gets killed). */
  readonly workers: ManagedProcess[];
  /** The lab before the run, settled. */
  readonly before: ComparableState;
  /** Ids of the faults armed before the run, in the order of RunCaseOptions.faults. */
  readonly faultIds: string[];
  /** Note when a phase of the case ended (seconds since the case began), for the summary. */
  phase(label: string): void;
}

// ───────────────────────────── bounded polling ─────────────────────────────

export interface PollOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between looks (default 0: every probe is a network round trip already, and kill points are tight). */
  intervalMs?: number;
  /** What to say about the world when giving up. */
  explain?: () => Promise<string>;
}

/** Thrown by a probe to stop polling at once: what is awaited can no longer happen. */
export class PollAborted extends Error {}

/** Look until `probe` returns something other than undefined/false; a clear error after the timeout. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: PollOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof PollAborted) throw new Error(`gave up waiting for ${what}: ${err.message}`);
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = opts.explain
        ? await opts.explain().catch((e: unknown) => `(could not explain: ${describe(e)})`)
        : '';
      const error = lastError === undefined ? '' : `; last probe error: ${describe(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${error}${seen ? `\n${seen}` : ''}`);
    }
    await new Promise((resolve) => (opts.intervalMs ? setTimeout(resolve, opts.intervalMs) : setImmediate(resolve)));
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : JSON.stringify(err);
}

async function explainRun(c: KillCase): Promise<string> {
  const progress = await queryProgress(c);
  const events = await c.stack.admin.events().catch(() => []);
  const status = await c.handle
    .describe()
    .then((d) => d.status.name)
    .catch(() => 'unknown');
  return [
    `workflow ${c.handle.workflowId}: ${status}; progress: ${progress ? `${progress.state}/${progress.currentStep}` : 'n/a'}`,
    `lab events: ${events.map((e) => `${e.op}@${e.target}`).join(', ') || 'none'}`,
  ].join('\n');
}

// ───────────────────────────── triggers ─────────────────────────────

/**
 * Poll `probe` until the moment to strike; give up at once (with how the run ended) if the run closes first, and
 * after the timeout with where the run is.
 */
export function untilStrike<T>(
  c: KillCase,
  what: string,
  probe: () => Promise<T | undefined | false>,
  intervalMs = 0,
): Promise<T> {
  let lastLook = Date.now();
  return pollUntil(
    what,
    async () => {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() - lastLook > 500) {
        lastLook = Date.now();
        const { status } = await c.handle.describe();
        if (status.name !== 'RUNNING') {
          const ended = await c.handle.result().then(
            (r) => `it returned ${JSON.stringify(r.status)}`,
            (err: unknown) => describe(err instanceof Error && err.cause ? err.cause : err),
          );
          throw new PollAborted(`the run ended first (${status.name}: ${ended})`);
        }
      }
      return undefined;
    },
    { intervalMs, explain: () => explainRun(c) },
  );
}

export async function queryProgress(c: KillCase): Promise<RunbookProgress | undefined> {
  return c.handle.query(progressQuery).catch(() => undefined);
}

/** Wait until the lab has logged an event matching `match`; returns it. */
export function labEvent(c: KillCase, what: string, match: (e: LabEvent) => boolean): Promise<LabEvent> {
  return untilStrike(c, `lab event: ${what}`, async () => (await c.stack.admin.events()).find(match));
}

/**
 * Wait until a fault has fired for the last time: the lab drops a fault once its `remaining` count reaches 0, so
 * a one-shot `winrm-hang` that is gone means a worker is now waiting on the hung call.
 */
export async function faultSpent(c: KillCase, id: string): Promise<void> {
  await untilStrike(c, `fault ${id} to fire`, async () => !(await c.stack.admin.listFaults()).some((f) => f.id === id));
}

/** Add a one-shot fault now and wait until it fired. */
export async function oneShotFault(c: KillCase, spec: LabFaultSpec): Promise<void> {
  await faultSpent(c, await c.stack.admin.addFault({ ...spec, remaining: 1 }));
}

/** Wait until the `progress` query satisfies `match`. */
export function progressReached(
  c: KillCase,
  what: string,
  match: (p: RunbookProgress) => boolean,
): Promise<RunbookProgress> {
  return untilStrike(c, `progress: ${what}`, async () => {
    const p = await queryProgress(c);
    return p && match(p) ? p : undefined;
  });
}

const SCHEDULED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;

/** Wait until an activity of this type failed an attempt and waits for its retry (attempt ≥ 2, not running). */
export async function retryPending(c: KillCase, activityType: string): Promise<void> {
  await untilStrike(
    c,
    `a retry of ${activityType} to be pending`,
    async () => {
      const { raw } = await c.handle.describe();
      return (raw.pendingActivities ?? []).some(
        (a) => a.activityType?.name === activityType && (a.attempt ?? 0) >= 2 && a.state === SCHEDULED,
      );
    },
    5,
  );
}

// ───────────────────────────── history ─────────────────────────────

/** One activity as the workflow history records it: its last attempt, who ran it, how it ended. */
export interface ActivityExecution {
  type: string;
  /** The first argument, decoded (every runbook activity takes one object). */
  input: Record<string, unknown>;
  attempt: number;
  /** Identity of the worker that ran the last attempt (`<pid>@<host>`). */
  startedBy: string | null;
  outcome: 'completed' | 'failed' | 'timed-out' | 'cancelled' | 'pending';
}

export async function activityExecutions(handle: ProvisionHandle): Promise<ActivityExecution[]> {
  const history = await handle.fetchHistory();
  const byScheduled = new Map<string, ActivityExecution>();
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const payload = scheduled.input?.payloads?.[0];
      const input = payload ? defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload) : {};
      byScheduled.set(id, {
        type: scheduled.activityType?.name ?? '?',
        input,
        attempt: 0,
        startedBy: null,
        outcome: 'pending',
      });
      continue;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = byScheduled.get(String(started.scheduledEventId));
      if (a) {
        a.attempt = started.attempt ?? 0;
        a.startedBy = started.identity ?? null;
      }
      continue;
    }
    const ended: [ActivityExecution['outcome'], { scheduledEventId?: unknown } | null | undefined][] = [
      ['completed', e.activityTaskCompletedEventAttributes],
      ['failed', e.activityTaskFailedEventAttributes],
      ['timed-out', e.activityTaskTimedOutEventAttributes],
      ['cancelled', e.activityTaskCanceledEventAttributes],
    ];
    for (const [outcome, attrs] of ended) {
      const a = attrs ? byScheduled.get(String(attrs.scheduledEventId)) : undefined;
      if (a) a.outcome = outcome;
    }
  }
  return [...byScheduled.values()];
}

/** The one execution of `type` (for host activities: on `host`); an error naming what the history holds otherwise. */
export function executionOf(
  executions: ActivityExecution[],
  type: string,
  opts: { host?: string; last?: boolean } = {},
): ActivityExecution {
  const { host, last = false } = opts;
  const found = executions.filter((a) => a.type === type && (host === undefined || a.input.host === host));
  if (last && found.length > 0) return found[found.length - 1];
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type}${host ? ` on ${host}` : ''} in the history, found ${found.length}: ` +
        executions.map((a) => `${a.type}(${typeof a.input.host === 'string' ? a.input.host : ''})`).join(', '),
    );
  }
  return found[0];
}

export function workerIdentity(worker: ManagedProcess): string {
  return `${worker.child.pid}@`;
}

// ───────────────────────────── lab facts ─────────────────────────────

/** How often each op was logged, per target (`startRegistration@server1.lab.local` → 1). */
export function countOps(events: LabEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) out[`${e.op}@${e.target}`] = (out[`${e.op}@${e.target}`] ?? 0) + 1;
  return out;
}

/** Ticket updates the log adapter printed on the workers' stdout for this ticket, in order. */
export function ticketMilestones(workers: ManagedProcess[], ticketKey: string): string[] {
  const out: string[] = [];
  for (const w of workers) {
    for (const line of w.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { event?: unknown; ticket?: unknown; milestone?: unknown };
        if (entry.event === 'ticket-update' && entry.ticket === ticketKey && typeof entry.milestone === 'string') {
          out.push(entry.milestone);
        }
      } catch {
        // not a log-adapter line
      }
    }
  }
  return out;
}

// ───────────────────────────── the end states ─────────────────────────────

export interface RunFacts {
  events: LabEvent[];
  executions: ActivityExecution[];
}

/**
 * What users rely on after a successful run, whatever happened to the processes on the way: every host runs the
 * endpoint as the gMSA; the lab holds exactly the gMSA (on every DC) and one endpoint per host and nothing else
 * changed; no step's side effect happened twice and nothing was rolled back; the verify schedule re-verifies
 * exactly what the run left behind; the ticket heard that it succeeded.
 */
export async function expectProvisioned(c: KillCase, result: ProvisionResult): Promise<RunFacts> {
  await c.stack.admin.clearFaults();
  const after = await settledState(c.stack.admin);
  const events = await c.stack.admin.events();
  const gmsa = c.request.gmsa.name;
  expect(result.status).toBe('succeeded');
  expect(result.identities).toEqual(Object.fromEntries(c.request.hosts.map((h) => [h, `LAB\\${gmsa}$`])));
  expect(provisionedViolations(c.before, after, c.request)).toEqual([]);
  const count = (op: string, target?: string): number =>
    events.filter((e) => e.op === op && (target === undefined || e.target === target)).length;
  expect({
    createServiceAccount: count('createServiceAccount'),
    startRegistration: c.request.hosts.map((h) => count('startRegistration', h)),
    removals: count('removeServiceAccount') + count('startUnregistration'),
  }).toEqual({ createServiceAccount: 1, startRegistration: c.request.hosts.map(() => 1), removals: 0 });
  expect(result.verifySchedule).toEqual({ scheduleId: verifyScheduleId(gmsa), ok: true });
  const schedule = await c.stack.client.schedule.getHandle(verifyScheduleId(gmsa)).describe();
  expect(schedule.action.type === 'startWorkflow' ? schedule.action.args : null).toEqual([result.target]);
  // At least once: an update whose report was lost is posted again.
  expect(ticketMilestones(c.workers, c.request.ticket.key)).toContain('succeeded');
  return { events, executions: await activityExecutions(c.handle) };
}

/**
 * What users rely on after a run that failed for good: it failed with `failureType`, its rollback finished (nothing
 * needs a human), the lab equals its state before the run, and the ticket heard that it failed.
 */
export async function expectRolledBack(c: KillCase, outcome: Promise<unknown>, failureType: string): Promise<RunFacts> {
  const err = await outcome.then(
    (value) => {
      throw new Error(`the run was expected to fail with ${failureType}, it returned ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cause = err.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  const report = failure.details?.[0] as RollbackReport | undefined;
  expect({ type: failure.type, needsHuman: report?.needsHuman }).toEqual({ type: failureType, needsHuman: [] });
  await c.stack.admin.clearFaults();
  expect(unchangedViolations(c.before, await settledState(c.stack.admin))).toEqual([]);
  expect(ticketMilestones(c.workers, c.request.ticket.key)).toContain('failed');
  return { events: await c.stack.admin.events(), executions: await activityExecutions(c.handle) };
}

// ───────────────────────────── running cases ─────────────────────────────

/** At most `n` cases at once (a case is mostly waiting, but each one is three to four processes). */
export function limiter(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (work) => {
    if (running >= n) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

/** How many cases run at once: GMSA_RELIABILITY_CONCURRENCY, else 3. */
export function caseConcurrency(): number {
  const n = Number(process.env.GMSA_RELIABILITY_CONCURRENCY);
  return Number.isInteger(n) && n > 0 ? n : 3;
}

export interface RunCaseOptions {
  stack?: ProcessStackOptions;
  request?: Partial<RunbookRequestInput>;
  /** Faults in place before the run starts. */
  faults?: LabFaultSpec[];
}

/**
 * Start a stack and a first worker, start the run, and hand the case to `body`; the stack is closed afterwards
 * whatever happens. Worker output is attached to a failure, since it is where a crashed worker says why.
 */
export async function withRun<T>(
  name: string,
  opts: RunCaseOptions,
  body: (c: KillCase) => Promise<T>,
  phases: string[] = [],
): Promise<T> {
  const began = Date.now();
  const phase = (label: string): void => {
    phases.push(`${label} ${((Date.now() - began) / 1000).toFixed(1)}`);
  };
  const stack = await startProcessStack(opts.stack);
  phase('stack');
  const workers: ManagedProcess[] = [];
  try {
    const before = await settledState(stack.admin);
    const faultIds: string[] = [];
    for (const fault of opts.faults ?? []) faultIds.push(await stack.admin.addFault(fault));
    workers.push(await stack.startWorker());
    phase('worker');
    // A generous replication deadline: a run that sits out a dead worker's timeouts on a loaded machine must not
    // fail with ReplicationTimeout for it (the sample's 30 s is tuned for runs nobody kills).
    const request = sampleRequest({ replication: { pollIntervalSeconds: 0.2, timeoutSeconds: 300 }, ...opts.request });
    const handle = await stack.client.workflow.start<typeof provisionGmsaRemoting>('provisionGmsaRemoting', {
      taskQueue: stack.taskQueue,
      workflowId: `gmsa-provision-${request.ticket.key}`,
      args: [request],
    });
    return await body({ name, stack, request, handle, workers, before, faultIds, phase });
  } catch (err) {
    const tails = workers.map((w, i) => `--- worker ${i + 1} (pid ${w.child.pid}) ---\n${w.output().slice(-3000)}`);
    if (err instanceof Error) err.message += `\n${tails.join('\n')}`;
    throw err;
  } finally {
    await stack.close();
    phase('closed');
  }
}

/** SIGKILL every worker of the case and start a replacement; returns the replacement. */
export async function killAndReplaceWorker(c: KillCase, afterKill?: () => Promise<void>): Promise<ManagedProcess> {
  await c.stack.killWorkers();
  await afterKill?.();
  const next = await c.stack.startWorker();
  c.workers.push(next);
  return next;
}

/** The run's result, or a clear error (with where the run is) if it does not end within `timeoutMs`. */
export async function resultWithin<T>(c: KillCase, timeoutMs: number, outcome: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void explainRun(c).then(
        (seen) => reject(new Error(`the run did not end within ${timeoutMs} ms\n${seen}`)),
        (err: unknown) => reject(new Error(`the run did not end within ${timeoutMs} ms (${describe(err)})`)),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ───────────────────────────── slicing and the summary ─────────────────────────────

/** The whole table under `npm run test:reliability`, the cases marked for the slice otherwise. */
export function selectCases<T extends { name: string; slice: boolean }>(all: T[]): T[] {
  return fullReliabilityRun() ? all : all.filter((c) => c.slice);
}

export interface CaseRecord {
  /** The table entry (a repeated entry runs under the same point). */
  point: string;
  name: string;
  seconds: number;
  /** Did the strike land where the case aimed (checked from the history), or was that not checkable? */
  landed: 'yes' | 'no' | 'n/a';
  note?: string;
  /** When each phase ended, in seconds since the case began. */
  phases?: string[];
}

export class CaseLog {
  private readonly records: CaseRecord[] = [];
  constructor(
    private readonly suite: string,
    private readonly total: number,
  ) {}

  add(record: CaseRecord): void {
    this.records.push(record);
  }

  summary(): string {
    const mode = fullReliabilityRun() ? 'full' : 'slice (GMSA_RELIABILITY=full for all)';
    const lines = this.records.map(
      (r) =>
        `  ${r.seconds.toFixed(1).padStart(6)} s  landed: ${r.landed.padEnd(3)}  ${r.name}` +
        (r.note ? `\n             ${r.note}` : '') +
        (r.phases?.length ? `\n             phases (s): ${r.phases.join(', ')}` : ''),
    );
    const points = new Set(this.records.map((r) => r.point)).size;
    const repeats = this.records.length - points;
    const head =
      `${this.suite}: ${points} of ${this.total} ran` +
      (repeats > 0 ? ` (${this.records.length} runs: ${repeats} repeated)` : '') +
      ` — ${mode}`;
    return [head, ...lines].join('\n');
  }
}
