/**
 * The bench table: printed, and written to BENCHMARKS.md with the machine it was measured on. Everything after
 * the notes marker in an existing BENCHMARKS.md (the hand-written analysis) is kept when the file is rewritten.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as prettier from 'prettier';
import type { ScenarioReport } from './scenario';

export const NOTES_MARKER = '<!-- bench:notes (everything below is kept when `npm run bench` rewrites this file) -->';

export interface Machine {
  cores: number;
  cpuModel: string;
  ramGb: number;
  os: string;
  node: string;
  temporal: string;
}

export function describeMachine(temporalCli: string | null): Machine {
  const cpus = os.cpus();
  let temporal = 'external server (TEMPORAL_ADDRESS)';
  if (temporalCli) {
    try {
      temporal = execFileSync(temporalCli, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      temporal = `${temporalCli} (version unknown)`;
    }
  }
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    ramGb: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporal,
  };
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

function verdict(met: boolean | null): string {
  return met === null ? '' : met ? 'met' : 'MISSED';
}

export function renderTable(reports: ScenarioReport[]): string {
  const rows = [
    '| figure | measured | target | verdict | from |',
    '| --- | --- | --- | --- | --- |',
    ...reports.flatMap((r) =>
      r.figures.map((f) => `| ${f.name} | ${f.measured} | ${f.target} | ${verdict(f.met)} | ${f.detail} |`),
    ),
  ];
  return rows.join('\n');
}

export interface RunInfo {
  date: Date;
  machine: Machine;
  loadBefore: string;
  loadAfter: string;
  settings: string[];
  durationS: number;
}

export function renderMarkdown(reports: ScenarioReport[], info: RunInfo): string {
  const m = info.machine;
  return [
    '# Benchmarks',
    '',
    '`npm run bench` (never part of `npm test`). Every figure is a ratio of two things measured side by side in the',
    'same run (interleaved trials, medians), so a busy machine moves both sides and not the verdict.',
    '',
    `Measured ${info.date.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${info.durationS.toFixed(0)} s on:`,
    '',
    `- ${m.cores} cores, ${m.cpuModel}, ${m.ramGb.toFixed(1)} GB RAM, ${m.os}`,
    `- Node ${m.node}; Temporal CLI: ${m.temporal}`,
    `- load average (1, 5, 15 min) before: ${info.loadBefore}; after: ${info.loadAfter}`,
    ...info.settings.map((s) => `- ${s}`),
    '',
    renderTable(reports),
    '',
    ...reports.flatMap((r) => [`### ${r.title}`, '', ...r.notes.map((n) => `- ${n}`), '']),
  ].join('\n');
}

/**
 * Writes the generated part and keeps the hand-written notes below the marker, formatted with the repository's
 * prettier settings so that `npm run lint` (prettier --check .) stays green after every bench run.
 */
export async function writeBenchmarksFile(path: string, generated: string): Promise<void> {
  let notes = `${NOTES_MARKER}\n`;
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const at = old.indexOf(NOTES_MARKER);
    if (at >= 0) notes = old.slice(at);
  }
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(`${generated}\n${notes}`, { ...options, parser: 'markdown' }));
}
