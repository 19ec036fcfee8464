/**
 * The approval gate: the run shows its plan and waits for an `approve` or `reject` update (from the CLI or a
 * ticket transition) for at most the request's timeout. The updates are refused (by their validators, so nothing
 * is written to history) whenever the run is not waiting.
 */
import { condition, setHandler } from '@temporalio/workflow';
import type { ApprovalRecord } from '../runbook/progress';
import { approveUpdate, rejectUpdate, type ApprovalInput } from './definitions';

export class ApprovalGate {
  private waiting = false;
  private decision: ApprovalRecord | undefined;

  constructor() {
    const validator = (input: ApprovalInput) => {
      if (!this.waiting) throw new Error('the run is not waiting for approval');
      if (typeof input?.approver !== 'string' || !input.approver.trim())
        throw new Error('approver: must name who decides');
      if (input.approver.length > 256 || (input.comment?.length ?? 0) > 2000)
        throw new Error('approver/comment: too long');
    };
    const decide = (decision: ApprovalRecord['decision']) => (input: ApprovalInput) => {
      this.decision = {
        decision,
        approver: input.approver.trim(),
        ...(input.comment ? { comment: input.comment } : {}),
      };
      this.waiting = false;
      return { decision, approver: this.decision.approver };
    };
    setHandler(approveUpdate, decide('approved'), { validator, description: 'Approve the plan: the run goes on.' });
    setHandler(rejectUpdate, decide('rejected'), { validator, description: 'Reject the plan: nothing is changed.' });
  }

  /**
   * From now on a decision is accepted. Opened before the plan is announced (UI, ticket), so that whoever reads
   * "waiting for approval" can decide at once.
   */
  open(): void {
    this.waiting = true;
  }

  /** The decision (it may have come already, since open()), or null when nobody decided within the timeout. */
  async await(timeoutSeconds: number): Promise<ApprovalRecord | null> {
    this.waiting = this.decision === undefined;
    const decided = await condition(() => this.decision !== undefined, `${timeoutSeconds} seconds`);
    this.waiting = false;
    return decided ? (this.decision ?? null) : null;
  }
}
