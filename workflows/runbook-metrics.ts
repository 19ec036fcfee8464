/**
 * The project's own metrics, emitted from workflow code through the SDK's `metricMeter` so that they leave with the
 * SDK's metrics on the worker's Prometheus `/metrics` and are never emitted twice (the SDK drops them during
 * replay). Names are prefixed `gmsa_`; durations are workflow time in seconds.
 */
import { metricMeter } from '@temporalio/workflow';
import type { RunbookState } from '../runbook/progress';

/** The states a provisioning run ends in; each is counted once, as `outcome`. */
const FINAL_STATES: ReadonlySet<RunbookState> = new Set<RunbookState>([
  'succeeded',
  'rolled-back',
  'needs-human',
  'cancelled',
  'rejected',
  'expired',
  'planned',
]);

export function isFinalState(state: RunbookState): boolean {
  return FINAL_STATES.has(state);
}

export function recordRunbookStarted(): void {
  metricMeter.createCounter('gmsa_runbooks_started', 'runbooks', 'Provisioning runbooks started').add(1);
}

/** outcome: succeeded, rolled-back, needs-human (a compensation could not finish), cancelled, rejected, … */
export function recordRunbookFinished(outcome: RunbookState): void {
  metricMeter
    .createCounter('gmsa_runbooks_finished', 'runbooks', 'Provisioning runbooks finished, by outcome')
    .add(1, { outcome });
}

export function recordStepDuration(step: string, status: string, seconds: number): void {
  metricMeter
    .createHistogram('gmsa_step_duration_seconds', 'float', 's', 'Duration of each runbook step, by step and status')
    .record(seconds, { step, status });
}

export function recordReplicationWait(seconds: number): void {
  metricMeter
    .createHistogram(
      'gmsa_replication_wait_seconds',
      'float',
      's',
      'Time from creating the gMSA until every DC in scope had it',
    )
    .record(seconds);
}
