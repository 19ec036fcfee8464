/**
 * `gmsa-runbook decommission <gmsa>`: undo a successful provisioning. The target (and what that run owns) comes
 * from the `gmsa-verify-<gmsa>` schedule, the registry of provisioned targets; once the schedule is gone (or was
 * never made), from the provisioning run's result with `--from-run`.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  decommissionOutcome,
  DecommissionTargetMissing,
  startDecommission,
  targetFromRun,
  targetFromSchedule,
} from '../client/decommission';
import { describeDecommission } from '../runbook/decommission';
import { connectClient as defaultConnect, resolveTarget as defaultResolve, type Target } from './connect';

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
