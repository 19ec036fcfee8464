/**
 * Starting and timing runs through the Temporal client, as a ticket or the CLI would, and reading their
 * histories for the round-trip counts the report explains figures with.
 */
import type { Client } from '@temporalio/client';
import type { ProvisionResult } from '../runbook/progress';
import type { RunbookRequestInput } from '../runbook/request';
import type { benchBaseline } from './baseline-workflow';
import type { provisionGmsaRemoting } from '../workflows';

export interface TimedRun<T> {
  workflowId: string;
  /** From the start call to the result: what a caller waits. */
  ms: number;
  result: T;
}

let baselineSeq = 0;

export async function runRunbook(
  client: Client,
  taskQueue: string,
  request: RunbookRequestInput,
): Promise<TimedRun<ProvisionResult>> {
  const workflowId = `gmsa-provision-${request.ticket.key}`;
  const t0 = performance.now();
  const handle = await client.workflow.start<typeof provisionGmsaRemoting>('provisionGmsaRemoting', {
    taskQueue,
    workflowId,
    args: [request],
  });
  const result = await handle.result();
  const ms = performance.now() - t0;
  if (result.status !== 'succeeded') throw new Error(`${workflowId} ended ${result.status}, not succeeded`);
  return { workflowId, ms, result };
}

export async function runBaseline(client: Client, taskQueue: string, activities: number): Promise<TimedRun<number>> {
  const workflowId = `bench-baseline-${process.pid}-${Date.now().toString(36)}-${baselineSeq++}`;
  const t0 = performance.now();
  const handle = await client.workflow.start<typeof benchBaseline>('benchBaseline', {
    taskQueue,
    workflowId,
    args: [activities],
  });
  const result = await handle.result();
  return { workflowId, ms: performance.now() - t0, result };
}

/** What one run cost in Temporal terms. */
export interface HistoryStats {
  events: number;
  /** Activity executions (scheduled events; a retry is an attempt of the same execution). */
  activities: number;
  /** Extra attempts beyond the first, summed over activities. */
  retries: number;
  workflowTasks: number;
  timers: number;
  searchAttributeUpserts: number;
  activityTypes: Record<string, number>;
}

export async function historyStats(client: Client, workflowId: string): Promise<HistoryStats> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const stats: HistoryStats = {
    events: 0,
    activities: 0,
    retries: 0,
    workflowTasks: 0,
    timers: 0,
    searchAttributeUpserts: 0,
    activityTypes: {},
  };
  for (const e of history.events ?? []) {
    stats.events++;
    if (e.activityTaskScheduledEventAttributes) {
      stats.activities++;
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      stats.activityTypes[type] = (stats.activityTypes[type] ?? 0) + 1;
    }
    if (e.activityTaskStartedEventAttributes)
      stats.retries += Math.max(0, (e.activityTaskStartedEventAttributes.attempt ?? 1) - 1);
    if (e.workflowTaskCompletedEventAttributes) stats.workflowTasks++;
    if (e.timerStartedEventAttributes) stats.timers++;
    if (e.upsertWorkflowSearchAttributesEventAttributes) stats.searchAttributeUpserts++;
  }
  return stats;
}
