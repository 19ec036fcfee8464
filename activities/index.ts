/**
 * All activities, built around the backend they act on (the DI factory pattern of temporalio/samples-typescript).
 * Workflows import only the type: `proxyActivities<RunbookActivities>`.
 */
import type { Backend } from '../backends/ports';
import { createDirectoryActivities } from './directory';
import { createHostActivities, type HostActivityOptions } from './hosts';
import { createPreflightActivities } from './preflight';

export interface ActivityDeps {
  backend: Backend;
  hostOptions?: Partial<HostActivityOptions>;
}

export function createActivities({ backend, hostOptions }: ActivityDeps) {
  return {
    ...createPreflightActivities(backend),
    ...createDirectoryActivities(backend),
    ...createHostActivities(backend, { pollIntervalMs: 500, ...hostOptions }),
  };
}

export type RunbookActivities = ReturnType<typeof createActivities>;
