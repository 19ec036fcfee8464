#!/usr/bin/env node
/**
 * gmsa-runbook: the command line. `dev` runs the embedded stack; `start`, `watch` and `lab` talk to it (or to
 * whatever TEMPORAL_ADDRESS / GMSA_LAB_URL name; TLS, API key and profiles as temporal/connection-config.ts reads
 * them); `setup` prepares an existing cluster.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LabAdminClient } from '../backends/lab/client';
import { startProvisioning } from '../client/start';
import { workflowUrl } from '../client/ui-links';
import { watchRun } from '../client/watch';
import { printableLines } from '../runbook/printable';
import { provisionWorkflowId, RunbookRequestError } from '../runbook/request';
import { approveUpdate, rejectUpdate } from '../workflows/definitions';
import { connectClient, resolveTarget, withTemporal } from './connect';
import { runDemo } from './demo';
import { defaultStateDir, startDevStack } from './dev-stack';
import { registerLabCommands } from './lab-commands';
import { printOutcome } from './report';
import { registerServeCommand } from './serve';
import { registerSetupCommand } from './setup';
import { registerVerifyCommands } from './schedules';
import { registerDecommissionCommand } from './decommission';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function directoryKind(value: string): 'lab' | 'samba' {
  if (value !== 'lab' && value !== 'samba') throw new InvalidArgumentError('must be lab or samba');
  return value;
}

/** `dev` and `demo` run the same stack, so they take the same directory choice. */
function directoryOption(): Option {
  return new Option('--directory <kind>', 'lab (simulated) or samba (real Samba AD DCs; hosts stay in the lab)')
    .argParser(directoryKind)
    .default('lab');
}

const program = new Command('gmsa-runbook')
  .description('Durable runbooks that give automation a passwordless identity: a gMSA running a JEA endpoint.')
  .showHelpAfterError();

program
  .command('dev')
  .description('run the embedded stack: Temporal dev server + UI, the lab domain, a worker (Ctrl-C stops it)')
  .option('--state-dir <dir>', 'where the stack keeps its state', defaultStateDir())
  .option('--time-scale <factor>', 'lab latencies × this factor (1 = real time)', positiveNumber)
  .addOption(directoryOption())
  .action(async (o: { stateDir: string; timeScale?: number; directory: 'lab' | 'samba' }) => {
    const stack = await startDevStack({
      stateDir: o.stateDir,
      timeScale: o.timeScale,
      directory: o.directory,
      log: console.log,
    });
    console.log(`Temporal ${stack.temporalAddress}; UI ${stack.uiUrl ?? '(none)'}; lab ${stack.labUrl}`);
    console.log('Ready. In another terminal: gmsa-runbook start --file examples/testgmsa-remoting.json --watch');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stack.stop();
  });

program
  .command('demo')
  .description('the main job on the embedded lab: stack up, sample runbook, live progress, verified identity')
  .option('--once', 'exit when the runbook ends (also when CI=true)', false)
  .option('--keep-lab', 'do not reset the lab to its seed state first', false)
  .option('--state-dir <dir>', 'where the stack keeps its state', defaultStateDir())
  .option('--time-scale <factor>', 'lab latencies × this factor', positiveNumber)
  .addOption(directoryOption())
  .action(
    async (o: {
      once: boolean;
      keepLab: boolean;
      stateDir: string;
      timeScale?: number;
      directory: 'lab' | 'samba';
    }) => {
      process.exitCode = await runDemo(o);
    },
  );

program
  .command('start')
  .description('validate a request file and start its provisioning runbook')
  .requiredOption('-f, --file <path>', 'request JSON (see examples/)')
  .option('-w, --watch', 'follow progress until the run ends', false)
  .action(async (o: { file: string; watch: boolean }) => {
    const input: unknown = JSON.parse(readFileSync(o.file, 'utf8'));
    await withTemporal(async (client, target) => {
      const run = await startProvisioning(client, input, { taskQueue: target.taskQueue });
      console.log(`${run.started ? 'Started' : 'Already running:'} ${run.handle.workflowId}`);
      if (target.uiUrl)
        console.log(`Temporal UI: ${workflowUrl(target.uiUrl, target.namespace, run.handle.workflowId)}`);
      if (o.watch) {
        const outcome = await watchRun(run.handle);
        printOutcome(outcome);
        process.exitCode = outcome.ok ? 0 : 1;
      }
    });
  });

program
  .command('watch <workflowId>')
  .description('live progress of a run, per step and host, until it ends')
  .action(async (workflowId: string) => {
    await withTemporal(async (client) => {
      const outcome = await watchRun(client.workflow.getHandle(workflowId));
      printOutcome(outcome);
      process.exitCode = outcome.ok ? 0 : 1;
    });
  });

for (const [name, update, verb] of [
  ['approve', approveUpdate, 'approve the plan of a run that waits for approval'],
  ['reject', rejectUpdate, 'reject the plan: the run ends with nothing changed'],
] as const) {
  program
    .command(`${name} <ticket>`)
    .description(verb)
    .requiredOption('--by <name>', 'who decides (recorded in the run and on the ticket)')
    .option('--comment <text>', 'why')
    .action(async (ticket: string, o: { by: string; comment?: string }) => {
      await withTemporal(async (client) => {
        const handle = client.workflow.getHandle(provisionWorkflowId(ticket));
        const outcome = await handle.executeUpdate(update, { args: [{ approver: o.by, comment: o.comment }] });
        console.log(`${handle.workflowId}: ${outcome.decision} by ${outcome.approver}`);
      });
    });
}

registerServeCommand(program);
registerSetupCommand(program);
registerVerifyCommands(program, () => connectClient(resolveTarget()));
registerDecommissionCommand(program);

registerLabCommands(program, () => {
  const url = resolveTarget().labUrl;
  if (!url) throw new Error('no lab found: start `gmsa-runbook dev`, or set GMSA_LAB_URL');
  return new LabAdminClient(url);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  // What reaches the terminal may carry input (a refused value, JSON.parse quoting the file): escaped and bounded,
  // so no escape sequence, CR or BEL of it acts on the operator's terminal.
  if (err instanceof RunbookRequestError) console.error(printableLines(err.message));
  else console.error(`error: ${printableLines(err instanceof Error ? err.message : String(err), 2000, 200)}`);
  process.exit(err instanceof RunbookRequestError ? 2 : 1);
});
