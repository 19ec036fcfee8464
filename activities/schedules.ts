/**
 * The `gmsa-verify-<gmsa>` Temporal Schedule per provisioned target: created at the end of a successful run, or
 * updated when it exists (never duplicated), deleted by decommissioning. Its action's argument is the target, so
 * the schedule is also the registry of what is provisioned.
 */
import { activityInfo, getClient } from '@temporalio/activity';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleOptionsAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { GmsaName, TicketKey } from '../runbook/search-attributes';
import { verifyScheduleId, type VerifyTarget } from '../runbook/verify';
import { typed } from './failures';

/** A schedule as it was before a run: its target and interval (null when it holds something else). */
export interface PreviousVerifySchedule {
  target: VerifyTarget | null;
  everyMs: number | null;
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
        try {
          await client.schedule.create({ scheduleId, spec, action, policies });
          return { scheduleId, created: true };
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
          await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies }));
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
          const d = await getClient().schedule.getHandle(verifyScheduleId(gmsaName)).describe();
          const action = d.action.type === 'startWorkflow' ? d.action : null;
          const target = action?.args?.[0] as VerifyTarget | undefined;
          const every = d.spec.intervals?.[0]?.every;
          if (!target || every === undefined) return { target: null, everyMs: null };
          return { target, everyMs: typeof every === 'number' ? every : msFromDuration(every) };
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return null;
          throw err;
        }
      });
    },

    /**
     * Undo of ensureVerifySchedule: only a schedule whose target carries this run's mark is touched. One the run
     * created is deleted; one that existed before is put back to its previous target and interval.
     */
    async restoreVerifySchedule(input: {
      gmsaName: string;
      mark: string;
      previous: PreviousVerifySchedule | null;
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
        const target = current.action.type === 'startWorkflow' ? (current.action.args?.[0] as VerifyTarget) : null;
        if (target?.mark !== input.mark) return { outcome: 'not-ours' as const };
        const previous = input.previous;
        if (!previous) {
          await handle.delete();
          return { outcome: 'deleted' as const };
        }
        if (!previous.target || previous.everyMs === null) return { outcome: 'not-ours' as const };
        const { target: before, everyMs } = previous;
        await handle.update((prev) => ({
          ...prev,
          spec: { intervals: [{ every: everyMs }] },
          action: prev.action.type === 'startWorkflow' ? { ...prev.action, args: [before] } : prev.action,
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
