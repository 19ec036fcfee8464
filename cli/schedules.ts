/**
 * `gmsa-runbook verify <gmsa>` and `gmsa-runbook schedules list|pause|unpause|trigger`. The `gmsa-verify-<gmsa>`
 * schedules are the registry of provisioned targets: both commands start from them.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { controlVerifySchedule, formatDriftReport, listVerifySchedules, runVerification } from '../client/schedules';

export type ConnectFn = () => Promise<{ client: Client; close: () => Promise<void> }>;

async function withClient<T>(connect: ConnectFn, work: (client: Client) => Promise<T>): Promise<T> {
  const { client, close } = await connect();
  try {
    return await work(client);
  } finally {
    await close();
  }
}

const when = (d: Date | null) => (d ? d.toISOString() : '-');

export function registerVerifyCommands(program: Command, connect: ConnectFn): void {
  program
    .command('verify <gmsa>')
    .description('verify a provisioned gMSA endpoint now and print its drift report (exit 1 on drift or unreachable)')
    .action(async (gmsa: string) => {
      const { workflowId, report } = await withClient(connect, (client) => runVerification(client, gmsa));
      console.log(formatDriftReport(report));
      console.log(`\nRun: ${workflowId}`);
      // Scripts and CI read the exit code: anything short of a clean report needs a look.
      process.exitCode = report.status === 'ok' ? 0 : 1;
    });

  const schedules = program.command('schedules').description('the gmsa-verify-<gmsa> re-verification schedules');

  schedules
    .command('list')
    .description('every provisioned target with its schedule state')
    .action(async () => {
      const rows = await withClient(connect, listVerifySchedules);
      if (rows.length === 0) {
        console.log('No verification schedules: nothing provisioned yet.');
        return;
      }
      const table = [
        ['GMSA', 'STATE', 'LAST RUN', 'NEXT RUN', 'NOTE'],
        ...rows.map((r) => [
          r.gmsaName,
          r.paused ? 'paused' : 'active',
          when(r.lastRunAt),
          when(r.nextRunAt),
          r.note ?? '',
        ]),
      ];
      const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
      for (const row of table)
        console.log(
          row
            .map((c, i) => c.padEnd(widths[i]))
            .join('  ')
            .trimEnd(),
        );
    });

  for (const [op, description] of [
    ['pause', 'stop the scheduled verifications of a target (e.g. during maintenance)'],
    ['unpause', 'resume the scheduled verifications of a target'],
    ['trigger', 'start a scheduled verification now (skipped if one is running)'],
  ] as const) {
    schedules
      .command(`${op} <gmsa>`)
      .description(description)
      .option('--note <text>', 'why (shown with the schedule)')
      .action(async (gmsa: string, o: { note?: string }) => {
        await withClient(connect, (client) => controlVerifySchedule(client, gmsa, op, o.note));
        console.log(`${op}: gmsa-verify-${gmsa}`);
      });
  }
}
