/** Messages of the provisioning workflow, shared by the workflow and its clients (CLI, webhook). */
import { defineQuery } from '@temporalio/workflow';
import type { RunbookProgress } from '../runbook/progress';

export const progressQuery = defineQuery<RunbookProgress>('progress');
export const PROGRESS_QUERY_DESCRIPTION =
  'Steps and hosts with status and timestamps, the replication picture, and rollback progress.';
