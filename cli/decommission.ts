/**
 * `gmsa-runbook decommission <gmsa>`: undo a successful provisioning. The target (and what that run owns) comes
 * from the `gmsa-verify-<gmsa>` schedule, the registry of provisioned targets; once the schedule is gone (or was
 * never made), from the provisioning run's result with `--from-run`.
 */
import {
  ScheduleNotFoundError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { decommissionWorkflowId, describeDecommission, type DecommissionReport } from '../runbook/decommission';
import type { ProvisionResult } from '../runbook/progress';
import { verifyScheduleId, type VerifyTarget } from '../runbook/verify';
import type { decommissionGmsaRemoting } from '../workflows';
import { connectClient as defaultConnect, resolveTarget as defaultResolve, type Target } from './connect';

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

export interface DecommissionCommandDeps {
  resolveTarget: () => Target;
  connectClient: (target: Target) => Promise<{ client: Client; close: () => Promise<void> }>;
  print: (line: string) => void;
}

export function registerDecommissionCommand(program: Command, deps: Partial<DecommissionCommandDeps> = {}): void {
  const { resolveTarget, connectClient, print } = {
    resolveTarget: defaultResolve,
    connectClient: defaultConnect,
    print: (line: string) => console.log(line),
    ...deps,
  };
  program
    .command('decommission <gmsa>')
    .description(
      'remove what provisioning made for a gMSA (endpoints, added principals or group members, the gMSA if it ' +
        'created it, the schedule); safe to re-run',
    )
    .option('--from-run <workflowId>', 'take the target from this provisioning run (when the schedule is gone)')
    .action(async (gmsa: string, o: { fromRun?: string }) => {
      const where = resolveTarget();
      const { client, close } = await connectClient(where);
      try {
        const target = o.fromRun ? await targetFromRun(client, o.fromRun) : await targetFromSchedule(client, gmsa);
        if (target.gmsaName.toLowerCase() !== gmsa.toLowerCase()) {
          throw new DecommissionTargetMissing(`${o.fromRun ?? ''} provisioned ${target.gmsaName}, not ${gmsa}`);
        }
        const handle = await startDecommission(client, target, { taskQueue: where.taskQueue });
        print(`Decommissioning ${target.gmsaName}: ${handle.workflowId}`);
        const outcome = await decommissionOutcome(handle);
        if (!outcome.ok) print(`Decommission incomplete: ${outcome.message}`);
        else print(`Decommissioned ${target.gmsaName}.`);
        for (const line of outcome.report ? describeDecommission(outcome.report) : []) print(line);
        process.exitCode = outcome.ok ? 0 : 1;
      } finally {
        await close();
      }
    });
}
