/**
 * `node dist/bench/profile-main.js [runs]`: where one run's time goes. Runs the engine-floor pair (the runbook on a
 * lab at time scale 0, one host, and the baseline with as many no-op activities) `runs` times each on the bench
 * stack, then splits each side's last histories into phases: workflow tasks (scheduled → completed: queueing,
 * the worker's activation, the completion round trip) and activities (scheduled → started: dispatch;
 * started → completed: the activity itself plus the completion round trip), summed per activity type.
 * A tool for finding the cause of an engine-floor miss; `npm run bench` reports the figures.
 */
import type { Client } from '@temporalio/client';
import { benchRequest } from './requests';
import { runBaseline, runRunbook } from './runs';
import { devServerTuning, startBenchStack } from './stack';

interface Phases {
  total: number;
  wft: number;
  wftCount: number;
  activities: Record<string, { n: number; dispatch: number; exec: number }>;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

async function phases(client: Client, workflowId: string): Promise<Phases> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = (i: number) => ms(events[i].eventTime);
  const out: Phases = { total: at(events.length - 1) - at(0), wft: 0, wftCount: 0, activities: {} };
  const byId = new Map<string, { type: string; scheduled: number; started?: number }>();
  let wftScheduled = 0;
  events.forEach((e, i) => {
    const id = String(e.eventId);
    if (e.workflowTaskScheduledEventAttributes) wftScheduled = at(i);
    if (e.workflowTaskCompletedEventAttributes) {
      out.wft += at(i) - wftScheduled;
      out.wftCount++;
    }
    if (e.activityTaskScheduledEventAttributes) {
      byId.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', scheduled: at(i) });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = byId.get(String(started.scheduledEventId));
      if (a) a.started = at(i);
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const a = byId.get(String(completed.scheduledEventId));
      if (a?.started !== undefined) {
        const s = (out.activities[a.type] ??= { n: 0, dispatch: 0, exec: 0 });
        s.n++;
        s.dispatch += a.started - a.scheduled;
        s.exec += at(i) - a.started;
      }
    }
  });
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function report(label: string, all: Phases[]): void {
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(`\n${label}: ${all.length} runs`);
  console.log(`  history first → last event ${f(mean(all.map((p) => p.total)))} ms`);
  console.log(
    `  workflow tasks            ${f(mean(all.map((p) => p.wft)))} ms (${mean(all.map((p) => p.wftCount)).toFixed(1)} tasks)`,
  );
  const types = [...new Set(all.flatMap((p) => Object.keys(p.activities)))].sort();
  for (const t of types) {
    const rows = all.map((p) => p.activities[t] ?? { n: 0, dispatch: 0, exec: 0 });
    console.log(
      `  ${t.padEnd(26)}${f(mean(rows.map((r) => r.dispatch)))} dispatch ${f(mean(rows.map((r) => r.exec)))} exec (×${mean(rows.map((r) => r.n)).toFixed(1)})`,
    );
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const stack = await startBenchStack(() => undefined, { dynamicConfig: devServerTuning(0) });
  try {
    const lab = await stack.startLab({ timeScale: 0, hosts: 4 });
    const worker = await stack.startWorker({ lab });
    const request = () => benchRequest({ hosts: [1], maxParallelHosts: 1, timeScale: 0 });
    const runbook: Phases[] = [];
    const baseline: Phases[] = [];
    const runbookMs: number[] = [];
    const baselineMs: number[] = [];
    for (let i = 0; i < 4; i++) await runRunbook(stack.client, worker.taskQueue, request());
    for (let i = 0; i < 4; i++) await runBaseline(stack.client, worker.taskQueue, 11);
    for (let i = 0; i < runs; i++) {
      const r = await runRunbook(stack.client, worker.taskQueue, request());
      const b = await runBaseline(stack.client, worker.taskQueue, 11);
      runbookMs.push(r.ms);
      baselineMs.push(b.ms);
      runbook.push(await phases(stack.client, r.workflowId));
      baseline.push(await phases(stack.client, b.workflowId));
    }
    const metrics = process.env.GMSA_METRICS_ADDRESS;
    if (metrics) {
      // The worker's own view (Core's histograms): time inside the worker per workflow task and activity.
      const text = await (await fetch(`http://${metrics}/metrics`)).text();
      for (const line of text.split('\n')) {
        if (
          /^temporal_(workflow_task_execution_latency|activity_execution_latency|workflow_activation_execution_latency)[a-z_]*_(sum|count)\{/.test(
            line,
          )
        )
          console.log(line.replace(/,?(namespace|service_name|task_queue)="[^"]*"/g, ''));
      }
    }
    console.log(`caller's time: runbook ${mean(runbookMs).toFixed(1)} ms, baseline ${mean(baselineMs).toFixed(1)} ms`);
    report('runbook', runbook);
    report('baseline', baseline);
    await worker.stop();
    await lab.stop();
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
