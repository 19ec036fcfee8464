/** `gmsa-runbook lab …`: look inside the lab domain and inject faults on demand. */
import type { Command } from 'commander';
import type { LabAdminClient } from '../backends/lab/client';
import { LabFaultSpecSchema } from '../backends/lab/faults';

interface InjectOptions {
  dc?: string;
  host?: string;
  operation?: string;
  failureType?: string;
  when?: string;
  times?: string;
  target?: string;
  hangMs?: string;
  durationMs?: string;
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

export function registerLabCommands(program: Command, admin: () => LabAdminClient): void {
  const lab = program.command('lab').description('inspect the lab domain and inject faults');

  lab
    .command('state')
    .description('the lab state as JSON (--comparable: only what a user can see)')
    .option('--comparable', 'per-DC objects, endpoints, memberships and tickets only', false)
    .action(async (o: { comparable: boolean }) =>
      print(o.comparable ? await admin().comparableState() : await admin().state()),
    );

  lab
    .command('events')
    .description('the log of changes made in the lab')
    .action(async () => print(await admin().events()));
  lab
    .command('faults')
    .description('the active faults')
    .action(async () => print(await admin().listFaults()));

  lab
    .command('inject <kind>')
    .description(
      'inject a fault: dc-down, replication-blocked (--dc); host-unreachable, winrm-hang (--hang-ms), virtual-account, ' +
        'disable-runas (--host); fail-operation (--operation --failure-type [--when before|after] [--times] [--target])',
    )
    .option('--dc <fqdn>')
    .option('--host <fqdn>')
    .option('--operation <name>', 'a backend operation, e.g. createServiceAccount, startRegistration')
    .option('--failure-type <type>', 'e.g. AccessDenied (fails for good) or ServerDown (retried)')
    .option('--when <before|after>', 'after: the operation takes effect, then the call fails')
    .option('--times <n>', 'fire this many times, then stop')
    .option('--target <name>', 'only calls for this DC or host')
    .option('--hang-ms <ms>')
    .option('--duration-ms <ms>', 'expire after this long')
    .action(async (kind: string, o: InjectOptions) => {
      const spec = LabFaultSpecSchema.safeParse({
        kind,
        dc: o.dc,
        host: o.host,
        operation: o.operation,
        failureType: o.failureType,
        when: o.when,
        times: num(o.times),
        target: o.target,
        hangMs: num(o.hangMs),
        durationMs: num(o.durationMs),
      });
      if (!spec.success) {
        throw new Error(
          `invalid fault:\n${spec.error.issues.map((i) => `  - ${i.path.join('.') || 'kind'}: ${i.message}`).join('\n')}`,
        );
      }
      console.log(`fault ${await admin().addFault(spec.data)} injected`);
    });

  lab.command('remove-fault <id>').action(async (id: string) => admin().removeFault(id));
  lab
    .command('clear-faults')
    .description('remove every fault')
    .action(async () => admin().clearFaults());
  lab
    .command('reset')
    .description('back to the seed topology')
    .action(async () => admin().reset());
  lab
    .command('replicate-now')
    .description('deliver every pending replication (repadmin /syncall)')
    .action(async () => console.log(`${await admin().replicateNow()} change(s) delivered`));
  lab
    .command('kds')
    .description('replace the KDS root key with one effective at --effective (ISO time), or --clear them')
    .option('--effective <iso>')
    .option('--clear', 'remove every root key', false)
    .action(async (o: { effective?: string; clear: boolean }) => {
      if (o.clear) return admin().clearKdsRootKeys();
      if (!o.effective || Number.isNaN(Date.parse(o.effective)))
        throw new Error('--effective: must be an ISO date-time');
      print(await admin().setKdsRootKey(o.effective));
    });
}
