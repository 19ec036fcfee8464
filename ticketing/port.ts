/**
 * Where ticket updates go. One port, one method; adapters for Jira (REST v3, ADF), ServiceNow (Table API) and a
 * log-only default. Called from an activity, so it is retried; an update is allowed to arrive twice (the step in
 * its text tells them apart). Credentials come from the worker's environment, never from workflow arguments.
 */
import type { TicketUpdate } from '../runbook/ticket';

export interface TicketUpdateContext {
  /** Deep link to the run in the Temporal UI, when the worker knows the UI's address. */
  runUrl: string | null;
}

export interface TicketPort {
  readonly name: string;
  postUpdate(update: TicketUpdate, context: TicketUpdateContext): Promise<void>;
}
