/**
 * Randomized fault schedules (issue 7): N runs of provisionGmsaRemoting, each with a seeded random request and a
 * random set of lab faults (DC down, replication blocked, host unreachable, WinRM hang, a step failing k times, a
 * permanent failure, an undo that cannot finish, a virtual-account endpoint, DisableRunAs) and sometimes a cancel,
 * injected up front or at random moments. Every run must end, with a typed outcome, either fully provisioned and
 * verified or with the lab as it was before, or needing a human for exactly what the lab shows left behind.
 *
 *   npm test                                   a short slice (8 runs)
 *   GMSA_RELIABILITY=full npx jest test/reliability/random-faults.test.ts    200 runs
 *   GMSA_RELIABILITY_RUNS=50                   any N
 *   GMSA_RELIABILITY_SEED=<seed>               the first run's seed (run i has seed+i); with RUNS=1, one schedule
 *   GMSA_RELIABILITY_STACKS=<k>                process stacks side by side (each: Temporal, lab, worker)
 *   GMSA_RELIABILITY_TIME_SCALE=<x>            the labs' time scale (default 0.002; races need slower ones)
 */
import { fullReliabilityRun, startProcessStack, type ProcessStack } from '../support/processes';
import { runPool, type RunRecord } from './support/fault-driver';
import { countsTable, runLine } from './support/fault-report';
import { generateSchedule } from './support/fault-schedule';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer (got ${raw})`);
  return n;
}

const FULL = fullReliabilityRun();
const RUNS = intEnv('GMSA_RELIABILITY_RUNS', FULL ? 200 : 8);
const SEED = intEnv('GMSA_RELIABILITY_SEED', Math.floor(Math.random() * 2 ** 32)) >>> 0;
const STACKS = Math.max(1, Math.min(intEnv('GMSA_RELIABILITY_STACKS', FULL ? 3 : 2), RUNS || 1));
const TIME_SCALE = process.env.GMSA_RELIABILITY_TIME_SCALE
  ? Number(process.env.GMSA_RELIABILITY_TIME_SCALE)
  : undefined;
/** A run may legitimately take ~2 minutes (a failure that outlasts its retries, then patient undos). */
const RUN_TIMEOUT_MS = 240_000;

interface RegressionCase {
  seed: number;
  /** The lab's time scale when the bug needs slower latencies than the suite's 0.002 to show. */
  timeScale?: number;
  /** Timing-dependent cases run more than once; any violation fails. */
  repeat?: number;
}

/** Seeds whose schedules broke the invariant, kept as named regression cases (run in every mode). */
const REGRESSIONS: Record<string, RegressionCase> = {
  // Cancel once every host is verified: the run rolls everything back and ends cancelled, but the re-verification
  // schedule it created (ensureVerifySchedule, no compensation; scheduleReverification swallows the cancel) stays.
  'a cancel at the very end leaves gmsa-verify-<name> behind': { seed: 705, repeat: 2 },
  // startRegistration takes effect and then fails for good: the undo looks before the detached registration has
  // finished, gets ObjectNotFound from startUnregistration and reports the endpoint removed; the registration then
  // completes, leaving an endpoint that runs as the removed gMSA, while the run says "rolled back".
  'a registration that finishes after its undo looked is left behind (lab time scale 0.4)': {
    seed: 76078,
    timeScale: 0.4,
  },
};

const write = (text: string): void => void process.stdout.write(`${text}\n`);

describe('randomized fault schedules', () => {
  const stacks: ProcessStack[] = [];

  beforeAll(async () => {
    const started = await Promise.allSettled(
      Array.from({ length: STACKS }, async () => {
        const stack = await startProcessStack({ timeScale: TIME_SCALE });
        stacks.push(stack);
        await stack.startWorker();
      }),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.close()));
  }, 60_000);

  async function run(seeds: number[], header: string, on = stacks, timeScale = TIME_SCALE): Promise<RunRecord[]> {
    const began = Date.now();
    write(`${header}: ${seeds.length} run(s) on ${on.length} stack(s), seeds ${seeds[0]}…`);
    const records = await runPool(
      on,
      seeds.map((seed) => generateSchedule(seed)),
      { runTimeoutMs: RUN_TIMEOUT_MS },
      (i, r) => write(runLine(i, r)),
    );
    const env = timeScale === undefined ? '' : `GMSA_RELIABILITY_TIME_SCALE=${timeScale} `;
    write(countsTable(records, Date.now() - began, `${header} (first seed ${seeds[0]})`, env));
    return records;
  }

  const expectNoViolations = (records: RunRecord[]): void => {
    const violating = records.filter((r) => r.violations.length > 0);
    expect(violating.map((r) => ({ seed: r.schedule.seed, violations: r.violations }))).toEqual([]);
  };

  test(
    `${RUNS} randomized fault schedules (seed ${SEED}) end provisioned, unchanged, or needing a human for exactly what is left`,
    async () => {
      const seeds = Array.from({ length: RUNS }, (_, i) => (SEED + i) >>> 0);
      const records = await run(seeds, 'Randomized fault schedules');
      expect(records).toHaveLength(RUNS);
      expectNoViolations(records);
    },
    (Math.ceil(RUNS / STACKS) + 1) * RUN_TIMEOUT_MS,
  );

  test.each(Object.entries(REGRESSIONS))(
    'regression: %s',
    async (name, { seed, timeScale, repeat = 1 }) => {
      const own = timeScale === undefined ? undefined : await startProcessStack({ timeScale });
      try {
        if (own) await own.startWorker();
        const records = await run(
          Array.from({ length: repeat }, () => seed),
          `Regression "${name}"`,
          own ? [own] : stacks.slice(0, 1),
          timeScale,
        );
        expectNoViolations(records);
      } finally {
        await own?.close();
      }
    },
    3 * RUN_TIMEOUT_MS,
  );
});
