/**
 * Decommissioning on a real Temporal server against the lab: it undoes a successful provisioning exactly (the
 * lab ends as it was before provisioning), removes the schedule, is a no-op the second time, and never removes
 * what provisioning adopted.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { startDecommission } from '../../client/decommission';
import { itemsWith, type DecommissionReport } from '../../runbook/decommission';
import type { ProvisionResult } from '../../runbook/progress';
import type { RunbookRequestInput } from '../../runbook/request';
import type { VerifyTarget } from '../../runbook/verify';
import { sampleRequest, useRunbookHarness } from '../support/runbook-env';

const h = useRunbookHarness('decommission');

beforeEach(async () => {
  await h.lab.admin.reset();
});

/** What the lab looks like to a user once every pending replication has arrived. */
async function settledState() {
  await h.lab.admin.replicateNow();
  return h.lab.admin.comparableState();
}

async function provision(overrides: Partial<RunbookRequestInput>): Promise<VerifyTarget> {
  const result: ProvisionResult = await (await h.start(sampleRequest(overrides))).result();
  expect(result.status).toBe('succeeded');
  if (!result.target) throw new Error('a successful run returns its target');
  return result.target;
}

async function decommission(target: VerifyTarget): Promise<DecommissionReport> {
  return (await startDecommission(h.env.client, target, { taskQueue: h.taskQueue })).result();
}

const outcomes = (report: DecommissionReport) =>
  Object.fromEntries(
    report.items.map((i) => [`${i.kind} ${i.subject}${i.kind === 'endpoint' ? ` ${i.where}` : ''}`, i.outcome]),
  );

test('after a successful provisioning, the lab ends as it was before and the schedule is gone', async () => {
  const before = await settledState();
  const target = await provision({ gmsa: { name: 'DecomA' } });
  expect(await settledState()).not.toEqual(before);

  const report = await decommission(target);

  expect(report.status).toBe('decommissioned');
  expect(outcomes(report)).toEqual({
    'endpoint GmsaRemoting server1.lab.local': 'removed',
    'endpoint GmsaRemoting server2.lab.local': 'removed',
    'gmsa DecomA': 'removed',
    'schedule gmsa-verify-DecomA': 'removed',
  });
  expect(await settledState()).toEqual(before);
  await expect(h.env.client.schedule.getHandle('gmsa-verify-DecomA').describe()).rejects.toBeInstanceOf(
    ScheduleNotFoundError,
  );
});

test('run twice: the second decommission removes nothing and succeeds', async () => {
  const before = await settledState();
  const target = await provision({ gmsa: { name: 'DecomB' } });
  await decommission(target);
  const eventsBefore = (await h.lab.admin.events()).length;

  const again = await decommission(target);

  expect(again.status).toBe('decommissioned');
  expect(itemsWith(again, 'removed')).toEqual([]);
  expect(itemsWith(again, 'absent').length).toBe(again.items.length);
  // Only looks: nothing was written the second time.
  const writes = (await h.lab.admin.events())
    .slice(eventsBefore)
    .filter((e) => /^(remove|start|add|set|create|purge)/.test(e.op));
  expect(writes).toEqual([]);
  expect(await settledState()).toEqual(before);
});

test('a gMSA that provisioning adopted stays; only the principals it added go', async () => {
  await h.lab.admin.seedServiceAccount({ name: 'DecomC', principals: ['SERVER4$'], description: 'made by hand' });
  const before = await settledState();
  const target = await provision({ gmsa: { name: 'DecomC' } });
  expect(target.owned).toMatchObject({ gmsa: false, principalsAdded: ['SERVER1$', 'SERVER2$'] });

  const report = await decommission(target);

  expect(outcomes(report)).toMatchObject({
    'principal SERVER1$': 'removed',
    'principal SERVER2$': 'removed',
    'gmsa DecomC': 'left-alone',
  });
  expect(await settledState()).toEqual(before);
  for (const dc of ['dc1.lab.local', 'dc4.lab.local']) {
    const sa = await h.lab.backend.directory.getServiceAccount(dc, 'DecomC');
    expect(sa?.principals).toEqual(['SERVER4$']);
    expect(sa?.description).toBe('made by hand');
  }
});

test('group mode: the members provisioning added leave the group', async () => {
  const group = 'gMSA-Remoting-Hosts';
  const before = await settledState();
  const target = await provision({ gmsa: { name: 'DecomD' }, principals: { mode: 'group', group } });
  expect(target.owned.groupMembersAdded.sort()).toEqual(['SERVER1$', 'SERVER2$']);

  const report = await decommission(target);

  expect(outcomes(report)).toMatchObject({
    'group-member SERVER1$': 'removed',
    'group-member SERVER2$': 'removed',
    'gmsa DecomD': 'removed',
  });
  const members = await h.lab.backend.directory.getGroupMembers('dc1.lab.local', group);
  expect(members).not.toEqual(expect.arrayContaining(['SERVER1$']));
  expect(members).not.toEqual(expect.arrayContaining(['SERVER2$']));
  expect(await settledState()).toEqual(before);
});
