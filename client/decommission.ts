/**
 * Decommissioning from a client (CLI, webhook): find the target of a provisioned gMSA (the `gmsa-verify-<gmsa>`
 * schedule is the registry; a provisioning run's result when the schedule is gone), start one decommission per
 * gMSA, and read its report.
 */
import {
  ScheduleNotFoundError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decommissionWorkflowId, type DecommissionReport } from '../runbook/decommission';
import type { ProvisionResult } from '../runbook/progress';
import { verifyScheduleId, type VerifyTarget } from '../runbook/verify';
import type { decommissionGmsaRemoting } from '../workflows';

export class DecommissionTargetMissing extends Error {}

/** The target as the schedule's action carries it (its only argument). */
export async function targetFromSchedule(client: Client, gmsaName: string): Promise<VerifyTarget> {
  const id = verifyScheduleId(gmsaName);
  try {
    const description = await client.schedule.getHandle(id).describe();
    const target = description.action.args?.[0] as VerifyTarget | undefined;
    if (target?.gmsaName !== gmsaName)
      throw new DecommissionTargetMissing(`schedule ${id} carries no target for ${gmsaName}`);
    return target;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new DecommissionTargetMissing(
        `no schedule ${id}: it was deleted (by an earlier decommission?) or never created; ` +
          'pass --from-run <provisioning workflow id>',
      );
    }
    throw err;
  }
}

/** The target a successful provisioning run returned. */
export async function targetFromRun(client: Client, workflowId: string): Promise<VerifyTarget> {
  const result = (await client.workflow.getHandle(workflowId).result()) as ProvisionResult;
  if (!result.target) {
    throw new DecommissionTargetMissing(`${workflowId} ended ${result.status}: it provisioned nothing to decommission`);
  }
  return result.target;
}

/** Start (or attach to the running) decommission of a target: one per gMSA at a time. */
export function startDecommission(
  client: Client,
  target: VerifyTarget,
  opts: { taskQueue: string },
): Promise<WorkflowHandle<typeof decommissionGmsaRemoting>> {
  return client.workflow.start<typeof decommissionGmsaRemoting>('decommissionGmsaRemoting', {
    taskQueue: opts.taskQueue,
    workflowId: decommissionWorkflowId(target.gmsaName),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [target],
    staticSummary: `Decommission gMSA ${target.gmsaName} → ${target.endpointName} (ticket ${target.ticket.key})`,
  });
}

/** The report of a finished decommission: its result, or the report a failed run carries in its details. */
export async function decommissionOutcome(
  handle: WorkflowHandle<typeof decommissionGmsaRemoting>,
): Promise<
  { ok: true; report: DecommissionReport } | { ok: false; message: string; report: DecommissionReport | null }
> {
  try {
    return { ok: true, report: await handle.result() };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    const report =
      cause instanceof ApplicationFailure ? ((cause.details?.[0] as DecommissionReport | undefined) ?? null) : null;
    return { ok: false, message: cause?.message ?? err.message, report };
  }
}
