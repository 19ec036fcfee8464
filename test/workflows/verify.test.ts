/**
 * Re-verification on a real Temporal server against the lab: provisioning leaves a schedule whose runs report a
 * clean target, and each kind of drift induced in the lab shows up as exactly the checks it breaks.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookRequestInput } from '../../runbook/request';
import { DriftStatus, GmsaName, LastVerifiedAt } from '../../runbook/search-attributes';
import { verifyScheduleId, type DriftReport, type VerifyTarget } from '../../runbook/verify';
import type { verifyGmsaRemoting } from '../../workflows';
import { sampleRequest, useRunbookHarness } from '../support/runbook-env';

const h = useRunbookHarness('verify');
const DCS = ['dc1.lab.local', 'dc2.lab.local', 'dc3.lab.local', 'dc4.lab.local'];
const HOSTS = ['server1.lab.local', 'server2.lab.local'];
const schedules: string[] = [];

beforeEach(async () => {
  await h.lab.admin.reset();
});

// Schedules outlive the suite on the shared server; their worker does not.
afterAll(async () => {
  for (const id of schedules)
    await h.env.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
});

async function provision(name: string, overrides: Partial<RunbookRequestInput> = {}) {
  const result = await (await h.start(sampleRequest({ gmsa: { name }, ...overrides }))).result();
  expect(result.status).toBe('succeeded');
  if (result.verifySchedule) schedules.push(result.verifySchedule.scheduleId);
  if (!result.target) throw new Error('a succeeded run has a target');
  return { result, target: result.target };
}

let runCounter = 0;
async function verify(target: VerifyTarget): Promise<{ report: DriftReport; handle: WorkflowHandle }> {
  const handle = await h.env.client.workflow.start<typeof verifyGmsaRemoting>('verifyGmsaRemoting', {
    taskQueue: h.taskQueue,
    workflowId: `${verifyScheduleId(target.gmsaName)}-test-${Date.now()}-${runCounter++}`,
    args: [target],
  });
  return { report: await handle.result(), handle };
}

/** The checks that are not ok, as `check@target=status`, sorted: what "exactly that drift" is compared on. */
function problems(report: DriftReport): string[] {
  return report.checks
    .filter((c) => c.status !== 'ok')
    .map((c) => `${c.check}@${c.target}=${c.status}`)
    .sort();
}

async function pinnedAccount(name: string, dc: string) {
  const sa = await h.lab.backend.directory.getServiceAccount(dc, name);
  if (!sa) throw new Error(`${name} is not on ${dc}`);
  return sa;
}

test('provisioning creates the schedule; triggering it runs a verification that reports all ok', async () => {
  const { target } = await provision('vf-sched');
  const scheduleId = verifyScheduleId('vf-sched');
  const schedule = h.env.client.schedule.getHandle(scheduleId);
  const description = await schedule.describe();
  expect(description.action.workflowType).toBe('verifyGmsaRemoting');
  expect(description.action.args).toEqual([target]);

  await schedule.trigger();
  // Visibility is eventually consistent: poll until the scheduled run shows up.
  let workflowId: string | undefined;
  for (let i = 0; i < 100 && !workflowId; i++) {
    for await (const run of h.env.client.workflow.list({ query: `TemporalScheduledById = "${scheduleId}"` })) {
      workflowId = run.workflowId;
    }
    if (!workflowId) await new Promise((r) => setTimeout(r, 100));
  }
  if (!workflowId) throw new Error('the triggered run never appeared');
  const handle = h.env.client.workflow.getHandle<typeof verifyGmsaRemoting>(workflowId);
  const report = await handle.result();

  expect(report.status).toBe('ok');
  expect(problems(report)).toEqual([]);
  const checked = report.checks.map((c) => `${c.check}@${c.target}`).sort();
  expect(checked).toEqual(
    [
      'kds-root-key@lab.local',
      ...DCS.flatMap((dc) => [`gmsa-on-dc@${dc}`, `principals-on-dc@${dc}`]),
      ...HOSTS.flatMap((host) => [`endpoint@${host}`, `identity@${host}`]),
    ].sort(),
  );
  const identity = report.checks.find((c) => c.check === 'identity');
  expect(identity?.observed).toBe('LAB\\vf-sched$');

  const attrs = (await handle.describe()).typedSearchAttributes;
  expect(attrs.get(DriftStatus)).toBe('ok');
  expect(attrs.get(GmsaName)).toBe('vf-sched');
  expect(attrs.get(LastVerifiedAt)).toBeInstanceOf(Date);
});

test('an endpoint that runs as a virtual account is identity drift on that host', async () => {
  const { target } = await provision('vf-va');
  await h.lab.admin.addFault({ kind: 'virtual-account', host: 'server1.lab.local' });

  const { report, handle } = await verify(target);

  expect(report.status).toBe('drift');
  expect(problems(report)).toEqual(['identity@server1.lab.local=drift']);
  expect(report.checks.find((c) => c.status === 'drift')?.observed).toMatch(/^WinRM Virtual Users\\/);
  expect((await handle.describe()).typedSearchAttributes.get(DriftStatus)).toBe('drift');
});

test('a host removed from the principals is principals drift on every DC (and that host can no longer log on)', async () => {
  const { result, target } = await provision('vf-pr');
  const dc = result.plan.pinnedDc;
  const sa = await pinnedAccount('vf-pr', dc);
  await h.lab.backend.directory.setServiceAccountPrincipals(dc, sa.objectGuid, ['SERVER2$']);
  await h.lab.admin.replicateNow();

  const { report } = await verify(target);

  // The identity drift on server1 is the same cause seen from the host: it cannot retrieve the password.
  expect(problems(report)).toEqual(
    [...DCS.map((d) => `principals-on-dc@${d}=drift`), 'identity@server1.lab.local=drift'].sort(),
  );
  const principals = report.checks.find((c) => c.check === 'principals-on-dc');
  expect(principals?.observed).toContain('missing SERVER1$');
});

test('a deleted gMSA is gmsa-on-dc drift on every DC (and no host can log on)', async () => {
  const { result, target } = await provision('vf-del');
  const dc = result.plan.pinnedDc;
  await h.lab.backend.directory.removeServiceAccount(dc, (await pinnedAccount('vf-del', dc)).objectGuid);
  await h.lab.admin.replicateNow();

  const { report } = await verify(target);

  expect(problems(report)).toEqual(
    [...DCS.map((d) => `gmsa-on-dc@${d}=drift`), ...HOSTS.map((host) => `identity@${host}=drift`)].sort(),
  );
  // The endpoints are still registered with the (now missing) gMSA: the endpoint itself did not drift.
  expect(report.checks.filter((c) => c.check === 'endpoint').every((c) => c.status === 'ok')).toBe(true);
});

test('a DC that never got the object is gmsa-on-dc drift on that DC only', async () => {
  // Blocked before provisioning, which with host-sites scope waits only for the HQ DCs, so dc4 (Branch) lacks it.
  await h.lab.admin.addFault({ kind: 'replication-blocked', dc: 'dc4.lab.local' });
  const { target } = await provision('vf-dc', {
    replication: { pollIntervalSeconds: 0.2, timeoutSeconds: 30, scope: 'host-sites' },
  });

  // As provisioned (host-sites), dc4 is out of scope and the target is clean.
  expect((await verify(target)).report.status).toBe('ok');
  // Asked about every DC, the one without the object is exactly the drift.
  const { report } = await verify({ ...target, replicationScope: 'all' });
  expect(problems(report)).toEqual(['gmsa-on-dc@dc4.lab.local=drift']);
});

test('an unreachable host or DC is reported unreachable, not drift', async () => {
  const { target } = await provision('vf-down');
  await h.lab.admin.addFault({ kind: 'host-unreachable', host: 'server2.lab.local' });
  await h.lab.admin.addFault({ kind: 'dc-down', dc: 'dc3.lab.local' });

  const { report, handle } = await verify(target);

  expect(report.status).toBe('unreachable');
  expect(problems(report)).toEqual(
    [
      'endpoint@server2.lab.local=unreachable',
      'identity@server2.lab.local=unreachable',
      'gmsa-on-dc@dc3.lab.local=unreachable',
      'principals-on-dc@dc3.lab.local=unreachable',
    ].sort(),
  );
  expect((await handle.describe()).typedSearchAttributes.get(DriftStatus)).toBe('unreachable');
});

describe('opted-in remediation', () => {
  const remediating = (target: VerifyTarget): VerifyTarget => ({ ...target, remediate: true });

  test('principals removed: restored on the pinned DC, verified again, and the next verification is clean', async () => {
    const { result, target } = await provision('vf-rem-pr');
    const dc = result.plan.pinnedDc;
    const sa = await pinnedAccount('vf-rem-pr', dc);
    await h.lab.backend.directory.setServiceAccountPrincipals(dc, sa.objectGuid, ['SERVER2$']);
    await h.lab.admin.replicateNow();

    const { report, handle } = await verify(remediating(target));

    expect(report.status).toBe('drift');
    expect(report.remediation?.actions).toEqual([`restored principals SERVER1$, SERVER2$ on ${dc}`]);
    expect(report.remediation?.after.status).toBe('ok');
    expect((await handle.describe()).typedSearchAttributes.get(DriftStatus)).toBe('ok');
    expect((await pinnedAccount('vf-rem-pr', dc)).principals.sort()).toEqual(['SERVER1$', 'SERVER2$']);
    expect((await verify(target)).report.status).toBe('ok');
  });

  test('gMSA deleted: recreated with the run’s own mark, so decommissioning still owns it', async () => {
    const { result, target } = await provision('vf-rem-del');
    const dc = result.plan.pinnedDc;
    await h.lab.backend.directory.removeServiceAccount(dc, (await pinnedAccount('vf-rem-del', dc)).objectGuid);
    await h.lab.admin.replicateNow();

    const { report } = await verify(remediating(target));

    expect(report.remediation?.actions[0]).toMatch(/^recreated gMSA vf-rem-del on /);
    expect(report.remediation?.after.status).toBe('ok');
    expect((await pinnedAccount('vf-rem-del', dc)).description).toContain(target.mark);
  });

  test('an endpoint unregistered by someone: registered again on that host', async () => {
    const { target } = await provision('vf-rem-ep');
    const host = 'server2.lab.local';
    await h.lab.backend.hosts.startUnregistration(host, target.endpointName);
    for (let i = 0; ; i++) {
      const cfg = await h.lab.backend.hosts
        .getSessionConfiguration(host, target.endpointName)
        .catch(() => 'restarting');
      if (cfg === null) break;
      if (i > 200) throw new Error('the endpoint never went away');
      await new Promise((r) => setTimeout(r, 25));
    }

    const { report } = await verify(remediating(target));

    expect(problems(report)).toContain(`endpoint@${host}=drift`);
    expect(report.remediation?.actions).toEqual([`registered ${target.endpointName} on ${host}`]);
    expect(report.remediation?.after.status).toBe('ok');
  });

  test('a virtual-account endpoint is not something remediation can fix: listed for a human, still drift', async () => {
    const { target } = await provision('vf-rem-va');
    await h.lab.admin.addFault({ kind: 'virtual-account', host: 'server1.lab.local' });

    const { report } = await verify(remediating(target));

    expect(report.remediation?.actions).toEqual([]);
    expect(report.remediation?.notRemediable).toEqual([
      expect.stringMatching(/^server1\.lab\.local: .*WinRM Virtual Users/),
    ]);
    expect(report.remediation?.after.status).toBe('drift');
  });
});
