/** What every scenario hands the report: its figures (with targets and verdicts) and the numbers behind them. */
import { cpuMs, type BenchStack, type LabProcess, type WorkerProcess } from './stack';

export interface Figure {
  name: string;
  /** The ratio (or figure) as printed, e.g. `1.08×`. */
  measured: string;
  /** e.g. `≤ 1.15×`; `—` for a comparison without a target. */
  target: string;
  /** true/false against the target; null when the row has no target. */
  met: boolean | null;
  /** The medians the figure was computed from, and their spread. */
  detail: string;
}

export interface ScenarioReport {
  title: string;
  figures: Figure[];
  /** Round trips, history sizes, settings: what explains the figures. */
  notes: string[];
}

export interface BenchOptions {
  trials: number;
  /** The lab time scale for the realistic scenarios (critical path, fan-out). */
  timeScale: number;
  fanOutHosts: number[];
  throughputConcurrency: number[];
  /** GMSA_HOST_POLL_MS for the bench workers; undefined: the production 500 ms compressed like the lab (stack.ts). */
  hostPollMs: number | undefined;
  log: (line: string) => void;
}

/**
 * Between trials, outside timing: the lab back to its topology (no run pays for what earlier runs left there),
 * then a wait until the stack is quiet. The server finishes history, visibility and timer work in the background
 * after a batch ends; a trial that starts on that tail measures the previous one. The runs' re-verification
 * schedules are left alone: each sleeps until its first action a day later, while deleting hundreds of them
 * would be exactly such a tail.
 */
export async function cleanUp(stack: BenchStack, lab: LabProcess, worker: WorkerProcess): Promise<void> {
  await lab.admin.reset();
  await settle([stack.temporalPid, lab.pid, worker.pid]);
}

/** At most 10 s until these processes together use under a tenth of one CPU (over 250 ms). */
async function settle(pids: (number | undefined)[]): Promise<void> {
  const known = pids.filter((p): p is number => p !== undefined);
  const used = () => known.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const deadline = Date.now() + 10_000;
  let before = used();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = used();
    if (now - before < 25) return;
    before = now;
  }
}
