/**
 * Critical path: with the lab's realistic latencies (time-scaled), how close does a run come to the waits nobody
 * can avoid? Those are replication of the new gMSA from the pinned DC to the last DC the run waits for, then the
 * slowest host's detached registration job and WinRM restart, straight from the lab topology, scaled. Everything
 * above that is the runbook's overhead: round trips, poll granularity, lab calls.
 */
import { replicationDelays } from '../../backends/lab/topology';
import type { RunbookProgress } from '../../runbook/progress';
import { progressQuery } from '../../workflows/definitions';
import { benchRequest, hostRange } from '../requests';
import { historyStats, runRunbook, type TimedRun } from '../runs';
import { cleanUp, type BenchOptions, type ScenarioReport } from '../scenario';
import type { BenchStack, LabProcess, WorkerProcess } from '../stack';
import { fmtMs, fmtRatio, median, spread } from '../stats';
import type { ProvisionResult } from '../../runbook/progress';

const TARGET = 1.05;
/** The default topology's four hosts (three in HQ, server3 in Branch), at most four at once (the default). */
const HOSTS = 4;

/** The inherent waits of one run, in lab milliseconds, from the lab's own topology and the run's plan. */
async function inherentWaits(lab: LabProcess, result: ProvisionResult) {
  const state = await lab.admin.state();
  const { latencies, domainControllers } = state.topology;
  const pinned = domainControllers.find((d) => d.hostName === result.plan.pinnedDc);
  if (!pinned) throw new Error(`pinned DC ${result.plan.pinnedDc} is not in the lab topology`);
  const delays = new Map(replicationDelays(latencies, pinned, domainControllers));
  const targets = result.plan.replicationTargets.map((d) => d.hostName);
  const lastDc = targets.reduce((a, b) => ((delays.get(b) ?? 0) > (delays.get(a) ?? 0) ? b : a));
  const replicationMs = (delays.get(lastDc) ?? 0) * state.timeScale;
  // Every host has the same job and restart times in the lab; the slowest host's is this one.
  const hostMs = (latencies.registrationJobMs + latencies.winrmRestartMs) * state.timeScale;
  return {
    lastDc,
    replicationMs,
    hostMs,
    total: replicationMs + hostMs,
    perCallMs: latencies.perCallMs * state.timeScale,
  };
}

const ms = (a?: string, b?: string): number => (a && b ? Date.parse(b) - Date.parse(a) : Number.NaN);

export async function criticalPath(
  stack: BenchStack,
  lab: LabProcess,
  worker: WorkerProcess,
  opts: BenchOptions,
): Promise<ScenarioReport> {
  const { client } = stack;
  const request = () => benchRequest({ hosts: hostRange(HOSTS), maxParallelHosts: HOSTS, timeScale: opts.timeScale });
  const runs: TimedRun<ProvisionResult>[] = [];
  let progress: RunbookProgress | undefined;
  // One unmeasured run first: a fresh worker's first run pays for JIT and lazy loading.
  await runRunbook(client, worker.taskQueue, request());
  await cleanUp(stack, lab, worker);
  for (let trial = 0; trial < opts.trials; trial++) {
    const run = await runRunbook(client, worker.taskQueue, request());
    runs.push(run);
    if (trial === opts.trials - 1) progress = await client.workflow.getHandle(run.workflowId).query(progressQuery);
    await cleanUp(stack, lab, worker);
    opts.log(`  critical path trial ${trial + 1}/${opts.trials}: ${fmtMs(run.ms)}`);
  }
  const last = runs[runs.length - 1];
  const waits = await inherentWaits(lab, last.result);
  const stats = await historyStats(client, last.workflowId);
  const e2e = median(runs.map((r) => r.ms));
  const ratio = e2e / waits.total;
  const s = spread(runs.map((r) => r.ms / waits.total));
  const notes = [
    `Inherent waits at time scale ${opts.timeScale}: replication ${last.result.plan.pinnedDc} → ${waits.lastDc} ` +
      `${fmtMs(waits.replicationMs)} + registration job and WinRM restart ${fmtMs(waits.hostMs)} = ` +
      `${fmtMs(waits.total)} (each lab call adds ${waits.perCallMs.toFixed(1)} ms on top, not counted).`,
    `Last run's history: ${stats.events} events, ${stats.activities} activities ` +
      `(checkReplication×${stats.activityTypes.checkReplication ?? 0}), ${stats.timers} timers, ${stats.retries} retries.`,
  ];
  if (progress) {
    const st = progress.steps;
    notes.push(
      `Last run's steps (workflow clock): preflight ${fmtMs(ms(st.preflight.startedAt, st.preflight.endedAt))}, ` +
        `create ${fmtMs(ms(st['create-gmsa'].startedAt, st['create-gmsa'].endedAt))}, replication wait ` +
        `${fmtMs(ms(st['wait-replication'].startedAt, st['wait-replication'].endedAt))}, hosts ` +
        `${fmtMs(ms(st.hosts.startedAt, st.hosts.endedAt))}; run ${fmtMs(ms(last.result.startedAt, last.result.finishedAt))} ` +
        `in the workflow, ${fmtMs(last.ms)} for the caller.`,
    );
  }
  return {
    title: 'Critical path',
    figures: [
      {
        name: `Critical path (time scale ${opts.timeScale}, ${HOSTS} hosts)`,
        measured: fmtRatio(ratio),
        target: `≤ ${TARGET.toFixed(2)}×`,
        met: ratio <= TARGET,
        detail:
          `end to end ${fmtMs(e2e)} vs inherent waits ${fmtMs(waits.total)}; median of ${runs.length} runs, ` +
          `${fmtRatio(s.min)}–${fmtRatio(s.max)}`,
      },
    ],
    notes,
  };
}
