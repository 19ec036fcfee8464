/**
 * Restarts mid-run of the two processes the worker depends on, each keeping only what it persisted:
 *
 * - the Temporal dev server (its SQLite file kept): the run finishes, including an activity that was in flight
 *   across the restart and a durable timer that was pending across it;
 * - the lab (its JSON state file kept): its state survives (objects, pending replication, a registration job,
 *   faults), and the run finishes — or, when it was failing anyway, rolls back to the state before the run — also
 *   when the lab stays down for a few seconds and activities see connection refused.
 *
 * The workers are not touched: they must ride out the outage on their own.
 */
import {
  caseConcurrency,
  CaseLog,
  executionOf,
  expectProvisioned,
  expectRolledBack,
  faultSpent,
  labEvent,
  limiter,
  pollUntil,
  progressReached,
  resultWithin,
  selectCases,
  withRun,
  type KillCase,
  type RunCaseOptions,
  type RunFacts,
} from './support/kill-harness';

const S1 = 'server1.lab.local';
const S2 = 'server2.lab.local';
const DC1 = 'dc1.lab.local';
const DC4 = 'dc4.lab.local';

interface RestartCase {
  name: string;
  slice: boolean;
  opts?: RunCaseOptions;
  /** Resolves at the moment of the restart. */
  strikeWhen: (c: KillCase) => Promise<void>;
  strike: (c: KillCase) => Promise<void>;
  /** After the restarted process is back. */
  afterStrike?: (c: KillCase) => Promise<void>;
  /** How the run must end: provisioned, or failed with this type and rolled back. */
  outcome: { provisioned: true } | { rolledBack: string };
  check?: (facts: RunFacts, c: KillCase) => void;
}

/** Fails every Get-PSSessionConfiguration on `host` with a WinRM transport error: registerEndpoint keeps polling. */
const sessionQueriesFail = {
  kind: 'fail-operation',
  operation: 'getSessionConfiguration',
  failureType: 'WinRmTransport',
} as const;

const CASES: RestartCase[] = [
  {
    name: 'temporal: restarted while preflight is in flight (its WinRM call to server1 hung)',
    slice: false,
    opts: { faults: [{ kind: 'winrm-hang', host: S1, hangMs: 4_000, remaining: 1 }] },
    strikeWhen: (c) => faultSpent(c, c.faultIds[0]),
    strike: (c) => c.stack.restartTemporal(),
    outcome: { provisioned: true },
  },
  {
    name: 'temporal: restarted while registerEndpoint polls server1 (it completes after the restart, first attempt)',
    slice: true,
    opts: { faults: [{ kind: 'replication-blocked', dc: DC4 }] },
    strikeWhen: async (c) => {
      // Held in the replication wait, then every look at server1's endpoints fails until the restart is over.
      await progressReached(c, 'the replication wait', (p) => p.replication !== null);
      await c.stack.admin.addFault({ ...sessionQueriesFail, target: S1 });
      await c.stack.admin.removeFault(c.faultIds[0]);
      await labEvent(
        c,
        'registerEndpoint polling server1',
        (e) => e.op === 'faultFired' && e.target === S1 && (e.detail ?? '').includes('getSessionConfiguration'),
      );
    },
    strike: (c) => c.stack.restartTemporal(),
    afterStrike: (c) => c.stack.admin.clearFaults(),
    outcome: { provisioned: true },
    check: ({ executions }) => {
      // The activity that was running across the restart reported its completion; nothing had to retry it.
      const a = executionOf(executions, 'registerEndpoint', { host: S1 });
      expect({ outcome: a.outcome, attempt: a.attempt }).toEqual({ outcome: 'completed', attempt: 1 });
    },
  },
  {
    name: 'temporal: restarted while the run waits for replication (durable timer pending)',
    slice: false,
    opts: { faults: [{ kind: 'replication-blocked', dc: DC4 }] },
    strikeWhen: async (c) => {
      await progressReached(c, 'the replication wait, dc4 pending', (p) =>
        Boolean(p.replication?.pending.some((x) => x.dc === DC4)),
      );
    },
    strike: (c) => c.stack.restartTemporal(),
    afterStrike: (c) => c.stack.admin.clearFaults(),
    outcome: { provisioned: true },
  },
  {
    name: 'temporal: down for 3 s during the host fan-out',
    slice: false,
    strikeWhen: async (c) => {
      await labEvent(c, 'a first startRegistration', (e) => e.op === 'startRegistration');
    },
    strike: (c) => c.stack.restartTemporal({ downMs: 3_000 }),
    outcome: { provisioned: true },
  },
  {
    name: 'lab: restarted right after startRegistration on server1 (registration job just started)',
    slice: true,
    strikeWhen: async (c) => {
      await labEvent(c, `startRegistration on ${S1}`, (e) => e.op === 'startRegistration' && e.target === S1);
    },
    strike: (c) => c.stack.restartLab(),
    outcome: { provisioned: true },
  },
  {
    name: 'lab: down for 3 s during the host fan-out (activities see connection refused and retry)',
    slice: false,
    strikeWhen: async (c) => {
      await labEvent(c, 'a first startRegistration', (e) => e.op === 'startRegistration');
    },
    strike: (c) => c.stack.restartLab({ downMs: 3_000 }),
    outcome: { provisioned: true },
  },
  {
    name: 'lab: down for 3 s during the replication wait (the checks see every DC unreachable and keep waiting)',
    slice: false,
    strikeWhen: async (c) => {
      await progressReached(c, 'a first replication check', (p) => (p.replication?.pending.length ?? 0) > 0);
    },
    strike: (c) => c.stack.restartLab({ downMs: 3_000 }),
    outcome: { provisioned: true },
  },
  {
    name: 'lab: restarted while a fault holds the replication wait (the gMSA, the pending replication and the fault survive)',
    slice: false,
    opts: { faults: [{ kind: 'replication-blocked', dc: DC4 }] },
    strikeWhen: async (c) => {
      await progressReached(c, 'the replication wait, dc4 pending', (p) =>
        Boolean(p.replication?.pending.some((x) => x.dc === DC4)),
      );
    },
    strike: (c) => c.stack.restartLab(),
    afterStrike: async (c) => {
      // The restarted lab still blocks dc4 and still has the gMSA on dc1 but not on dc4.
      expect((await c.stack.admin.listFaults()).map((f) => f.id)).toEqual(c.faultIds);
      const onDc = async (dc: string) =>
        (await c.stack.backend.directory.findAccountsNamed(dc, c.request.gmsa.name)).length;
      expect({ dc1: await onDc(DC1), dc4: await onDc(DC4) }).toEqual({ dc1: 1, dc4: 0 });
      await c.stack.admin.clearFaults();
    },
    outcome: { provisioned: true },
  },
  {
    name: 'lab: restarted during the rollback, while endpoints are being unregistered',
    slice: false,
    opts: {
      // server2's identity check fails for good: the run rolls back what it did on both hosts and the gMSA.
      faults: [
        {
          kind: 'fail-operation',
          operation: 'invokeIdentityProbe',
          failureType: 'IdentityMismatch',
          target: S2,
        },
      ],
    },
    strikeWhen: async (c) => {
      await labEvent(c, 'a first startUnregistration', (e) => e.op === 'startUnregistration');
    },
    strike: (c) => c.stack.restartLab(),
    outcome: { rolledBack: 'IdentityMismatch' },
    check: ({ events }) => {
      expect(events.filter((e) => e.op === 'removeServiceAccount')).toHaveLength(1);
    },
  },
];

const cases = selectCases(CASES);
const log = new CaseLog('restarts: restart points', CASES.length);
const limit = limiter(caseConcurrency());

afterAll(() => {
  console.log(log.summary());
});

test.concurrent.each(cases.map((r) => [r.name, r] as const))(
  '%s',
  (_name, restart) => limit(() => runRestart(restart)),
  15 * 60_000,
);

async function runRestart(r: RestartCase): Promise<void> {
  const started = Date.now();
  const phases: string[] = [];
  try {
    await withRun(
      r.name,
      r.opts ?? {},
      async (c) => {
        await r.strikeWhen(c);
        c.phase('struck');
        await r.strike(c);
        c.phase('back');
        // The restarted server answers (and the lab is back) before the run is asked anything more.
        await pollUntil('the restarted processes to answer', async () => {
          await c.stack.admin.healthy();
          await c.handle.describe();
          return true;
        });
        await r.afterStrike?.(c);
        const outcome = resultWithin(c, 180_000, c.handle.result());
        const facts =
          'provisioned' in r.outcome
            ? await expectProvisioned(c, await outcome)
            : await expectRolledBack(c, outcome, r.outcome.rolledBack);
        c.phase('checked');
        r.check?.(facts, c);
      },
      phases,
    );
  } finally {
    log.add({ point: r.name, name: r.name, seconds: (Date.now() - started) / 1000, landed: 'n/a', phases });
  }
}
