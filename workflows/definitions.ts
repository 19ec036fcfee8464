/** Messages of the provisioning workflow, shared by the workflow and its clients (CLI, webhook). */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RunbookProgress } from '../runbook/progress';

export const progressQuery = defineQuery<RunbookProgress>('progress');
export const PROGRESS_QUERY_DESCRIPTION =
  'Steps and hosts with status and timestamps, the replication picture, and rollback progress.';

/** Who decided, and why; from the CLI (`gmsa-runbook approve`) or a ticket transition webhook. */
export interface ApprovalInput {
  approver: string;
  comment?: string;
}

export interface ApprovalOutcome {
  decision: 'approved' | 'rejected';
  approver: string;
}

/** Accepted only while the run waits for approval; the validator refuses it otherwise (nothing is recorded). */
export const approveUpdate = defineUpdate<ApprovalOutcome, [ApprovalInput]>('approve');
export const rejectUpdate = defineUpdate<ApprovalOutcome, [ApprovalInput]>('reject');
