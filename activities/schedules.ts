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
