/**
 * Engine floor: the runbook on a lab with zero simulated latency against the trivial workflow with as many
 * activities, on the same worker. What is left is the runbook's own cost: its lab calls, its workflow code,
 * heartbeats, search attributes, the schedule it writes, and any round trip or poll it adds.
 */
import { benchRequest } from '../requests';
import { historyStats, runBaseline, runRunbook } from '../runs';
import { cleanUp, type BenchOptions, type ScenarioReport } from '../scenario';
import type { BenchStack } from '../stack';
import { fmtMs, fmtRatio, median, spread } from '../stats';

/** Pairs per trial: runs take well under a second, so a trial is several interleaved pairs. */
const PAIRS_PER_TRIAL = 4;
const TARGET = 1.15;
/** Runs of each kind before measuring: the first runs of a fresh worker pay for JIT and lazy loading. */
const WARM_UP_RUNS = 4;

export async function engineFloor(stack: BenchStack, opts: BenchOptions): Promise<ScenarioReport> {
  const { client } = stack;
  const lab = await stack.startLab({ timeScale: 0, hosts: 4 });
  const worker = await stack.startWorker({ lab, hostPollMs: opts.hostPollMs });
  try {
    const request = () => benchRequest({ hosts: [1], maxParallelHosts: 1, timeScale: 0 });
    // Warm-up (JIT in the worker, the lab and this process; connections), then the activity count the baseline
    // must match, from a real run's history.
    let last = await runRunbook(client, worker.taskQueue, request());
    for (let i = 0; i < WARM_UP_RUNS; i++) {
      last = await runRunbook(client, worker.taskQueue, request());
    }
    const runbookStats = await historyStats(client, last.workflowId);
    const activities = runbookStats.activities;
    let warmBase = await runBaseline(client, worker.taskQueue, activities);
    for (let i = 0; i < WARM_UP_RUNS; i++) warmBase = await runBaseline(client, worker.taskQueue, activities);
    const baselineStats = await historyStats(client, warmBase.workflowId);
    await cleanUp(stack, lab, worker);

    const runbookMs: number[] = [];
    const baselineMs: number[] = [];
    const pairRatios: number[] = [];
    for (let trial = 0; trial < opts.trials; trial++) {
      for (let pair = 0; pair < PAIRS_PER_TRIAL; pair++) {
        // A/B then B/A: neither side always runs first (or always right after the lab reset).
        const runbookFirst = (trial * PAIRS_PER_TRIAL + pair) % 2 === 0;
        let a = 0;
        let b = 0;
        for (const side of runbookFirst ? ['runbook', 'baseline'] : ['baseline', 'runbook']) {
          if (side === 'runbook') {
            const run = await runRunbook(client, worker.taskQueue, request());
            a = run.ms;
          } else {
            b = (await runBaseline(client, worker.taskQueue, activities)).ms;
          }
        }
        runbookMs.push(a);
        baselineMs.push(b);
        pairRatios.push(a / b);
      }
      await cleanUp(stack, lab, worker);
      opts.log(`  engine floor trial ${trial + 1}/${opts.trials}: runbook ${fmtMs(median(runbookMs))}`);
    }
    const ratio = median(runbookMs) / median(baselineMs);
    const s = spread(pairRatios);
    return {
      title: 'Engine floor',
      figures: [
        {
          name: 'Engine floor (lab time scale 0, 1 host)',
          measured: fmtRatio(ratio),
          target: `≤ ${TARGET.toFixed(2)}×`,
          met: ratio <= TARGET,
          detail:
            `runbook ${fmtMs(median(runbookMs))} vs baseline ${fmtMs(median(baselineMs))} ` +
            `(${activities} no-op activities); medians of ${runbookMs.length} interleaved pairs, pair ratios ` +
            `${fmtRatio(s.min)}–${fmtRatio(s.max)}`,
        },
      ],
      notes: [
        `Runbook history: ${runbookStats.events} events, ${runbookStats.activities} activities ` +
          `(${Object.entries(runbookStats.activityTypes)
            .map(([t, n]) => `${t}×${n}`)
            .join(', ')}), ${runbookStats.workflowTasks} workflow tasks, ${runbookStats.timers} timers, ` +
          `${runbookStats.searchAttributeUpserts} search-attribute upserts, ${runbookStats.retries} retries.`,
        `Baseline history: ${baselineStats.events} events, ${baselineStats.activities} activities, ` +
          `${baselineStats.workflowTasks} workflow tasks.`,
      ],
    };
  } finally {
    await worker.stop();
    await lab.stop();
  }
}
