/**
 * The baseline's only activity. It does nothing, so a baseline run costs exactly what Temporal, the worker and
 * the activity round trips cost: the floor the runbook is compared with.
 */
export function createBenchActivities() {
  return {
    benchNoop(_step: number): Promise<void> {
      return Promise.resolve();
    },
  };
}

export type BenchActivities = ReturnType<typeof createBenchActivities>;
