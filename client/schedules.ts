/**
 * Client side of re-verification: the `gmsa-verify-<gmsa>` schedules are the registry of provisioned targets (their
 * action's argument is the VerifyTarget), so everything here starts from a schedule: list them, pause, unpause,
 * trigger, or run a verification now and wait for its drift report.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { DriftReport, VerifyTarget } from '../runbook/verify';
import { verifyScheduleId } from '../runbook/verify';
import type { verifyGmsaRemoting } from '../workflows';

const SCHEDULE_PREFIX = verifyScheduleId('');

export class VerifyScheduleMissing extends Error {
  constructor(readonly gmsaName: string) {
    super(`no schedule ${verifyScheduleId(gmsaName)}: ${gmsaName} was not provisioned here (or was decommissioned)`);
    this.name = 'VerifyScheduleMissing';
  }
}

/** The target and task queue a schedule's action carries: what a manual verification needs to run the same way. */
export async function verifyTargetOf(
  client: Client,
  gmsaName: string,
): Promise<{ target: VerifyTarget; taskQueue: string }> {
  try {
    const { action } = await client.schedule.getHandle(verifyScheduleId(gmsaName)).describe();
    const [target] = (action.args ?? []) as [VerifyTarget | undefined];
    if (action.workflowType !== 'verifyGmsaRemoting' || !target) {
      throw new Error(`schedule ${verifyScheduleId(gmsaName)} does not start verifyGmsaRemoting with a target`);
    }
    return { target, taskQueue: action.taskQueue };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new VerifyScheduleMissing(gmsaName);
    throw err;
  }
}

/**
 * Verify now, outside the schedule, and wait for the report. The run's id says it was manual, so the schedule's
 * own runs (and their overlap policy) are not disturbed.
 */
export async function runVerification(
  client: Client,
  gmsaName: string,
  now: Date = new Date(),
): Promise<{ workflowId: string; report: DriftReport }> {
  const { target, taskQueue } = await verifyTargetOf(client, gmsaName);
  const workflowId = `${verifyScheduleId(gmsaName)}-manual-${now.getTime()}`;
  const handle = await client.workflow.start<typeof verifyGmsaRemoting>('verifyGmsaRemoting', {
    taskQueue,
    workflowId,
    args: [target],
  });
  return { workflowId, report: await handle.result() };
}

export interface VerifyScheduleRow {
  scheduleId: string;
  gmsaName: string;
  paused: boolean;
  note: string | null;
  lastRunAt: Date | null;
  nextRunAt: Date | null;
}

export async function listVerifySchedules(client: Client): Promise<VerifyScheduleRow[]> {
  const rows: VerifyScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(SCHEDULE_PREFIX)) continue;
    rows.push({
      scheduleId: s.scheduleId,
      gmsaName: s.scheduleId.slice(SCHEDULE_PREFIX.length),
      paused: s.state.paused,
      note: s.state.note ?? null,
      lastRunAt: s.info.recentActions.at(-1)?.takenAt ?? null,
      nextRunAt: s.info.nextActionTimes[0] ?? null,
    });
  }
  return rows.sort((a, b) => a.gmsaName.localeCompare(b.gmsaName));
}

/** Pause, unpause or trigger one target's schedule; a missing schedule is reported by name, not as a gRPC error. */
export async function controlVerifySchedule(
  client: Client,
  gmsaName: string,
  op: 'pause' | 'unpause' | 'trigger',
  note?: string,
): Promise<void> {
  const handle = client.schedule.getHandle(verifyScheduleId(gmsaName));
  try {
    if (op === 'pause') await handle.pause(note);
    else if (op === 'unpause') await handle.unpause(note);
    // The schedule's own policy (skip while one runs): a trigger never stacks verifications.
    else await handle.trigger('SKIP');
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new VerifyScheduleMissing(gmsaName);
    throw err;
  }
}

/** A drift report as a plain-text table, drifted and unreachable checks first. */
export function formatDriftReport(report: DriftReport): string {
  const order = { drift: 0, unreachable: 1, ok: 2 } as const;
  const checks = [...report.checks].sort((a, b) => order[a.status] - order[b.status]);
  const header = ['STATUS', 'CHECK', 'TARGET', 'EXPECTED', 'OBSERVED'];
  const rows = checks.map((c) => [c.status, c.check, c.target, c.expected, c.observed]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The last column is not padded: observed values can be long error messages.
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    `gMSA ${report.gmsaName}: ${report.status} (checked ${report.checkedAt})`,
    '',
    line(header),
    ...rows.map(line),
  ].join('\n');
}
