/**
 * The activity that tells a ticket how its runbook is going. It only reports: whether a failed update matters is
 * the workflow's decision (it catches the failure and records the miss, so an unreachable Jira never fails a
 * provisioning run). Retries are Temporal's, so the failures here say honestly whether another try can help
 * (rate limit, outage: yes, and when; bad credentials, unknown ticket: no).
 */
import { activityInfo, ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import { runWithCallContext } from '../backends/call-context';
import { BackendError } from '../backends/errors';
import { workflowUrl } from '../client/ui-links';
import { isRetryableFailure } from '../runbook/failures';
import type { TicketRef, TicketUpdate } from '../runbook/ticket';
import type { TicketPort } from '../ticketing/port';

export interface TicketPortSource {
  forTicket(ref: TicketRef): TicketPort;
}

export interface TicketActivityOptions {
  /** The Temporal UI's address; null leaves run links out (the update still goes). */
  uiUrl: string | null;
  namespace: string;
  /**
   * The longest Retry-After honoured as nextRetryDelay (default 60 s): longer ones are cut to this. The workflow
   * awaits each update, so a rate limit of an hour must not hold the runbook for an hour; after the retries the
   * workflow records the miss and moves on.
   */
  maxRetryDelayMs?: number;
}

const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

export function createTicketActivities(tickets: TicketPortSource, opts: TicketActivityOptions) {
  return {
    async postTicketUpdate(update: TicketUpdate): Promise<{ delivered: true }> {
      // The activity's own workflow id, not one passed in: the link always points at the run that is reporting,
      // and at the workflow (no run id) so it survives a reset or continue-as-new. An activity started on its own
      // (no workflow) has no run to link to.
      const workflowId = activityInfo().workflowExecution?.workflowId;
      const runUrl = opts.uiUrl && workflowId ? workflowUrl(opts.uiUrl, opts.namespace, workflowId) : null;
      const port = tickets.forTicket(update.ticket);
      try {
        await runWithCallContext({ signal: cancellationSignal(), heartbeat: (d) => heartbeat(d) }, () =>
          port.postUpdate(update, { runUrl }),
        );
      } catch (err) {
        throw ticketFailure(err, port.name, opts.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
      }
      return { delivered: true };
    },
  };
}

export type TicketActivities = ReturnType<typeof createTicketActivities>;

/**
 * A typed ApplicationFailure for a failed update. Retryability follows the failure type (as for every other
 * activity); a server's Retry-After becomes nextRetryDelay so a rate-limited Jira is asked again when it said to,
 * not on the policy's schedule. Anything untyped (a bug, a cancellation) passes through unchanged.
 */
export function ticketFailure(err: unknown, adapter: string, maxRetryDelayMs = DEFAULT_MAX_RETRY_DELAY_MS): unknown {
  if (!(err instanceof BackendError)) return err;
  const retryable = isRetryableFailure(err.type);
  const retryAfterMs = err.details?.retryAfterMs;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !retryable,
    details: [{ adapter, ...err.details }],
    nextRetryDelay: retryable && typeof retryAfterMs === 'number' ? Math.min(retryAfterMs, maxRetryDelayMs) : undefined,
  });
}
