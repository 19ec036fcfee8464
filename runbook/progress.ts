/**
 * What the `progress` query returns and the CLI and ticket comments show: steps × hosts with status and times.
 */
export const RUN_STEPS = ['preflight', 'approval', 'create-gmsa', 'wait-replication', 'hosts'] as const;
export type RunStep = (typeof RUN_STEPS)[number];

export const HOST_STEPS = ['install', 'register-endpoint', 'verify-identity'] as const;
export type HostStep = (typeof HOST_STEPS)[number];

export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

export type RunbookState =
  | 'running'
  | 'awaiting-approval'
  | 'rejected'
  | 'expired'
  | 'planned'
  | 'succeeded'
  | 'rolling-back'
  | 'rolled-back'
  | 'cancelled'
  | 'needs-human';

export interface StepProgress {
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

export interface CompensationProgress {
  name: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  detail?: string;
}

export interface RunbookProgress {
  workflowId: string;
  ticketKey: string;
  gmsaName: string;
  state: RunbookState;
  /** The step the run is on: a RunStep, `rollback` or `done`. */
  currentStep: string;
  steps: Record<RunStep, StepProgress>;
  hosts: Record<string, Record<HostStep, StepProgress>>;
  replication: { converged: string[]; pending: { dc: string; reason: string }[]; deadline: string } | null;
  compensations: CompensationProgress[];
  failure: { type: string; message: string } | null;
  approval: ApprovalRecord | null;
  /** Ticket updates that could not be delivered after their retries (the run went on without them). */
  ticketMisses: { milestone: string; error: string }[];
  updatedAt: string;
}

export interface ApprovalRecord {
  decision: 'approved' | 'rejected';
  approver: string;
  comment?: string;
}

export interface ProvisionResult {
  /** rejected / expired: the approver said no, or nobody decided in time; nothing was changed. */
  status: 'succeeded' | 'planned' | 'rejected' | 'expired';
  workflowId: string;
  plan: import('./plan').ProvisionPlan;
  /** Host → the identity a session through the endpoint ran as. */
  identities: Record<string, string>;
  approval: ApprovalRecord | null;
  /** What re-verification and decommissioning work on (null for plans that changed nothing). */
  target: import('./verify').VerifyTarget | null;
  /** The re-verification schedule, when the request asked for one. */
  verifySchedule: { scheduleId: string; ok: boolean; error?: string } | null;
  startedAt: string;
  finishedAt: string;
}

/** Details of a failed run's ApplicationFailure: what rollback did and what needs a human. */
export interface RollbackReport {
  cause: { type: string; message: string };
  undone: string[];
  needsHuman: { name: string; error: string }[];
}
