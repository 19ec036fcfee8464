/**
 * Crash at every step boundary: the worker process is SIGKILLed at one point of provisionGmsaRemoting, a new worker
 * process is started, and the run must finish with exactly one gMSA, one endpoint per host, no duplicate or
 * orphaned object in the lab, the verify schedule in place and the ticket told (kill-harness expectProvisioned).
 *
 * The valuable kill points are "the side effect happened in the lab, the worker had not reported it". Where polling
 * alone would be a race, a lab fault holds the step open: a one-shot WinRM hang (the worker waits on the call), or
 * an operation that takes effect and then fails (the activity waits for its retry). Such cases check in the workflow
 * history that the strike landed there: the activity aimed at was finished by the replacement worker, on a later
 * attempt than the one that was cut short.
 *
 * What a kill costs: a worker killed inside an activity is noticed only at the 30 s heartbeat timeout of the
 * runbook's activity options; one killed between activities costs at most the 10 s sticky-queue timeout of the
 * next workflow task. `npm test` runs the cheap, deterministic slice; GMSA_RELIABILITY=full runs every point (the
 * cheap ones twice). Cases run a few at a time, each on a stack of its own.
 */
import { fullReliabilityRun, type ManagedProcess } from '../support/processes';
import {
  caseConcurrency,
  CaseLog,
  executionOf,
  expectProvisioned,
  expectRolledBack,
  faultSpent,
  killAndReplaceWorker,
  labEvent,
  limiter,
  oneShotFault,
  progressReached,
  resultWithin,
  retryPending,
  selectCases,
  ticketMilestones,
  untilStrike,
  withRun,
  workerIdentity,
  type KillCase,
  type RunCaseOptions,
  type RunFacts,
} from './support/kill-harness';
import type { ProvisionResult } from '../../runbook/progress';
import { approveUpdate } from '../../workflows/definitions';

const S1 = 'server1.lab.local';
const S2 = 'server2.lab.local';
const DC4 = 'dc4.lab.local';
/** Long enough to kill the worker inside the hung call; the lab answers the dead socket later. */
const HANG_MS = 5_000;

interface KillPoint {
  name: string;
  /** Part of the short slice that `npm test` runs. */
  slice: boolean;
  /** Nothing is left in flight by the kill (no 30 s heartbeat timeout to sit out): repeated in the full run. */
  cheap: boolean;
  opts?: RunCaseOptions;
  /** Resolves at the moment the worker must die. */
  strikeWhen: (c: KillCase) => Promise<void>;
  /** Between the kill and the replacement worker (e.g. lift the fault that held the step open). */
  afterKill?: (c: KillCase) => Promise<void>;
  /** Once the replacement polls (e.g. the approval the run waits for). */
  afterReplace?: (c: KillCase) => Promise<void>;
  /** Runs that fail for good on purpose: the failure type, and the lab must be back to its state before the run. */
  rolledBack?: string;
  /**
   * The activity the kill aims at. `exact`: the strike is deterministic, so the case fails unless the replacement
   * ran that activity's last attempt (with `retried`: a later attempt than the first) and it completed. Otherwise
   * where the kill landed is only reported (it races the worker's report by a few milliseconds).
   */
  lands?: { activity: string; host?: string; last?: boolean; retried: boolean; exact: boolean };
  /** More checks for this point, after the run. */
  check?: (facts: RunFacts & { result: ProvisionResult | null }, first: ManagedProcess) => void;
}

/** An operation that takes effect and then fails once, retryably: the reply was lost, the activity will retry. */
const replyLost = (operation: string, target?: string): NonNullable<RunCaseOptions['faults']>[number] => ({
  kind: 'fail-operation',
  operation,
  failureType: 'TransientFault',
  when: 'after',
  times: 1,
  ...(target ? { target } : {}),
});

/** The identity check on `host` fails for good: the run rolls back. */
const identityFailsFor = (host: string): NonNullable<RunCaseOptions['faults']>[number] => ({
  kind: 'fail-operation',
  operation: 'invokeIdentityProbe',
  failureType: 'IdentityMismatch',
  target: host,
});

/** Hold the run in the replication wait (dc4 blocked), arm a one-shot WinRM hang on `host`, let the run go on. */
async function hangFirstHostCall(c: KillCase, host: string): Promise<void> {
  await progressReached(c, 'the replication wait', (p) => p.replication !== null);
  const id = await c.stack.admin.addFault({ kind: 'winrm-hang', host, hangMs: HANG_MS, remaining: 1 });
  await c.stack.admin.removeFault(c.faultIds[0]);
  await faultSpent(c, id);
}

const KILL_POINTS: KillPoint[] = [
  {
    name: 'start: right after the run was started (first workflow task, started ticket update)',
    slice: false,
    cheap: false,
    strikeWhen: () => Promise.resolve(),
  },
  {
    name: 'preflight: in flight, its WinRM call to server1 hung',
    slice: false,
    cheap: false,
    opts: { faults: [{ kind: 'winrm-hang', host: S1, hangMs: HANG_MS, remaining: 1 }] },
    strikeWhen: (c) => faultSpent(c, c.faultIds[0]),
    lands: { activity: 'preflight', retried: true, exact: true },
  },
  {
    name: 'create-gmsa: createServiceAccount took effect, the activity had not reported',
    slice: false,
    cheap: false,
    strikeWhen: async (c) => {
      await labEvent(c, 'createServiceAccount', (e) => e.op === 'createServiceAccount');
    },
    lands: { activity: 'ensureServiceAccount', retried: true, exact: false },
  },
  {
    name: 'create-gmsa: createServiceAccount took effect but its reply was lost; killed while the retry waits',
    slice: true,
    cheap: true,
    opts: { faults: [replyLost('createServiceAccount')] },
    strikeWhen: (c) => retryPending(c, 'ensureServiceAccount'),
    lands: { activity: 'ensureServiceAccount', retried: true, exact: true },
  },
  {
    name: 'wait-replication: in the durable timer, dc4 not replicated yet (blocked)',
    // npm test has this one already: test/workflows/worker-restart.test.ts.
    slice: false,
    cheap: true,
    opts: { faults: [{ kind: 'replication-blocked', dc: DC4 }] },
    strikeWhen: async (c) => {
      await progressReached(c, 'the replication wait, dc4 pending', (p) =>
        Boolean(p.replication?.pending.some((x) => x.dc === DC4)),
      );
    },
    afterKill: (c) => c.stack.admin.clearFaults(),
    lands: { activity: 'checkReplication', last: true, retried: false, exact: true },
  },
  {
    name: 'wait-replication: between checks while dc4 catches up (no fault)',
    slice: false,
    cheap: false,
    strikeWhen: async (c) => {
      await progressReached(c, 'a first replication check', (p) => (p.replication?.pending.length ?? 0) > 0);
    },
    lands: { activity: 'checkReplication', last: true, retried: false, exact: false },
  },
  {
    name: 'hosts: authorizeHost in flight on server1, its WinRM call hung (server2 under way)',
    slice: false,
    cheap: false,
    opts: { faults: [{ kind: 'replication-blocked', dc: DC4 }] },
    strikeWhen: (c) => hangFirstHostCall(c, S1),
    lands: { activity: 'authorizeHost', host: S1, retried: true, exact: true },
  },
  {
    name: 'hosts: startRegistration on server1 took effect, registerEndpoint had not reported',
    slice: false,
    cheap: false,
    // The activity looks again 500 ms after starting the detached registration: time enough to kill it first.
    opts: { stack: { hostPollMs: 500 } },
    strikeWhen: async (c) => {
      await labEvent(c, `startRegistration on ${S1}`, (e) => e.op === 'startRegistration' && e.target === S1);
    },
    lands: { activity: 'registerEndpoint', host: S1, retried: true, exact: true },
  },
  {
    name: 'hosts: startRegistration on server1 took effect but its reply was lost; killed while the retry waits (server2 under way)',
    slice: false,
    cheap: false,
    opts: { faults: [replyLost('startRegistration', S1)] },
    strikeWhen: (c) => retryPending(c, 'registerEndpoint'),
    lands: { activity: 'registerEndpoint', host: S1, retried: true, exact: true },
  },
  {
    name: 'hosts (one at a time): startRegistration on server1 took effect but its reply was lost; killed while the retry waits',
    slice: true,
    cheap: true,
    opts: { request: { maxParallelHosts: 1 }, faults: [replyLost('startRegistration', S1)] },
    strikeWhen: (c) => retryPending(c, 'registerEndpoint'),
    lands: { activity: 'registerEndpoint', host: S1, retried: true, exact: true },
  },
  {
    name: 'hosts: server1 registered, verifyIdentity waiting for its retry',
    slice: false,
    cheap: false,
    opts: {
      faults: [
        {
          kind: 'fail-operation',
          operation: 'invokeIdentityProbe',
          failureType: 'GmsaNotUsableYet',
          times: 1,
          target: S1,
        },
      ],
    },
    strikeWhen: (c) => retryPending(c, 'verifyIdentity'),
    lands: { activity: 'verifyIdentity', host: S1, retried: true, exact: true },
  },
  {
    name: 'hosts: verifyIdentity in flight on server1, its WinRM call hung',
    slice: false,
    cheap: false,
    opts: {
      faults: [
        {
          kind: 'fail-operation',
          operation: 'invokeIdentityProbe',
          failureType: 'GmsaNotUsableYet',
          times: 1,
          target: S1,
        },
      ],
    },
    strikeWhen: async (c) => {
      // The first probe fails; its retry comes a second later and hangs.
      await retryPending(c, 'verifyIdentity');
      await oneShotFault(c, { kind: 'winrm-hang', host: S1, hangMs: HANG_MS });
    },
    lands: { activity: 'verifyIdentity', host: S1, retried: true, exact: true },
  },
  {
    name: 'hosts (one at a time): server1 verified, server2 authorizing, its WinRM call hung',
    slice: false,
    cheap: false,
    opts: { request: { maxParallelHosts: 1 }, faults: [{ kind: 'replication-blocked', dc: DC4 }] },
    strikeWhen: (c) => hangFirstHostCall(c, S2),
    lands: { activity: 'authorizeHost', host: S2, retried: true, exact: true },
    check: ({ executions }, first) => {
      // What server1 finished before the crash is not done again.
      for (const type of ['authorizeHost', 'registerEndpoint', 'verifyIdentity']) {
        const a = executionOf(executions, type, { host: S1 });
        expect({ type, startedBy: a.startedBy?.split('@')[0], attempt: a.attempt }).toEqual({
          type,
          startedBy: String(first.child.pid),
          attempt: 1,
        });
      }
    },
  },
  {
    name: 'approval: the run waits for approval (durable condition), approved after the restart',
    slice: false,
    cheap: true,
    opts: { request: { approval: { required: true, timeoutSeconds: 600 } } },
    strikeWhen: async (c) => {
      // The ticket has been told and its update has reported (no activity in flight): the run only waits.
      await untilStrike(c, 'the awaiting-approval ticket update, reported', async () => {
        if (!ticketMilestones(c.workers, c.request.ticket.key).includes('awaiting-approval')) return false;
        return ((await c.handle.describe()).raw.pendingActivities ?? []).length === 0;
      });
    },
    afterReplace: async (c) => {
      expect(await c.handle.executeUpdate(approveUpdate, { args: [{ approver: 'ops-lead' }] })).toEqual({
        decision: 'approved',
        approver: 'ops-lead',
      });
    },
    check: ({ result }) => {
      expect(result?.approval).toEqual({ decision: 'approved', approver: 'ops-lead' });
    },
  },
  {
    name: 'rollback: startUnregistration on server1 took effect, the undo had not reported',
    slice: false,
    cheap: false,
    // server2's identity check fails for good; the undo looks again 500 ms after starting the unregistration.
    opts: { stack: { hostPollMs: 500 }, faults: [identityFailsFor(S2)] },
    strikeWhen: async (c) => {
      await labEvent(c, `startUnregistration on ${S1}`, (e) => e.op === 'startUnregistration' && e.target === S1);
    },
    rolledBack: 'IdentityMismatch',
    lands: { activity: 'unregisterEndpointIfOurs', host: S1, retried: true, exact: true },
  },
  {
    name: "rollback: removeServiceAccount took effect but its reply was lost; killed while the undo's retry waits",
    slice: false,
    cheap: true,
    opts: { faults: [identityFailsFor(S2), replyLost('removeServiceAccount')] },
    strikeWhen: (c) => retryPending(c, 'removeServiceAccountIfOurs'),
    rolledBack: 'IdentityMismatch',
    lands: { activity: 'removeServiceAccountIfOurs', retried: true, exact: true },
  },
  {
    name: 'end: every host verified, the verify schedule being created',
    slice: false,
    cheap: false,
    strikeWhen: async (c) => {
      await progressReached(c, 'hosts done', (p) => p.steps.hosts.status === 'done');
    },
    lands: { activity: 'ensureVerifySchedule', retried: true, exact: false },
  },
  {
    name: 'end: the succeeded ticket update in flight',
    slice: false,
    cheap: false,
    strikeWhen: async (c) => {
      await progressReached(c, 'state succeeded', (p) => p.state === 'succeeded');
    },
  },
];

/** The full run repeats the cheap points once more: a second draw of every race they contain. */
const cases = [
  ...selectCases(KILL_POINTS).map((k) => ({ ...k, point: k.name })),
  ...(fullReliabilityRun()
    ? KILL_POINTS.filter((k) => k.cheap).map((k) => ({ ...k, point: k.name, name: `${k.name} (2nd run)` }))
    : []),
];
const log = new CaseLog('crash-recovery kill points', KILL_POINTS.length);
const limit = limiter(caseConcurrency());

afterAll(() => {
  console.log(log.summary());
});

const expected = (k: KillPoint): string =>
  k.rolledBack
    ? `it fails with ${k.rolledBack} and rolls back to the state before the run`
    : 'it finishes with one gMSA, one endpoint per host';
test.concurrent.each(cases.map((k) => [k.name, expected(k), k] as const))(
  'worker SIGKILLed at %s; on a new worker %s',
  (_name, _expected, point) => limit(() => runKillPoint(point)),
  15 * 60_000,
);

async function runKillPoint(point: KillPoint & { point: string }): Promise<void> {
  const started = Date.now();
  let landed: 'yes' | 'no' | 'n/a' = 'n/a';
  let note: string | undefined;
  const phases: string[] = [];
  try {
    await withRun(
      point.name,
      point.opts ?? {},
      async (c) => {
        const first = c.workers[0];
        await point.strikeWhen(c);
        c.phase('struck');
        const { afterKill } = point;
        const replacement = await killAndReplaceWorker(c, afterKill && (() => afterKill(c)));
        c.phase('replaced');
        await point.afterReplace?.(c);
        const outcome = resultWithin(c, 180_000, c.handle.result());
        let result: ProvisionResult | null = null;
        let facts: RunFacts;
        if (point.rolledBack === undefined) {
          result = await outcome;
          c.phase('ended');
          facts = await expectProvisioned(c, result);
        } else {
          facts = await expectRolledBack(c, outcome, point.rolledBack);
          c.phase('ended');
          // Every undo took effect exactly once in the lab, whatever the kill cut short.
          const count = (op: string, target?: string): number =>
            facts.events.filter((e) => e.op === op && (target === undefined || e.target === target)).length;
          expect({
            removeServiceAccount: count('removeServiceAccount'),
            startUnregistration: c.request.hosts.map((h) => count('startUnregistration', h)),
          }).toEqual({ removeServiceAccount: 1, startUnregistration: c.request.hosts.map(() => 1) });
        }
        const { executions } = facts;
        const notes: string[] = [];
        // Ticket updates are at least once: one whose report the kill cut short is posted again. Reported, not failed.
        const posted = ticketMilestones(c.workers, c.request.ticket.key);
        const again = [...new Set(posted)].filter(
          (m) => posted.filter((x) => x === m).length > (m === 'host-done' ? c.request.hosts.length : 1),
        );
        if (again.length > 0) notes.push(`ticket update(s) posted again: ${again.join(', ')}`);

        const aimed = point.lands && {
          ...point.lands,
          execution: executionOf(executions, point.lands.activity, point.lands),
        };
        if (aimed) {
          const { activity, host, retried, execution: a } = aimed;
          const byReplacement = a.startedBy?.startsWith(workerIdentity(replacement)) ?? false;
          landed = byReplacement && a.outcome === 'completed' && (!retried || a.attempt >= 2) ? 'yes' : 'no';
          notes.unshift(
            `${activity}${host ? ` on ${host}` : ''}: last attempt ${a.attempt} ${a.outcome}, by the ${byReplacement ? 'replacement' : 'killed worker'}`,
          );
        }
        note = notes.join('; ') || undefined;

        if (aimed?.exact) {
          const { activity, host, retried, execution: a } = aimed;
          expect({ activity, host, lastAttemptBy: a.startedBy?.split('@')[0], outcome: a.outcome }).toEqual({
            activity,
            host,
            lastAttemptBy: String(replacement.child.pid),
            outcome: 'completed',
          });
          if (retried) expect(a.attempt).toBeGreaterThanOrEqual(2);
        }
        point.check?.({ ...facts, result }, first);
      },
      phases,
    );
  } finally {
    log.add({ point: point.point, name: point.name, seconds: (Date.now() - started) / 1000, landed, note, phases });
  }
}
