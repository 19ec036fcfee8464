/**
 * The `gmsa-verify-<gmsa>` Temporal Schedule per provisioned target: created at the end of a successful run, or
 * updated when it exists (never duplicated), deleted by decommissioning. Its action's argument is the target, so
 * the schedule is also the registry of what is provisioned.
 */
import { activityInfo, ApplicationFailure, getClient } from '@temporalio/activity';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleOptionsAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { GmsaName, TicketKey } from '../runbook/search-attributes';
import { verifyScheduleId, type VerifyTarget } from '../runbook/verify';
import { FailureType } from '../runbook/failures';
import { typed } from './failures';

/** A schedule as it was before a run: its target and interval (null when it holds something else). */
export interface PreviousVerifySchedule {
  target: VerifyTarget | null;
  everyMs: number | null;
  /** The memo its action carried (absent in records made before it was kept). */
  memo?: Record<string, unknown>;
}

/**
 * Where a run that writes the schedule records what it replaced: in the memo of the schedule's action, written in
 * the same create or update as the run's target, so that a schedule that carries a run's mark always says what to
 * put back. The run's undo reads it from there; no read before the write is needed (one activity fewer).
 */
export const PREVIOUS_SCHEDULE_MEMO = 'gmsaRunbookReplaced';

export interface ReplacedScheduleRecord {
  /** The run (its mark) that wrote the schedule. */
  mark: string;
  /** What was there before it (null: nothing, the run created the schedule). */
  previous: PreviousVerifySchedule | null;
}

function startWorkflowAction(action: { type: string }) {
  return action.type === 'startWorkflow' ? (action as { args?: unknown[]; memo?: Record<string, unknown> }) : null;
}

/** The schedule's target, its interval and its action's memo, as a description or an update's input has them. */
function currentSchedule(d: {
  action: { type: string };
  spec: { intervals?: { every: unknown }[] };
}): PreviousVerifySchedule {
  const action = startWorkflowAction(d.action);
  const target = (action?.args?.[0] as VerifyTarget | undefined) ?? null;
  const every = d.spec.intervals?.[0]?.every;
  if (!target || every === undefined) return { target: null, everyMs: null };
  return { target, everyMs: msFromDuration(every), ...(action?.memo ? { memo: action.memo } : {}) };
}

function recordOf(action: { type: string }): ReplacedScheduleRecord | undefined {
  return startWorkflowAction(action)?.memo?.[PREVIOUS_SCHEDULE_MEMO] as ReplacedScheduleRecord | undefined;
}

function msFromDuration(d: unknown): number | null {
  if (typeof d === 'number') return d;
  if (typeof d === 'string') {
    const ms = Number(d);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

export function createScheduleActivities() {
  return {
    /**
     * Create or update the schedule with the run's target; the action's memo records what the run replaced (see
     * PREVIOUS_SCHEDULE_MEMO). A retry that finds its own earlier write keeps the record that write made.
     */
    async ensureVerifySchedule(input: {
      target: VerifyTarget;
      everyHours: number;
    }): Promise<{ scheduleId: string; created: boolean }> {
      return typed(async () => {
        const { target } = input;
        const client = getClient();
        const scheduleId = verifyScheduleId(target.gmsaName);
        const spec: ScheduleSpec = { intervals: [{ every: Math.round(input.everyHours * 3_600_000) }] };
        const action: ScheduleOptionsAction = {
          type: 'startWorkflow',
          workflowType: 'verifyGmsaRemoting',
          // The same task queue the provisioning worker listens on.
          taskQueue: activityInfo().taskQueue,
          args: [target],
          typedSearchAttributes: [
            { key: GmsaName, value: target.gmsaName },
            { key: TicketKey, value: target.ticket.key },
          ],
          staticSummary: `Re-verify gMSA ${target.gmsaName} → ${target.endpointName} on ${target.hosts.length} host(s)`,
        };
        // Skip a run while the last one still runs; after an outage, catch up once within a day, not a backlog.
        const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' } as const;
        const withRecord = (previous: PreviousVerifySchedule | null): ScheduleOptionsAction => {
          const record: ReplacedScheduleRecord = { mark: target.mark, previous };
          return { ...action, memo: { [PREVIOUS_SCHEDULE_MEMO]: record } };
        };
        try {
          await client.schedule.create({ scheduleId, spec, action: withRecord(null), policies });
          return { scheduleId, created: true };
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
          // The update reads and writes under the schedule's conflict token: what it records as replaced is
          // exactly what it replaced.
          await client.schedule.getHandle(scheduleId).update((prev) => {
            const ownRecord = recordOf(prev.action);
            const previous = ownRecord && ownRecord.mark === target.mark ? ownRecord.previous : currentSchedule(prev);
            return { ...prev, spec, action: withRecord(previous), policies };
          });
          return { scheduleId, created: false };
        }
      });
    },

    /**
     * What the schedule for this gMSA is before a run writes it (null: there is none), so that the run's undo can
     * put back exactly that. Read-only.
     */
    async readVerifySchedule(gmsaName: string): Promise<PreviousVerifySchedule | null> {
      return typed(async () => {
        try {
          const { memo: _memo, ...previous } = currentSchedule(
            await getClient().schedule.getHandle(verifyScheduleId(gmsaName)).describe(),
          );
          return previous;
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return null;
          throw err;
        }
      });
    },

    /**
     * Undo of ensureVerifySchedule: only a schedule whose target carries this run's mark is touched. One the run
     * created is deleted; one that existed before is put back to its previous target and interval. What was there
     * before comes from the schedule's own record (PREVIOUS_SCHEDULE_MEMO) or, for runs that read it before
     * writing, from `previous`.
     */
    async restoreVerifySchedule(input: {
      gmsaName: string;
      mark: string;
      previous?: PreviousVerifySchedule | null;
    }): Promise<{ outcome: 'deleted' | 'restored' | 'not-ours' | 'absent' }> {
      return typed(async () => {
        const handle = getClient().schedule.getHandle(verifyScheduleId(input.gmsaName));
        let current;
        try {
          current = await handle.describe();
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return { outcome: 'absent' as const };
          throw err;
        }
        const target = startWorkflowAction(current.action)?.args?.[0] as VerifyTarget | undefined;
        if (target?.mark !== input.mark) return { outcome: 'not-ours' as const };
        let previous = input.previous;
        if (previous === undefined) {
          const record = recordOf(current.action);
          if (record?.mark !== input.mark) {
            // Cannot happen for a schedule written by ensureVerifySchedule (target and record go in one write).
            throw ApplicationFailure.nonRetryable(
              `schedule ${verifyScheduleId(input.gmsaName)} carries this run's target but no record of what it replaced`,
              FailureType.RollbackIncomplete,
            );
          }
          previous = record.previous;
        }
        if (!previous) {
          await handle.delete();
          return { outcome: 'deleted' as const };
        }
        if (!previous.target || previous.everyMs === null) return { outcome: 'not-ours' as const };
        const { target: before, everyMs } = previous;
        const memo = previous.memo;
        await handle.update((prev) => ({
          ...prev,
          spec: { intervals: [{ every: everyMs }] },
          action: prev.action.type === 'startWorkflow' ? { ...prev.action, args: [before], memo } : prev.action,
        }));
        return { outcome: 'restored' as const };
      });
    },

    async deleteVerifySchedule(gmsaName: string): Promise<{ deleted: boolean }> {
      return typed(async () => {
        try {
          await getClient().schedule.getHandle(verifyScheduleId(gmsaName)).delete();
          return { deleted: true };
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return { deleted: false };
          throw err;
        }
      });
    },
  };
}
