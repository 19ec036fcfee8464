/**
 * `npm run bench`: the figures of issue 7, each a ratio measured side by side in one run, on a real Temporal dev
 * server with the lab and the worker as processes of their own. Prints the table and writes BENCHMARKS.md.
 *
 *   npm run bench -- [--trials N] [--only engine-floor,critical-path,fan-out,throughput] [--time-scale X]
 *                    [--fan-out 1,10,50] [--throughput 50,200] [--host-poll-ms N] [--server-defaults]
 *                    [--out FILE | --no-write]
 *
 * Every flag has an environment twin (BENCH_TRIALS, BENCH_ONLY, …) for CI.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { locateTemporalCli } from '../temporal/cli-locator';
import { describeMachine, loadAverage, renderMarkdown, renderTable, writeBenchmarksFile } from './report';
import type { BenchOptions, ScenarioReport } from './scenario';
import { criticalPath } from './scenarios/critical-path';
import { engineFloor } from './scenarios/engine-floor';
import { fanOut } from './scenarios/fan-out';
import { throughput } from './scenarios/throughput';
import { devServerTuning, scaledHostPollMs, startBenchStack } from './stack';

const SCENARIOS = ['engine-floor', 'critical-path', 'fan-out', 'throughput'] as const;
type Scenario = (typeof SCENARIOS)[number];

function numbers(value: string, name: string): number[] {
  const xs = value.split(',').map((v) => Number(v.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new Error(`${name} must be a comma-separated list of positive whole numbers (got ${value})`);
  }
  return xs;
}

function positive(value: string, name: string, integer: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'whole ' : ''}number (got ${value})`);
  }
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string' },
      only: { type: 'string' },
      'time-scale': { type: 'string' },
      'fan-out': { type: 'string' },
      throughput: { type: 'string' },
      'host-poll-ms': { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
      'server-defaults': { type: 'boolean' },
    },
    strict: true,
  });
  const env = process.env;
  const only = (values.only ?? env.BENCH_ONLY ?? SCENARIOS.join(',')).split(',').map((s) => s.trim());
  for (const s of only) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`--only: unknown scenario ${s} (${SCENARIOS.join(', ')})`);
  }
  const hostPoll = values['host-poll-ms'] ?? env.BENCH_HOST_POLL_MS;
  const fanOutHosts = numbers(values['fan-out'] ?? env.BENCH_FAN_OUT ?? '1,10,50', '--fan-out');
  if (!fanOutHosts.includes(1)) fanOutHosts.unshift(1);
  return {
    trials: positive(values.trials ?? env.BENCH_TRIALS ?? '3', '--trials', true),
    only: only as Scenario[],
    timeScale: positive(values['time-scale'] ?? env.BENCH_TIME_SCALE ?? '0.01', '--time-scale', false),
    fanOutHosts,
    throughputConcurrency: numbers(values.throughput ?? env.BENCH_THROUGHPUT ?? '50,200', '--throughput'),
    hostPollMs: hostPoll === undefined ? undefined : positive(hostPoll, '--host-poll-ms', true),
    serverDefaults: values['server-defaults'] || env.BENCH_SERVER_DEFAULTS === '1',
    out:
      values['no-write'] || env.BENCH_NO_WRITE === '1'
        ? null
        : (values.out ?? join(__dirname, '..', '..', 'BENCHMARKS.md')),
  };
}

async function main(): Promise<void> {
  const opts = options();
  const started = Date.now();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  // The bench process runs no worker, but keep the SDK's runtime quiet like the tests do.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const loadBefore = loadAverage();
  log(`bench: ${opts.trials} trial(s), scenarios ${opts.only.join(', ')}; load average ${loadBefore}`);
  const cli = process.env.TEMPORAL_ADDRESS ? null : await locateTemporalCli({ log });
  const serverConfig = opts.serverDefaults ? undefined : devServerTuning(opts.timeScale);
  const stack = await startBenchStack(log, { dynamicConfig: serverConfig });
  const bench: BenchOptions = { ...opts, log };
  const reports: ScenarioReport[] = [];
  try {
    if (opts.only.includes('engine-floor')) {
      log('engine floor…');
      reports.push(await engineFloor(stack, bench));
    }
    if (opts.only.includes('critical-path') || opts.only.includes('fan-out')) {
      // One realistic lab (enough hosts for the widest fan-out) and one worker for both scenarios.
      const lab = await stack.startLab({ timeScale: opts.timeScale, hosts: Math.max(4, ...opts.fanOutHosts) });
      const worker = await stack.startWorker({ lab, hostPollMs: opts.hostPollMs });
      try {
        if (opts.only.includes('critical-path')) {
          log('critical path…');
          reports.push(await criticalPath(stack, lab, worker, bench));
        }
        if (opts.only.includes('fan-out')) {
          log('fan-out…');
          reports.push(await fanOut(stack, lab, worker, bench));
        }
      } finally {
        await worker.stop();
        await lab.stop();
      }
    }
    if (opts.only.includes('throughput')) {
      log('throughput…');
      reports.push(await throughput(stack, bench));
    }
  } finally {
    await stack.close();
  }
  const loadAfter = loadAverage();
  const durationS = (Date.now() - started) / 1000;
  const table = renderTable(reports);
  console.log(`\n${table}\n`);
  for (const r of reports) for (const n of r.notes) console.log(`${r.title}: ${n}`);
  console.log(`\nload average before ${loadBefore}, after ${loadAfter}; ${durationS.toFixed(0)} s`);
  if (opts.out) {
    const settings = [
      `${opts.trials} trial(s); realistic scenarios at lab time scale ${opts.timeScale}; the runbook's polls compressed ` +
        `like the lab: replication poll = the request's 15 s × scale, worker GMSA_HOST_POLL_MS ` +
        `${opts.hostPollMs ?? `= 500 ms × scale, at least 10 (${scaledHostPollMs(opts.timeScale)} ms; 10 ms at scale 0)`}`,
      serverConfig
        ? 'Temporal dev server (in memory, one history shard) with ' +
          Object.entries(serverConfig)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') +
          ' (defaults 20 a second and 1 s: see bench/stack.ts and the notes below)'
        : 'Temporal dev server with its default dynamic config (--server-defaults)',
      `command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
    ];
    const md = renderMarkdown(reports, {
      date: new Date(started),
      machine: describeMachine(cli),
      loadBefore,
      loadAfter,
      settings,
      durationS,
    });
    await writeBenchmarksFile(opts.out, md);
    console.log(`written to ${opts.out}`);
  }
  const missed = reports.flatMap((r) => r.figures).filter((f) => f.met === false);
  if (missed.length > 0) console.log(`${missed.length} target(s) missed: ${missed.map((f) => f.name).join('; ')}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
