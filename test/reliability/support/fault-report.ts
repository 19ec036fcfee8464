/** The counts the randomized suite prints: runs, faults per kind, outcomes, failure types, violations, times. */
import type { Outcome, RunRecord } from './fault-driver';
import { OUTCOMES } from './fault-driver';
import { describeSchedule, FAULT_KINDS } from './fault-schedule';

function tally<K extends string>(keys: readonly K[], values: K[]): string {
  const counts = new Map<K, number>(keys.map((k) => [k, 0]));
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One line per run, printed as it ends: enough to reproduce it from its seed. */
export function runLine(index: number, r: RunRecord): string {
  const type = r.cause ? `${r.failureType} after ${r.cause}` : r.failureType;
  const how = type ? `${r.outcome} (${type})` : r.outcome;
  const human = r.needsHuman.length > 0 ? ` needs a human: ${r.needsHuman.join('; ')}` : '';
  const bad = r.violations.length > 0 ? `  ✗ ${r.violations.length} violation(s)` : '';
  return `  #${index} seed ${r.schedule.seed} [${seconds(r.ms)}] ${how}${human}${bad}\n      ${describeSchedule(r.schedule)}`;
}

/** `env`: what else reproducing a run needs besides its seed (e.g. the lab's time scale). */
export function countsTable(records: RunRecord[], wallMs: number, header: string, env = ''): string {
  const planned = records.flatMap((r) => r.schedule.faults.map((f) => f.kind));
  const injected = records.flatMap((r) => r.injected);
  const types = [...new Set(records.map((r) => r.failureType).filter((t): t is string => t !== undefined))].sort();
  const times = records.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  const violating = records.filter((r) => r.violations.length > 0);
  const lines = [
    header,
    `  runs: ${records.length} in ${seconds(wallMs)} (per run: median ${seconds(at(0.5))}, p95 ${seconds(at(0.95))}, max ${seconds(at(1))})`,
    `  requests: ${records.filter((r) => r.schedule.preexisting).length} adopting a pre-existing gMSA; hosts per run ${[
      1, 2, 3, 4,
    ]
      .map((n) => `${n}×${records.filter((r) => r.schedule.request.hosts.length === n).length}`)
      .join(' ')}`,
    `  faults injected: ${injected.length} of ${planned.length} planned — ${tally(FAULT_KINDS, injected)}`,
    `  cancels sent: ${records.filter((r) => r.cancelled).length} of ${records.filter((r) => r.schedule.cancel).length} planned`,
    `  outcomes: ${tally<Outcome>(
      OUTCOMES,
      records.map((r) => r.outcome),
    )}`,
    `  failure types: ${types.map((t) => `${t} ${records.filter((r) => r.failureType === t).length}`).join(', ') || 'none'}`,
    `  invariant violations: ${violating.reduce((n, r) => n + r.violations.length, 0)} in ${violating.length} run(s)`,
  ];
  for (const r of violating) {
    lines.push(
      `  ✗ seed ${r.schedule.seed} (${env}GMSA_RELIABILITY_SEED=${r.schedule.seed} GMSA_RELIABILITY_RUNS=1): ${describeSchedule(r.schedule)}`,
      `      ended ${r.outcome}${r.failureType ? ` (${r.failureType})` : ''}; injected ${r.injected.join(', ') || 'nothing'}${r.cancelled ? ' + cancel' : ''}`,
      ...r.violations.map((x) => `      - ${x}`),
    );
  }
  return lines.join('\n');
}
