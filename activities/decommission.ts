/** Decommissioning steps (filled in by the decommission work). */
import type { Backend } from '../backends/ports';

export function createDecommissionActivities(backend: Backend) {
  void backend;
  return {};
}
