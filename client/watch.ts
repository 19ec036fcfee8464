/**
 * Live progress in a terminal or a CI log: polls the `progress` query and prints one line per change, per step
 * and per host, until the run closes; then returns the outcome.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure } from '@temporalio/common';
import type { ProvisionResult, RollbackReport, RunbookProgress } from '../runbook/progress';
import { progressQuery } from '../workflows/definitions';

export type RunOutcome =
  | { ok: true; result: ProvisionResult }
  | { ok: false; state: 'failed' | 'cancelled' | 'terminated'; type: string; message: string; report?: RollbackReport };

function stepLines(p: RunbookProgress): Map<string, string> {
  const lines = new Map<string, string>();
  for (const [step, s] of Object.entries(p.steps))
    lines.set(step, `${step}: ${s.status}${s.detail ? ` — ${s.detail}` : ''}`);
  for (const [host, steps] of Object.entries(p.hosts)) {
    for (const [step, s] of Object.entries(steps)) {
      lines.set(`${host}/${step}`, `${host} ${step}: ${s.status}${s.detail ? ` — ${s.detail}` : ''}`);
    }
  }
  if (p.replication) {
    const r = p.replication;
    lines.set(
      'replication',
      `replication: ${r.converged.length} DC(s) have it${r.pending.length ? `, waiting for ${r.pending.map((x) => x.dc).join(', ')}` : ''}`,
    );
  }
  for (const c of p.compensations)
    lines.set(`undo/${c.name}`, `rollback ${c.name}: ${c.status}${c.detail ? ` — ${c.detail}` : ''}`);
  lines.set('state', `state: ${p.state}`);
  return lines;
}

export async function watchRun(
  handle: WorkflowHandle,
  opts: { print?: (line: string) => void; intervalMs?: number } = {},
): Promise<RunOutcome> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const started = Date.now();
  const shown = new Map<string, string>();
  let done = false;
  const outcome = outcomeOf(handle).finally(() => (done = true));

  const show = (p: RunbookProgress) => {
    for (const [key, line] of stepLines(p)) {
      if (shown.get(key) === line) continue;
      if (!shown.has(key) && /: pending$/.test(line)) continue;
      shown.set(key, line);
      print(`  [${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
    }
  };
  while (!done) {
    try {
      show(await handle.query(progressQuery));
    } catch {
      // No worker has picked the run up yet, or it just closed: try again.
    }
    await Promise.race([outcome, new Promise((r) => setTimeout(r, opts.intervalMs ?? 400))]);
  }
  try {
    show(await handle.query(progressQuery)); // a closed run still answers queries from its history
  } catch {
    // the final state is in the outcome anyway
  }
  return outcome;
}

export async function outcomeOf(handle: WorkflowHandle): Promise<RunOutcome> {
  try {
    return { ok: true, result: (await handle.result()) as ProvisionResult };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause;
      if (cause instanceof CancelledFailure)
        return { ok: false, state: 'cancelled', type: 'Cancelled', message: cause.message };
      if (cause instanceof TerminatedFailure)
        return { ok: false, state: 'terminated', type: 'Terminated', message: cause.message };
      if (cause instanceof ApplicationFailure) {
        return {
          ok: false,
          state: 'failed',
          type: cause.type ?? 'Error',
          message: cause.message,
          report: cause.details?.[0] as RollbackReport | undefined,
        };
      }
      return { ok: false, state: 'failed', type: cause?.name ?? 'Error', message: cause?.message ?? err.message };
    }
    throw err;
  }
}
