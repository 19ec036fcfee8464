/**
 * Fan-out: the same runbook on 1, 10 and 50 hosts with realistic (time-scaled) latencies. The replication wait is
 * paid once per run, the host work once per wave of maxParallelHosts, so with a bound of 16 fifty hosts should
 * cost little more than one. Compared with one host at a time and with a bound of 5 (Ansible's default forks).
 */
import { benchRequest, hostRange } from '../requests';
import { runRunbook } from '../runs';
import { cleanUp, type BenchOptions, type Figure, type ScenarioReport } from '../scenario';
import type { BenchStack, LabProcess, WorkerProcess } from '../stack';
import { fmtMs, fmtRatio, median, rotate, spread } from '../stats';

const TARGET = 1.5;
const TARGET_HOSTS = 50;
const TARGET_BOUND = 16;

interface Config {
  hosts: number;
  bound: number;
}

const label = (c: Config): string =>
  `${c.hosts} host${c.hosts === 1 ? '' : 's'}, ${c.bound === 1 ? 'sequential' : `bound ${c.bound}`}`;

export function fanOutConfigs(hostCounts: number[]): Config[] {
  const configs: Config[] = [];
  for (const hosts of [...new Set(hostCounts)].sort((a, b) => a - b)) {
    configs.push({ hosts, bound: TARGET_BOUND });
    // The comparisons only say something where there is more than one wave.
    if (hosts > 5) configs.push({ hosts, bound: 5 }, { hosts, bound: 1 });
  }
  return configs;
}

export async function fanOut(
  stack: BenchStack,
  lab: LabProcess,
  worker: WorkerProcess,
  opts: BenchOptions,
): Promise<ScenarioReport> {
  const { client } = stack;
  const configs = fanOutConfigs(opts.fanOutHosts);
  const one = configs.find((c) => c.hosts === 1);
  if (!one) throw new Error('fan-out needs the 1-host run as its reference');
  const times = new Map<Config, number[]>(configs.map((c) => [c, []]));
  for (let trial = 0; trial < opts.trials; trial++) {
    for (const config of rotate(configs, trial)) {
      const request = benchRequest({
        hosts: hostRange(config.hosts),
        maxParallelHosts: config.bound,
        timeScale: opts.timeScale,
      });
      const run = await runRunbook(client, worker.taskQueue, request);
      times.get(config)?.push(run.ms);
      // Each run on a fresh lab: no run pays for the endpoints and gMSAs the previous ones left behind.
      await cleanUp(stack, lab, worker);
    }
    opts.log(`  fan-out trial ${trial + 1}/${opts.trials} done`);
  }
  const ref = median(times.get(one) ?? []);
  const figures: Figure[] = configs
    .filter((c) => c !== one)
    .map((c) => {
      const xs = times.get(c) ?? [];
      const ratio = median(xs) / ref;
      const isTarget = c.hosts === TARGET_HOSTS && c.bound === TARGET_BOUND;
      const s = spread(xs.map((x) => x / ref));
      return {
        name: `Fan-out: ${label(c)} vs 1 host`,
        measured: fmtRatio(ratio),
        target: isTarget ? `≤ ${TARGET.toFixed(2)}×` : '—',
        met: isTarget ? ratio <= TARGET : null,
        detail: `${fmtMs(median(xs))} vs ${fmtMs(ref)}; median of ${xs.length}, ${fmtRatio(s.min)}–${fmtRatio(s.max)}`,
      };
    });
  return {
    title: 'Fan-out',
    figures,
    notes: [
      `Time scale ${opts.timeScale}; every run waits for replication to all four DCs (the request's default scope), ` +
        `then works through its hosts ${TARGET_BOUND}, 5 or 1 at a time. 1 host: ${fmtMs(ref)} (median).`,
    ],
  };
}
