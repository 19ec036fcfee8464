/**
 * The trivial workflow the runbook is measured against: the same number of activities, one after the other,
 * each doing nothing. It runs in the workflow sandbox like the runbook: no Node APIs, activity types only.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BenchActivities } from './activities';

// The runbook's forward-step options (workflows/provision.ts), so timeouts and retry policy cost the same.
const { benchNoop } = proxyActivities<BenchActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6 },
});

export async function benchBaseline(activities: number): Promise<number> {
  for (let step = 0; step < activities; step++) await benchNoop(step);
  return activities;
}
