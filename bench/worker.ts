/**
 * The benchmark's worker process: workers/main.ts (same environment, runtime logger, connection and worker
 * options) with the baseline workflow and its no-op activity registered next to the runbook, so both sides of a
 * comparison run on one worker with one set of settings. A process of its own, so its peak RSS can be read.
 */
import { runWorkerProcess } from '../workers/process';
import { createBenchActivities } from './activities';

runWorkerProcess({
  service: 'gmsa-bench-worker',
  extend: (options) => ({
    ...options,
    workflowsPath: require.resolve('./workflows'),
    activities: { ...options.activities, ...createBenchActivities() },
  }),
});
