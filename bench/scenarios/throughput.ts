/**
 * Throughput: N runbooks started at once on one worker process (lab time scale 0, one host each, so nothing
 * but the work itself decides how fast they go), against N trivial workflows with as many no-op activities on
 * the same worker. Runbooks per minute relative to the baseline, and the worker's peak RSS (VmHWM).
 */
import { benchRequest } from '../requests';
import { historyStats, runBaseline, runRunbook } from '../runs';
import { cleanUp, type BenchOptions, type Figure, type ScenarioReport } from '../scenario';
import { cpuMs, type BenchStack } from '../stack';
import { fmtMs, fmtRatio, median, spread } from '../stats';

const TARGET_RATIO = 0.7;
const TARGET_RSS_MB = 300;
const RSS_AT = 200;
const WARM_UP_BATCH = 20;

interface Batch {
  ms: number;
  perMinute: number;
  peakRssMb: number;
  /** CPU ms per workflow, by process: where the work went. */
  cpu: Record<CpuPart, number>;
}

type CpuPart = 'worker' | 'lab' | 'temporal' | 'client';

/** CPU used so far by each process of the stack (the client is this process: starts, results, bookkeeping). */
function cpuNow(stack: BenchStack, workerPid: number, labPid: number): Record<CpuPart, number> {
  const self = process.cpuUsage();
  return {
    worker: cpuMs(workerPid),
    lab: cpuMs(labPid),
    temporal: stack.temporalPid === undefined ? 0 : cpuMs(stack.temporalPid),
    client: (self.user + self.system) / 1000,
  };
}

const PARTS: CpuPart[] = ['worker', 'lab', 'temporal', 'client'];

function cpuLine(batches: Batch[]): string {
  return PARTS.map((p) => `${p} ${median(batches.map((b) => b.cpu[p])).toFixed(1)}`).join(', ');
}

async function timed(n: number, start: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => start(i)));
  return performance.now() - t0;
}

export async function throughput(stack: BenchStack, opts: BenchOptions): Promise<ScenarioReport> {
  const { client } = stack;
  const maxN = Math.max(...opts.throughputConcurrency);
  // One host per concurrent run: runs share the lab (and its one state file), never a host's registration slot.
  const lab = await stack.startLab({ timeScale: 0, hosts: maxN });
  const worker = await stack.startWorker({ lab, hostPollMs: opts.hostPollMs });
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    // Warm-up: a few runs of each kind one by one, then a small concurrent batch of each (JIT, connections,
    // the lab's and the worker's lazy paths); the activity count for the baseline comes from a real run.
    let warm = await runRunbook(client, worker.taskQueue, benchRequest({ hosts: [1], timeScale: 0 }));
    for (let i = 0; i < 3; i++) {
      warm = await runRunbook(client, worker.taskQueue, benchRequest({ hosts: [1], timeScale: 0 }));
      await runBaseline(client, worker.taskQueue, 10);
    }
    const activities = (await historyStats(client, warm.workflowId)).activities;
    await timed(WARM_UP_BATCH, (i) =>
      runRunbook(client, worker.taskQueue, benchRequest({ hosts: [i + 1], timeScale: 0 })),
    );
    await timed(WARM_UP_BATCH, () => runBaseline(client, worker.taskQueue, activities));
    await cleanUp(stack, lab, worker);
    const rssSupported = worker.resetPeakRss();
    notes.push(
      `Each runbook: 1 host, ${activities} activities; the baseline: ${activities} no-op activities. ` +
        `Worker pid ${worker.pid}, RSS after warm-up ${worker.peakRssMb().toFixed(0)} MB` +
        (rssSupported ? '; peak reset (clear_refs) before every batch.' : '; peak could not be reset (clear_refs).'),
    );

    for (const n of opts.throughputConcurrency) {
      const runbook: Batch[] = [];
      const baseline: Batch[] = [];
      for (let trial = 0; trial < opts.trials; trial++) {
        for (const side of trial % 2 === 0 ? ['baseline', 'runbook'] : ['runbook', 'baseline']) {
          worker.resetPeakRss();
          const cpuBefore = cpuNow(stack, worker.pid, lab.pid);
          let ms: number;
          if (side === 'runbook') {
            ms = await timed(n, (i) =>
              runRunbook(client, worker.taskQueue, benchRequest({ hosts: [i + 1], timeScale: 0 })),
            );
          } else {
            ms = await timed(n, () => runBaseline(client, worker.taskQueue, activities));
          }
          const cpuAfter = cpuNow(stack, worker.pid, lab.pid);
          const cpu = Object.fromEntries(PARTS.map((p) => [p, (cpuAfter[p] - cpuBefore[p]) / n])) as Batch['cpu'];
          const batch = { ms, perMinute: (n / ms) * 60_000, peakRssMb: worker.peakRssMb(), cpu };
          (side === 'runbook' ? runbook : baseline).push(batch);
          await cleanUp(stack, lab, worker);
        }
        opts.log(
          `  throughput ${n} trial ${trial + 1}/${opts.trials}: runbook ${fmtMs(runbook[trial].ms)}, ` +
            `baseline ${fmtMs(baseline[trial].ms)}`,
        );
      }
      const rb = median(runbook.map((b) => b.perMinute));
      const bl = median(baseline.map((b) => b.perMinute));
      const ratio = rb / bl;
      const s = spread(runbook.map((b, i) => b.perMinute / baseline[i].perMinute));
      figures.push({
        name: `Throughput: ${n} concurrent runbooks vs baseline`,
        measured: fmtRatio(ratio),
        target: `≥ ${TARGET_RATIO.toFixed(2)}×`,
        met: ratio >= TARGET_RATIO,
        detail:
          `${rb.toFixed(0)} vs ${bl.toFixed(0)} per minute (all ${n} done in ${fmtMs(median(runbook.map((b) => b.ms)))} ` +
          `vs ${fmtMs(median(baseline.map((b) => b.ms)))}); median of ${runbook.length}, ${fmtRatio(s.min)}–${fmtRatio(s.max)}`,
      });
      notes.push(
        `${n} at once, CPU ms per workflow (medians): runbook ${cpuLine(runbook)}; baseline ${cpuLine(baseline)}.`,
      );
      const peak = Math.max(...runbook.map((b) => b.peakRssMb));
      const basePeak = Math.max(...baseline.map((b) => b.peakRssMb));
      figures.push({
        name: `Worker peak RSS, ${n} concurrent runbooks`,
        measured: `${peak.toFixed(0)} MB`,
        target: n === RSS_AT ? `< ${TARGET_RSS_MB} MB` : '—',
        met: n === RSS_AT ? peak < TARGET_RSS_MB : null,
        detail: `highest VmHWM over ${runbook.length} batches; baseline batches ${basePeak.toFixed(0)} MB`,
      });
    }
  } finally {
    await worker.stop();
    await lab.stop();
  }
  return { title: 'Throughput', figures, notes };
}
