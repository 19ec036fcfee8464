/**
 * Keeps the run's progress in one place and shows it everywhere Temporal can: the `progress` query, the
 * RunbookStep/RunbookState search attributes (list and filter in the UI), and the UI's "current details".
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import {
  HOST_STEPS,
  RUN_STEPS,
  type ApprovalRecord,
  type HostStep,
  type RunbookProgress,
  type RunbookState,
  type RunStep,
  type StepProgress,
  type StepStatus,
} from '../runbook/progress';
import {
  isFinalState,
  recordReplicationWait,
  recordRunbookFinished,
  recordRunbookStarted,
  recordStepDuration,
} from './runbook-metrics';
import {
  GmsaName,
  RunbookState as RunbookStateKey,
  RunbookStep as RunbookStepKey,
  TicketKey,
} from '../runbook/search-attributes';

const now = () => new Date().toISOString(); // deterministic in the workflow sandbox

function pending(): StepProgress {
  return { status: 'pending' };
}

export class ProgressTracker {
  readonly progress: RunbookProgress;
  private shownStep = '';
  private shownState = '';

  /**
   * `oneInitialUpsert`: the ticket, the gMSA and the first step and state go in one upsert (runs since the v2 gate);
   * runs recorded before it made two.
   */
  constructor(init: {
    workflowId: string;
    ticketKey: string;
    gmsaName: string;
    hosts: string[];
    oneInitialUpsert?: boolean;
  }) {
    this.progress = {
      workflowId: init.workflowId,
      ticketKey: init.ticketKey,
      gmsaName: init.gmsaName,
      state: 'running',
      currentStep: 'preflight',
      steps: Object.fromEntries(RUN_STEPS.map((s) => [s, pending()])) as Record<RunStep, StepProgress>,
      hosts: Object.fromEntries(
        init.hosts.map((h) => [
          h,
          Object.fromEntries(HOST_STEPS.map((s) => [s, pending()])) as Record<HostStep, StepProgress>,
        ]),
      ),
      replication: null,
      compensations: [],
      failure: null,
      approval: null,
      ticketMisses: [],
      updatedAt: now(),
    };
    // However the run was started (CLI, webhook, UI, schedule), it is findable by ticket and gMSA.
    const identity = [
      { key: TicketKey, value: init.ticketKey },
      { key: GmsaName, value: init.gmsaName },
    ];
    if (init.oneInitialUpsert) {
      this.publish(identity);
    } else {
      upsertSearchAttributes(identity);
      this.publish();
    }
    recordRunbookStarted();
  }

  step(step: RunStep, status: StepStatus, detail?: string): void {
    this.mark(this.progress.steps[step], status, detail);
    if (status === 'running') this.progress.currentStep = step;
    else this.recordDuration(step);
    this.publish();
  }

  private recordDuration(step: RunStep): void {
    const { startedAt, endedAt, status } = this.progress.steps[step];
    if (!startedAt || !endedAt) return; // skipped without having run
    const seconds = (Date.parse(endedAt) - Date.parse(startedAt)) / 1000;
    recordStepDuration(step, status, seconds);
    if (step === 'wait-replication' && status === 'done') recordReplicationWait(seconds);
  }

  hostStep(host: string, step: HostStep, status: StepStatus, detail?: string): void {
    this.mark(this.progress.hosts[host][step], status, detail);
    this.publish();
  }

  replication(value: RunbookProgress['replication']): void {
    this.progress.replication = value;
    this.publish();
  }

  compensation(name: string, status: 'running' | 'done' | 'failed', detail?: string): void {
    const existing = this.progress.compensations.find((c) => c.name === name);
    if (existing) Object.assign(existing, { status, detail });
    else this.progress.compensations.push({ name, status, detail });
    this.publish();
  }

  approval(record: ApprovalRecord): void {
    this.progress.approval = record;
    this.publish();
  }

  ticketMiss(milestone: string, error: string): void {
    this.progress.ticketMisses.push({ milestone, error });
    this.publish();
  }

  state(state: RunbookState, currentStep?: string): void {
    if (isFinalState(state) && !isFinalState(this.progress.state)) recordRunbookFinished(state);
    this.progress.state = state;
    if (currentStep) this.progress.currentStep = currentStep;
    this.publish();
  }

  failed(failure: { type: string; message: string }): void {
    this.progress.failure = failure;
    // Whatever was running when the failure came did not finish.
    for (const step of RUN_STEPS) {
      if (this.progress.steps[step].status !== 'running') continue;
      this.mark(this.progress.steps[step], 'failed');
      this.recordDuration(step);
    }
    for (const host of Object.values(this.progress.hosts)) {
      for (const s of Object.values(host)) if (s.status === 'running') this.mark(s, 'failed');
    }
    this.publish();
  }

  private mark(p: StepProgress, status: StepStatus, detail?: string): void {
    p.status = status;
    if (status === 'running') p.startedAt = now();
    if (status === 'done' || status === 'failed' || status === 'skipped') p.endedAt = now();
    if (detail !== undefined) p.detail = detail;
  }

  private publish(alongside: SearchAttributeUpdatePair[] = []): void {
    const p = this.progress;
    p.updatedAt = now();
    if (p.currentStep !== this.shownStep || p.state !== this.shownState) {
      upsertSearchAttributes([
        ...alongside,
        { key: RunbookStepKey, value: p.currentStep },
        { key: RunbookStateKey, value: p.state },
      ]);
      this.shownStep = p.currentStep;
      this.shownState = p.state;
    }
    setCurrentDetails(renderDetails(p));
  }
}

/** Markdown for the UI's "Current Details". */
function renderDetails(p: RunbookProgress): string {
  const lines = [`**${p.state}** — step \`${p.currentStep}\` — gMSA \`${p.gmsaName}\` — ticket ${p.ticketKey}`, ''];
  lines.push('| host | ' + HOST_STEPS.join(' | ') + ' |', '|---|' + HOST_STEPS.map(() => '---').join('|') + '|');
  for (const [host, steps] of Object.entries(p.hosts)) {
    lines.push(`| ${host} | ` + HOST_STEPS.map((s) => steps[s].status).join(' | ') + ' |');
  }
  if (p.replication) {
    lines.push(
      '',
      `Replication: ${p.replication.converged.length} DC(s) have it; waiting for ${p.replication.pending.map((x) => x.dc).join(', ') || 'none'}`,
    );
  }
  if (p.approval) lines.push('', `Approval: ${p.approval.decision} by ${p.approval.approver}`);
  if (p.failure) lines.push('', `Failure: \`${p.failure.type}\` ${p.failure.message}`);
  if (p.compensations.length) {
    lines.push('', 'Rollback: ' + p.compensations.map((c) => `${c.name} (${c.status})`).join(', '));
  }
  return lines.join('\n');
}
