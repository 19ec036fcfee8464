/**
 * One randomized run on a process stack: reset the lab, seed what the schedule says existed before, take the
 * settled state, start provisionGmsaRemoting, inject the faults (and the cancel) when their triggers are met, wait a
 * bounded time for the end, then classify the outcome and check the invariant on the lab's settled state:
 *
 * - succeeded: fully provisioned and verified (`provisionedViolations` empty, every host's identity the gMSA);
 * - rolled back, refused or cancelled: the lab equals the state before (`unchangedViolations` empty);
 * - needs a human (RollbackIncomplete): the report lists exactly what the lab shows left behind, nothing silent;
 * - always: the run ends, its failure is one of the typed failures, the `progress` query agrees, and the
 *   re-verification schedule exists exactly when the result says it was made.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  ScheduleNotFoundError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { ComparableState } from '../../../backends/lab/model';
import type { LabEvent } from '../../../backends/lab/state';
import { isFailureType } from '../../../runbook/failures';
import type { ProvisionResult, RollbackReport, RunbookProgress } from '../../../runbook/progress';
import { verifyScheduleId } from '../../../runbook/verify';
import { provisionedViolations, settledState, unchangedViolations } from '../../support/lab-invariants';
import { sleep, type ProcessStack } from '../../support/processes';
import type { FaultKind, FaultSchedule, Trigger } from './fault-schedule';

export const OUTCOMES = [
  'succeeded',
  'rolled-back',
  'refused',
  'cancelled',
  'needs-human',
  'hung',
  'unexpected',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RunRecord {
  schedule: FaultSchedule;
  outcome: Outcome;
  /** The failure type the run ended with (Cancelled for a cancel), if it failed. */
  failureType?: string;
  /** RollbackIncomplete: the failure (or Cancelled) that started the rollback. */
  cause?: string;
  /** Faults actually injected (a trigger the run never reached injects nothing). */
  injected: FaultKind[];
  cancelled: boolean;
  /** What the run reported as needing a human. */
  needsHuman: string[];
  violations: string[];
  ms: number;
}

export interface DriverOptions {
  /** A run that has not ended by then is a violation (and is terminated). */
  runTimeoutMs: number;
  pollMs?: number;
}

type Ended = { ok: true; result: ProvisionResult } | { ok: false; error: unknown };

const eqi = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const sameHost = (a: string, b: string): boolean =>
  eqi(a, b) || eqi(a.split('.')[0], b) || eqi(a, b.split('.')[0]) || eqi(a.split('.')[0], b.split('.')[0]);

function stepReached(p: RunbookProgress, step: string, done: boolean): boolean {
  const reached = (s: { status: string } | undefined): boolean =>
    s !== undefined && (done ? s.status === 'done' : s.status !== 'pending');
  const run = (p.steps as Record<string, { status: string } | undefined>)[step];
  if (run) return reached(run);
  return Object.values(p.hosts).some((h) => reached((h as Record<string, { status: string } | undefined>)[step]));
}

function triggered(t: Trigger, elapsedMs: number, progress?: RunbookProgress, events?: LabEvent[]): boolean {
  switch (t.at) {
    case 'upfront':
      return true;
    case 'delay':
      return elapsedMs >= t.ms;
    case 'step':
      return progress !== undefined && stepReached(progress, t.step, t.done === true);
    case 'event':
      return (events ?? []).some((e) => e.op === t.op && (t.target === undefined || sameHost(e.target, t.target)));
  }
}

/**
 * The lab once nothing is under way any more: detached (un)registrations still running finish on their own, so
 * wait them out (the lab applies them lazily, on the next call after they are due), then deliver every replication.
 */
async function quiescentState(stack: ProcessStack): Promise<ComparableState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const jobs = Object.values((await stack.admin.state()).hosts).flatMap((h) => (h.job ? [h.job] : []));
    if (jobs.length === 0) return settledState(stack.admin);
    if (Date.now() > deadline) throw new Error(`host jobs still running 30 s after the run: ${JSON.stringify(jobs)}`);
    await sleep(Math.min(1000, Math.max(10, Math.max(...jobs.map((j) => j.completesAt)) - Date.now() + 5)));
  }
}

export async function runSchedule(stack: ProcessStack, s: FaultSchedule, opts: DriverOptions): Promise<RunRecord> {
  const started = Date.now();
  const record: RunRecord = {
    schedule: s,
    outcome: 'unexpected',
    injected: [],
    cancelled: false,
    needsHuman: [],
    violations: [],
    ms: 0,
  };
  const scheduleId = verifyScheduleId(s.request.gmsa.name);
  await stack.admin.reset();
  // A schedule left by an earlier run of the same gMSA name would make "no schedule after a failed run" undecidable.
  await stack.client.schedule
    .getHandle(scheduleId)
    .delete()
    .catch(() => undefined);
  if (s.preexisting) await stack.admin.seedServiceAccount(s.preexisting);
  const before = await settledState(stack.admin);

  const ended = await drive(stack, s, record, opts);
  await stack.admin.clearFaults();
  const after = await quiescentState(stack);
  if (ended) {
    classify(record, ended.how, before, after, s);
    record.violations.push(...(await runbookViews(stack, ended, record.outcome, scheduleId)));
  }
  record.ms = Date.now() - started;
  return record;
}

interface Finished {
  handle: WorkflowHandle;
  how: Ended;
}

/** Start the run, inject each fault (and the cancel) once its trigger is met, until the run ends or the deadline. */
async function drive(
  stack: ProcessStack,
  s: FaultSchedule,
  record: RunRecord,
  opts: DriverOptions,
): Promise<Finished | undefined> {
  const { admin, client } = stack;
  const waiting = s.faults.map((f) => ({
    trigger: f.trigger,
    fire: async () => {
      await admin.addFault(f.spec);
      record.injected.push(f.kind);
    },
  }));
  for (const w of waiting.filter((x) => x.trigger.at === 'upfront')) await w.fire();
  waiting.splice(0, waiting.length, ...waiting.filter((x) => x.trigger.at !== 'upfront'));

  const handle: WorkflowHandle = await client.workflow.start('provisionGmsaRemoting', {
    taskQueue: stack.taskQueue,
    workflowId: `gmsa-provision-${s.request.ticket.key}`,
    args: [s.request],
  });
  const runStarted = Date.now();
  if (s.cancel) {
    waiting.push({
      trigger: s.cancel,
      fire: async () => {
        record.cancelled = true;
        // The run may have ended already: a cancel of a closed run is refused, which is fine.
        await handle.cancel().catch(() => undefined);
      },
    });
  }

  let ended: Ended | undefined;
  const result = handle.result().then(
    (r: ProvisionResult): Ended => ({ ok: true, result: r }),
    (error: unknown): Ended => ({ ok: false, error }),
  );
  void result.then((e) => (ended = e));
  const deadline = runStarted + opts.runTimeoutMs;
  while (ended === undefined && Date.now() < deadline) {
    if (waiting.length > 0) {
      const progress = waiting.some((w) => w.trigger.at === 'step')
        ? await handle.query<RunbookProgress>('progress').catch(() => undefined)
        : undefined;
      const events = waiting.some((w) => w.trigger.at === 'event') ? await admin.events() : undefined;
      for (const w of [...waiting]) {
        if (!triggered(w.trigger, Date.now() - runStarted, progress, events)) continue;
        waiting.splice(waiting.indexOf(w), 1);
        await w.fire();
      }
    }
    await Promise.race([result, sleep(opts.pollMs ?? 25)]);
  }
  if (ended !== undefined) return { handle, how: ended };
  record.outcome = 'hung';
  record.violations.push(`the run did not end within ${opts.runTimeoutMs / 1000} s (terminated)`);
  await handle.terminate('reliability suite: the run did not end in time').catch(() => undefined);
  await result;
  return undefined;
}

/** How the run itself reports its end: the `progress` query's state, and the re-verification schedule. */
async function runbookViews(stack: ProcessStack, ended: Finished, outcome: Outcome, scheduleId: string) {
  const out: string[] = [];
  const expected: Partial<Record<Outcome, RunbookProgress['state']>> = {
    succeeded: 'succeeded',
    'rolled-back': 'rolled-back',
    refused: 'rolled-back',
    cancelled: 'cancelled',
    'needs-human': 'needs-human',
  };
  const want = expected[outcome];
  try {
    const progress = await ended.handle.query<RunbookProgress>('progress');
    if (want && progress.state !== want) out.push(`progress state is ${progress.state}, expected ${want}`);
  } catch (err) {
    out.push(`the progress query failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const exists = await stack.client.schedule
    .getHandle(scheduleId)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof ScheduleNotFoundError) return false;
        throw err;
      },
    );
  const created = ended.how.ok && ended.how.result.verifySchedule?.ok === true;
  if (exists && !created) out.push(`re-verification schedule ${scheduleId} exists after a run that ended ${outcome}`);
  if (!exists && created) out.push(`re-verification schedule ${scheduleId} is missing, the result says it was made`);
  return out;
}

function classify(
  record: RunRecord,
  ended: Ended,
  before: ComparableState,
  after: ComparableState,
  s: FaultSchedule,
): void {
  const v = record.violations;
  if (ended.ok) {
    const r = ended.result;
    if (r.status !== 'succeeded') {
      record.outcome = 'unexpected';
      v.push(`the run returned status ${r.status}`);
      return;
    }
    record.outcome = 'succeeded';
    v.push(...provisionedViolations(before, after, s.request).map((x) => `succeeded but not provisioned: ${x}`));
    const expected = `LAB\\${s.request.gmsa.name}$`;
    for (const host of s.request.hosts) {
      const identity = Object.entries(r.identities).find(([h]) => eqi(h, host))?.[1];
      if (!identity || !eqi(identity, expected)) v.push(`${host}: verified identity ${identity ?? 'missing'}`);
    }
    return;
  }
  const err = ended.error;
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (cause instanceof CancelledFailure) {
    record.outcome = 'cancelled';
    record.failureType = 'Cancelled';
    v.push(...unchangedViolations(before, after).map((x) => `cancelled but changed: ${x}`));
    return;
  }
  if (!(cause instanceof ApplicationFailure)) {
    record.outcome = 'unexpected';
    v.push(`the run ended with ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return;
  }
  record.failureType = cause.type ?? '(none)';
  if (!isFailureType(cause.type)) v.push(`the run failed with an untyped failure: ${record.failureType}`);
  const report = cause.details?.[0] as RollbackReport | undefined;
  if (cause.type === 'RollbackIncomplete') {
    record.outcome = 'needs-human';
    record.needsHuman = (report?.needsHuman ?? []).map((n) => n.name);
    record.cause = report?.cause.type;
    if (record.cause !== 'Cancelled' && !isFailureType(record.cause)) {
      v.push(`the rollback was caused by an untyped failure: ${record.cause ?? '(no report)'}`);
    }
    if (record.needsHuman.length === 0) v.push('RollbackIncomplete without a list of what needs a human');
    v.push(...leftoverMismatch(unchangedViolations(before, after), record.needsHuman));
    return;
  }
  record.outcome = report && report.undone.length === 0 ? 'refused' : 'rolled-back';
  if (report && report.needsHuman.length > 0) v.push(`failed with needsHuman listed but type ${cause.type}`);
  v.push(...unchangedViolations(before, after).map((x) => `${record.outcome} but changed: ${x}`));
}

/** What a difference between before and after is about: the gMSA, an endpoint on a host, or something else. */
function leftoverKey(diff: string): string {
  const dc = /^[^:]+: msDS-GroupManagedServiceAccount\/(\S+) (?:appeared|changed|disappeared)$/.exec(diff);
  if (dc) return `gMSA ${dc[1].toLowerCase()}`;
  const ep = /^([^:]+): endpoint (\S+) (?:appeared|changed|disappeared)$/.exec(diff);
  if (ep) return `endpoint ${ep[2].toLowerCase()} on ${ep[1].toLowerCase()}`;
  return `other: ${diff}`;
}

/** What a needs-human entry (a compensation's name, workflows/provision.ts) says is left. */
function reportedKey(name: string): string {
  const gmsa = /^remove gMSA (\S+)$/.exec(name) ?? /^remove principals .* from (\S+)$/.exec(name);
  if (gmsa) return `gMSA ${gmsa[1].toLowerCase()}$`;
  const ep = /^unregister (\S+) on (\S+)$/.exec(name);
  if (ep) return `endpoint ${ep[1].toLowerCase()} on ${ep[2].toLowerCase()}`;
  return `unrecognised: ${name}`;
}

/** The report must name exactly what the lab shows left behind: nothing silent, nothing imagined. */
function leftoverMismatch(diffs: string[], needsHuman: string[]): string[] {
  const left = new Map<string, string[]>();
  for (const d of diffs) left.set(leftoverKey(d), [...(left.get(leftoverKey(d)) ?? []), d]);
  const reported = new Set(needsHuman.map(reportedKey));
  const out: string[] = [];
  for (const [key, lines] of left) {
    if (!reported.has(key)) out.push(`left behind and not reported: ${lines.join('; ')}`);
  }
  for (const key of reported) {
    if (!left.has(key)) out.push(`reported as needing a human, but the lab shows nothing left: ${key}`);
  }
  return out;
}

/**
 * Run every schedule, one at a time per stack (the invariants compare a whole lab), the stacks side by side.
 * A driver error (the lab or Temporal not answering) is recorded as a violation of that run, not a crash.
 */
export async function runPool(
  stacks: ProcessStack[],
  schedules: FaultSchedule[],
  opts: DriverOptions,
  onDone: (index: number, record: RunRecord) => void,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  let next = 0;
  await Promise.all(
    stacks.map(async (stack) => {
      while (next < schedules.length) {
        const i = next++;
        const started = Date.now();
        records[i] = await runSchedule(stack, schedules[i], opts).catch((err: unknown): RunRecord => ({
          schedule: schedules[i],
          outcome: 'unexpected',
          injected: [],
          cancelled: false,
          needsHuman: [],
          violations: [`the driver failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`],
          ms: Date.now() - started,
        }));
        onDone(i, records[i]);
      }
    }),
  );
  return records;
}
