/**
 * `gmsa-runbook setup`: prepares an existing Temporal cluster or Temporal Cloud namespace for the runbooks (the
 * project's search attributes, and the namespace itself with --create-namespace), idempotently, and says what it
 * did. Where it connects: cli/connect.ts (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, API key, mTLS, profile).
 * Exit 0 when the namespace is ready, 1 with a message otherwise.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Connection } from '@temporalio/client';
import { connectClientConnection, describeConnection } from '../temporal/connection-config';
import { describeSetupReport, setupTemporal } from '../temporal/setup';
import { resolveTarget } from './connect';

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

function positiveInteger(value: string): number {
  const n = nonNegativeInteger(value);
  if (n === 0) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description("register the runbooks' search attributes on an existing Temporal cluster (idempotent)")
    .option('--create-namespace', 'create the namespace when it does not exist (self-hosted clusters)', false)
    .option('--retention-days <days>', 'retention of closed runs for a namespace this creates', positiveInteger, 3)
    .option('--wait <seconds>', 'keep retrying this long while the server is still starting', nonNegativeInteger, 0)
    .action(async (o: { createNamespace: boolean; retentionDays: number; wait: number }) => {
      const target = resolveTarget();
      const config = target.connection;
      console.log(`Temporal ${describeConnection(config)}`);
      const deadline = Date.now() + o.wait * 1000;
      let connection: Connection;
      for (;;) {
        try {
          connection = await connectClientConnection(config);
          break;
        } catch (err) {
          if (Date.now() >= deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      }
      try {
        const report = await setupTemporal(connection, config.namespace, {
          createNamespace: o.createNamespace,
          retentionDays: o.retentionDays,
          waitMs: Math.max(0, deadline - Date.now()),
          log: (line) => console.log(line),
        });
        for (const line of describeSetupReport(report)) console.log(line);
      } finally {
        await connection.close();
      }
    });
}
