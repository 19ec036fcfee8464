/**
 * Progress back to the ticket. An update that cannot be delivered after its retries never fails the runbook: the
 * miss is recorded in the progress (and so in the UI), and the run goes on.
 */
import { isCancellation, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { RunbookActivities } from '../activities';
import type { TicketMilestone, TicketRef } from '../runbook/ticket';
import { describeError } from './saga';

const ticketOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};

const acts = proxyActivities<RunbookActivities>(ticketOptions);

/**
 * Where a missed update is recorded. ProgressTracker is one; runs without a progress (re-verification) pass
 * something smaller, so they do not take on provisioning's RunbookStep/RunbookState.
 */
export interface TicketMissSink {
  ticketMiss(milestone: string, error: string): void;
}

export class TicketNotifier {
  /** The last update queued by post(); each queued update waits for the one before it. */
  private queued: Promise<void> = Promise.resolve();

  constructor(
    private readonly ticket: TicketRef,
    private readonly progress: TicketMissSink,
  ) {}

  /**
   * Queue an update behind the ones already queued and return at once: the run goes on while the ticket system
   * answers (a rate-limited Jira retries for up to minutes). Comments still arrive in order. A miss is recorded
   * as with send(); a cancel of the run ends a queued update quietly (rollback reports the cancel itself).
   * Call flush() before anything that must come after the queued updates, and before the run ends.
   */
  post(milestone: TicketMilestone, step: string, headline: string, lines: string[] = []): void {
    this.queued = this.queued.then(() => this.send(milestone, step, headline, lines)).catch(() => undefined);
  }

  /** Resolves once every queued update has been delivered or recorded as missed. */
  flush(): Promise<void> {
    return this.queued;
  }

  async send(milestone: TicketMilestone, step: string, headline: string, lines: string[] = []): Promise<void> {
    try {
      await acts.postTicketUpdate.executeWithOptions(
        { ...ticketOptions, summary: `Ticket ${this.ticket.key}: ${milestone}` },
        [{ ticket: this.ticket, milestone, step, headline, lines }],
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.progress.ticketMiss(milestone, describeError(err));
    }
  }
}
