/**
 * The provisioning runbook on a real Temporal server against the lab domain: the happy path, and every way it
 * fails leaving the lab as it was before the run.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { outcomeOf } from '../../client/watch';
import { progressQuery } from '../../workflows/definitions';
import type { RunbookRequestInput } from '../../runbook/request';
import type { ProvisionResult } from '../../runbook/progress';
import { GmsaName, RunbookState, RunbookStep, TicketKey } from '../../runbook/search-attributes';
import { sampleRequest, useRunbookHarness } from '../support/runbook-env';

const h = useRunbookHarness('provision');
const start = (request: RunbookRequestInput) => h.start(request);

beforeEach(async () => {
  await h.lab.admin.reset();
});

async function failureOf(request: RunbookRequestInput): Promise<ApplicationFailure> {
  const handle = await start(request);
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** Every identity probe fails with a non-retryable AccessDenied: the last step fails, after all the others. */
function failVerificationForGood() {
  return h.lab.admin.addFault({
    kind: 'fail-operation',
    operation: 'invokeIdentityProbe',
    failureType: 'AccessDenied',
    when: 'before',
  });
}

/** What the lab looks like to a user once every pending replication has arrived. */
async function settledState() {
  await h.lab.admin.replicateNow();
  return h.lab.admin.comparableState();
}

async function waitForStep(handle: Awaited<ReturnType<typeof start>>, step: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const p = await handle.query(progressQuery);
      if (p.currentStep === step) return;
    } catch {
      // not picked up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run never reached ${step}`);
}

test('happy path: two hosts end with an endpoint that runs as LAB\\TestgMSA$', async () => {
  const handle = await start(sampleRequest());
  const result: ProvisionResult = await handle.result();

  expect(result.status).toBe('succeeded');
  expect(result.identities).toEqual({
    'server1.lab.local': 'LAB\\TestgMSA$',
    'server2.lab.local': 'LAB\\TestgMSA$',
  });
  expect(result.plan.gmsa.action).toBe('create');

  // Every DC has it with both hosts as principals; both hosts have the endpoint, running as the gMSA.
  for (const dc of ['dc1.lab.local', 'dc2.lab.local', 'dc3.lab.local', 'dc4.lab.local']) {
    const sa = await h.lab.backend.directory.getServiceAccount(dc, 'TestgMSA');
    expect(sa?.principals.sort()).toEqual(['SERVER1$', 'SERVER2$']);
    expect(sa?.kerberosEncryptionTypes).toEqual(['AES128', 'AES256']);
    expect(sa?.dnsHostName).toBe('testgmsa.lab.local');
  }
  for (const host of ['server1.lab.local', 'server2.lab.local']) {
    const cfg = await h.lab.backend.hosts.getSessionConfiguration(host, 'GmsaRemoting');
    expect(cfg?.groupManagedServiceAccount).toBe('LAB\\TestgMSA$');
    expect(cfg?.runAsVirtualAccount).toBe(false);
    expect(cfg?.sessionType).toBe('RestrictedRemoteServer');
  }

  const progress = await handle.query(progressQuery);
  expect(progress.state).toBe('succeeded');
  expect(progress.hosts['server2.lab.local']['verify-identity']).toMatchObject({
    status: 'done',
    detail: 'LAB\\TestgMSA$',
  });
  // The daily proof is scheduled, with the target and what this run owns as its argument.
  expect(result.verifySchedule).toEqual({ scheduleId: 'gmsa-verify-TestgMSA', ok: true });
  const schedule = await h.env.client.schedule.getHandle('gmsa-verify-TestgMSA').describe();
  expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'verifyGmsaRemoting' });
  expect(result.target?.owned).toEqual({
    gmsa: true,
    principalsAdded: [],
    groupMembersAdded: [],
    endpointHosts: ['server1.lab.local', 'server2.lab.local'],
  });

  // Findable in the UI by ticket and gMSA, with the final step and state.
  const attributes = (await handle.describe()).typedSearchAttributes;
  expect(attributes.get(TicketKey)).toBe(progress.ticketKey);
  expect(attributes.get(GmsaName)).toBe('TestgMSA');
  expect(attributes.get(RunbookStep)).toBe('done');
  expect(attributes.get(RunbookState)).toBe('succeeded');
});

test('dry run returns the plan and changes nothing', async () => {
  const before = await settledState();
  const result: ProvisionResult = await (await start(sampleRequest({ dryRun: true }))).result();
  expect(result.status).toBe('planned');
  expect(result.plan.hosts.map((h) => h.computerSam)).toEqual(['SERVER1$', 'SERVER2$']);
  expect(result.plan.replicationTargets.map((d) => d.hostName).sort()).toEqual([
    'dc1.lab.local',
    'dc2.lab.local',
    'dc3.lab.local',
    'dc4.lab.local',
  ]);
  expect(await settledState()).toEqual(before);
});

test('group mode: hosts join the group and need a ticket purge before the gMSA works', async () => {
  const result: ProvisionResult = await (
    await start(sampleRequest({ principals: { mode: 'group', group: 'gMSA-Remoting-Hosts' } }))
  ).result();
  expect(result.identities['server1.lab.local']).toBe('LAB\\TestgMSA$');
  expect(await h.lab.backend.directory.getGroupMembers('dc1.lab.local', 'gMSA-Remoting-Hosts')).toEqual(
    expect.arrayContaining(['SERVER1$', 'SERVER2$']),
  );
  const events = await h.lab.admin.events();
  expect(events.filter((e) => e.op === 'purgeKerberosTickets').length).toBeGreaterThanOrEqual(2);
});

// A permanent failure at each step in turn: the lab ends exactly as it was before the run.
test.each([
  ['create-gmsa (after the object was written)', { operation: 'createServiceAccount', when: 'after' as const }],
  ['install', { operation: 'testServiceAccount', when: 'before' as const, target: 'server2.lab.local' }],
  [
    'register-endpoint (after the job started)',
    { operation: 'startRegistration', when: 'after' as const, target: 'server2.lab.local' },
  ],
  ['verify-identity', { operation: 'invokeIdentityProbe', when: 'before' as const, target: 'server2.lab.local' }],
])('failure at %s rolls back to the state before the run', async (_step, fault) => {
  const before = await settledState();
  await h.lab.admin.addFault({ kind: 'fail-operation', failureType: 'AccessDenied', ...fault });

  const failure = await failureOf(sampleRequest());

  expect(failure.type).toBe('AccessDenied');
  expect(failure.message).toMatch(/Rolled back/);
  await h.lab.admin.clearFaults();
  expect(await settledState()).toEqual(before);
});

test('a pre-existing gMSA in the wanted state is adopted and survives rollback', async () => {
  await h.lab.admin.seedServiceAccount({
    name: 'TestgMSA',
    principals: ['SERVER1$', 'SERVER2$'],
    description: 'made by hand',
  });
  const before = await settledState();
  await failVerificationForGood();

  const failure = await failureOf(sampleRequest());

  expect(failure.type).toBe('AccessDenied');
  await h.lab.admin.clearFaults();
  expect(await settledState()).toEqual(before);
  const events = await h.lab.admin.events();
  expect(events.filter((e) => e.op === 'createServiceAccount' || e.op === 'removeServiceAccount')).toEqual([]);
});

test('an adopted gMSA gets only the missing principals, and rollback removes only those', async () => {
  await h.lab.admin.seedServiceAccount({ name: 'TestgMSA', principals: ['SERVER4$'] });
  const before = await settledState();
  await failVerificationForGood();

  await failureOf(sampleRequest());

  await h.lab.admin.clearFaults();
  expect(await settledState()).toEqual(before);
  const sa = await h.lab.backend.directory.getServiceAccount('dc1.lab.local', 'TestgMSA');
  expect(sa?.principals).toEqual(['SERVER4$']);
});

test('cancel during the replication wait rolls back and ends Canceled', async () => {
  const before = await settledState();
  await h.lab.admin.addFault({ kind: 'replication-blocked', dc: 'dc4.lab.local' });
  const handle = await start(sampleRequest());
  await waitForStep(handle, 'wait-replication');

  await handle.cancel();
  const err = await handle.result().catch((e: unknown) => e);

  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const progress = await handle.query(progressQuery);
  expect(progress.state).toBe('cancelled');
  expect(progress.compensations.map((c) => c.status)).toEqual(['done']);
  await h.lab.admin.clearFaults();
  expect(await settledState()).toEqual(before);
});

test('a DC that never receives the object ends in ReplicationTimeout and rollback', async () => {
  const before = await settledState();
  await h.lab.admin.addFault({ kind: 'replication-blocked', dc: 'dc3.lab.local' });

  const failure = await failureOf(sampleRequest({ replication: { pollIntervalSeconds: 0.2, timeoutSeconds: 2 } }));

  expect(failure.type).toBe('ReplicationTimeout');
  expect(failure.message).toContain('dc3.lab.local');
  await h.lab.admin.clearFaults();
  expect(await settledState()).toEqual(before);
});

test('an endpoint that runs as a virtual account fails verification for good and rolls back', async () => {
  const before = await settledState();
  await h.lab.admin.addFault({ kind: 'virtual-account', host: 'server1.lab.local' });

  const failure = await failureOf(sampleRequest());

  expect(failure.type).toBe('VirtualAccountIdentity');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain('WinRM Virtual Users\\');
  const probes = (await h.lab.admin.events()).filter(
    (e) => e.op === 'invokeIdentityProbe' && e.target === 'server1.lab.local',
  );
  expect(probes.length).toBeLessThanOrEqual(1); // not retried
  await h.lab.admin.clearFaults();
  expect(await settledState()).toEqual(before);
});

test('a KDS root key not yet effective for 10 h fails preflight with nothing created', async () => {
  await h.lab.admin.clearKdsRootKeys();
  await h.lab.admin.setKdsRootKey(new Date(Date.now() - 2 * 3600_000).toISOString());
  const before = await settledState();
  const eventsBefore = (await h.lab.admin.events()).length;

  const failure = await failureOf(sampleRequest());

  expect(failure.type).toBe('KdsRootKeyMissing');
  expect(failure.message).toMatch(/10 h/);
  expect((await h.lab.admin.events()).slice(eventsBefore)).toEqual([]);
  expect(await settledState()).toEqual(before);
});

test('preflight reports every problem at once: name taken, unknown host, DisableRunAs', async () => {
  await h.lab.admin.seedUser({ name: 'TestgMSA' });
  await h.lab.admin.addFault({ kind: 'disable-runas', host: 'server2.lab.local' });
  const failure = await failureOf(sampleRequest({ hosts: ['server1.lab.local', 'server2.lab.local'] }));
  expect(failure.message).toContain('GmsaNameConflict');
  expect(failure.message).toContain('RunAsDisabledByPolicy');
});

test('a transient failure is retried and the run still succeeds', async () => {
  await h.lab.admin.addFault({
    kind: 'fail-operation',
    operation: 'createServiceAccount',
    failureType: 'ServerDown',
    when: 'after',
    times: 2,
  });
  const outcome = await outcomeOf(await start(sampleRequest()));
  expect(outcome.ok).toBe(true);
  const creates = (await h.lab.admin.events()).filter((e) => e.op === 'createServiceAccount');
  expect(creates).toHaveLength(1); // the object written before the lost replies is found, not created again
});
