/**
 * All activities, built around what they act on (the DI factory pattern of temporalio/samples-typescript): the
 * backend (directory and hosts) and the ticket adapters. Workflows import only the type:
 * `proxyActivities<RunbookActivities>`.
 */
import type { Backend } from '../backends/ports';
import { createTicketPorts, type TicketPorts } from '../ticketing/adapters';
import { createDirectoryActivities } from './directory';
import { createHostActivities, type HostActivityOptions } from './hosts';
import { createPreflightActivities } from './preflight';
import { createTicketActivities } from './tickets';
import { createVerifyActivities } from './verify';
import { createScheduleActivities } from './schedules';
import { createDecommissionActivities } from './decommission';

export interface ActivityDeps {
  backend: Backend;
  hostOptions?: Partial<HostActivityOptions>;
  /** Where ticket updates go; by default the log adapter, silent (tests and the lab demo need no ticket). */
  tickets?: TicketPorts;
}

export function createActivities({ backend, hostOptions, tickets }: ActivityDeps) {
  const ports = tickets ?? createTicketPorts({}, { log: () => undefined });
  return {
    ...createPreflightActivities(backend),
    ...createDirectoryActivities(backend),
    ...createHostActivities(backend, { pollIntervalMs: 500, ...hostOptions }),
    ...createTicketActivities(ports, ports.links),
    ...createVerifyActivities(backend),
    ...createScheduleActivities(),
    ...createDecommissionActivities(backend),
  };
}

export type RunbookActivities = ReturnType<typeof createActivities>;
