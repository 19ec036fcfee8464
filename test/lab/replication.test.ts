/** Directory semantics of the lab model on a hand-driven clock (timeScale 1: real-world latencies). */
import { FailureType } from '../../runbook/failures';
import { LabDomain } from '../../backends/lab/model';
import { caught, clockedLab, gmsaSpec, T0 } from './helpers';

const HOUR = 60 * 60 * 1000;

function seenBy(lab: LabDomain, name = 'svc-remote'): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const dc of ['dc1.lab.local', 'dc2.lab.local', 'dc3.lab.local', 'dc4.lab.local']) {
    out[dc.split('.')[0]] = lab.getServiceAccount(dc, name) !== null;
  }
  return out;
}

describe('lab replication', () => {
  it('delivers intra-site first (15 s, then 3 s per partner by name), then inter-site (15 min + 15 s)', () => {
    const { lab, advance } = clockedLab();
    lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: false, dc3: false, dc4: false });
    advance(14_999);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: false, dc3: false, dc4: false });
    advance(1);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: true, dc3: false, dc4: false });
    advance(3_000);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: true, dc3: true, dc4: false });
    advance(915_000 - 18_000 - 1);
    expect(seenBy(lab).dc4).toBe(false);
    advance(1);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: true, dc3: true, dc4: true });
  });

  it('scales every latency by timeScale', () => {
    const { lab, advance } = clockedLab({ timeScale: 0.01 });
    lab.createServiceAccount('dc2.lab.local', gmsaSpec());
    advance(149);
    expect(seenBy(lab).dc1).toBe(false);
    advance(1);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: true, dc3: false, dc4: false });
    advance(9_150 - 150);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: true, dc3: true, dc4: true });
  });

  it('a DC with inbound replication blocked never receives, not even from replicateNow, until unblocked', () => {
    const { lab, advance } = clockedLab();
    const fault = lab.addFault({ kind: 'replication-blocked', dc: 'dc2.lab.local' });
    lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    advance(2 * HOUR);
    expect(lab.replicateNow()).toBe(0);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: false, dc3: true, dc4: true });
    // It still answers reads: blocked is not down.
    expect(lab.getServiceAccount('dc2', 'svc-remote')).toBeNull();
    lab.removeFault(fault);
    expect(seenBy(lab).dc2).toBe(true);
  });

  it('a down DC refuses calls and gets its pending deliveries once back up', () => {
    const { lab, advance } = clockedLab();
    const fault = lab.addFault({ kind: 'dc-down', dc: 'dc3' });
    lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    advance(HOUR);
    const err = caught(() => lab.getServiceAccount('dc3.lab.local', 'svc-remote'));
    expect(err.type).toBe(FailureType.ServerDown);
    expect(err.message).toMatch(/Unable to contact the server.*dc3/);
    expect(lab.snapshot().deliveries.map((d) => d.to)).toEqual(['dc3.lab.local']);
    lab.removeFault(fault);
    expect(lab.getServiceAccount('dc3.lab.local', 'svc-remote')).not.toBeNull();
    expect(lab.snapshot().deliveries).toEqual([]);
  });

  it('unknown DC → ServerDown; every DC down → listDomainControllers fails', () => {
    const { lab } = clockedLab();
    expect(caught(() => lab.getKdsRootKeys('dc9.lab.local')).type).toBe(FailureType.ServerDown);
    expect(lab.listDomainControllers()).toEqual([
      { hostName: 'dc1.lab.local', site: 'HQ', writable: true },
      { hostName: 'dc2.lab.local', site: 'HQ', writable: true },
      { hostName: 'dc3.lab.local', site: 'HQ', writable: true },
      { hostName: 'dc4.lab.local', site: 'Branch', writable: true },
    ]);
    for (const dc of ['dc1', 'dc2', 'dc3', 'dc4']) lab.addFault({ kind: 'dc-down', dc });
    expect(caught(() => lab.listDomainControllers()).type).toBe(FailureType.ServerDown);
  });

  it('syncObject copies the source state to the destination now; a blocked destination rejects it', () => {
    const { lab } = clockedLab();
    const created = lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    lab.syncObject('dc1.lab.local', 'dc4.lab.local', created.objectGuid);
    expect(seenBy(lab)).toEqual({ dc1: true, dc2: false, dc3: false, dc4: true });

    lab.addFault({ kind: 'replication-blocked', dc: 'dc2.lab.local' });
    const err = caught(() => lab.syncObject('dc1.lab.local', 'dc2.lab.local', created.objectGuid));
    expect(err.type).toBe(FailureType.ServerDown);
    expect(err.message).toMatch(/The destination server is currently rejecting replication requests/);
    expect(caught(() => lab.syncObject('dc1.lab.local', 'dc3.lab.local', 'no-such-guid')).type).toBe(
      FailureType.ObjectNotFound,
    );
  });

  it('an older delivery never overwrites a newer state, and deletions replicate', () => {
    const { lab, advance } = clockedLab();
    const created = lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    // dc4 removes it after getting it via Sync-ADObject; dc1's late create delivery must not resurrect it there.
    lab.syncObject('dc1.lab.local', 'dc4.lab.local', created.objectGuid);
    lab.removeServiceAccount('dc4.lab.local', created.objectGuid);
    advance(HOUR);
    expect(seenBy(lab)).toEqual({ dc1: false, dc2: false, dc3: false, dc4: false });
    expect(caught(() => lab.removeServiceAccount('dc1.lab.local', created.objectGuid)).type).toBe(
      FailureType.ObjectNotFound,
    );
  });

  it('group membership changes replicate as the group object', () => {
    const { lab, advance } = clockedLab();
    lab.addGroupMember('dc1.lab.local', 'gMSA-Remoting-Hosts', 'server1$');
    lab.addGroupMember('dc1.lab.local', 'gMSA-Remoting-Hosts', 'SERVER1$'); // no-op
    expect(lab.getGroupMembers('dc1.lab.local', 'gMSA-Remoting-Hosts')).toEqual(['SERVER1$']);
    expect(lab.getGroupMembers('dc2.lab.local', 'gMSA-Remoting-Hosts')).toEqual([]);
    advance(15_000);
    expect(lab.getGroupMembers('dc2.lab.local', 'gMSA-Remoting-Hosts')).toEqual(['SERVER1$']);
    lab.removeGroupMember('dc1.lab.local', 'gMSA-Remoting-Hosts', 'SERVER2$'); // not a member: no-op
    expect(caught(() => lab.getGroupMembers('dc1.lab.local', 'Nope')).type).toBe(FailureType.ObjectNotFound);
    expect(caught(() => lab.addGroupMember('dc1.lab.local', 'JEA-Operators', 'GHOST$')).type).toBe(
      FailureType.ObjectNotFound,
    );
    expect(lab.events().filter((e) => e.op === 'addGroupMember')).toHaveLength(1);
  });
});

describe('lab directory rules', () => {
  it('KDS rule: a key effective 1 h ago is not usable (0x8009000D), 11 h ago is', () => {
    const { lab } = clockedLab();
    lab.setKdsRootKey(new Date(T0 - 1 * HOUR).toISOString());
    const err = caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec()));
    expect(err.type).toBe(FailureType.KdsRootKeyMissing);
    expect(err.message).toMatch(/Key does not exist.*0x8009000D/);
    lab.clearKdsRootKeys();
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec())).type).toBe(
      FailureType.KdsRootKeyMissing,
    );
    lab.setKdsRootKey(new Date(T0 - 11 * HOUR).toISOString());
    expect(lab.createServiceAccount('dc1.lab.local', gmsaSpec()).samAccountName).toBe('svc-remote$');
  });

  it('the default key was effective 11 h before the lab was created, and it is not time-scaled', () => {
    const { lab } = clockedLab({ timeScale: 0.001 });
    expect(lab.getKdsRootKeys('dc1.lab.local').map((k) => k.effectiveTime)).toEqual([
      new Date(T0 - 11 * HOUR).toISOString(),
    ]);
  });

  it('creates the gMSA with its DN, attributes and canonical principals', () => {
    const { lab } = clockedLab();
    const sa = lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-remote', ['server1$', 'gmsa-remoting-hosts']));
    expect(sa).toEqual({
      objectGuid: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      objectClass: 'msDS-GroupManagedServiceAccount',
      samAccountName: 'svc-remote$',
      distinguishedName: 'CN=svc-remote,CN=Managed Service Accounts,DC=lab,DC=local',
      name: 'svc-remote',
      dnsHostName: 'svc-remote.lab.local',
      description: 'Managed by gmsa-runbooks [gmsa-runbooks:test]',
      principals: ['SERVER1$', 'gMSA-Remoting-Hosts'],
      kerberosEncryptionTypes: ['AES128', 'AES256'],
      managedPasswordIntervalInDays: 30,
    });
    expect(lab.getServiceAccount('dc1.lab.local', 'svc-remote$')).toEqual(sa);
    expect(lab.getComputer('dc1.lab.local', 'SERVER3.lab.local')).toMatchObject({
      samAccountName: 'SERVER3$',
      objectClass: 'computer',
      dnsHostName: 'server3.lab.local',
    });
    expect(lab.getComputer('dc1.lab.local', 'server9.lab.local')).toBeNull();
  });

  it('name conflicts: a user x blocks gMSA x, a gMSA blocks its duplicate, findAccountsNamed sees both forms', () => {
    const { lab } = clockedLab();
    lab.seedUser({ name: 'svc-app' });
    const err = caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-app')));
    expect(err.type).toBe(FailureType.GmsaNameConflict);
    expect(err.message).toMatch(/The specified account already exists/);
    lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-remote'));
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('SVC-REMOTE'))).type).toBe(
      FailureType.GmsaNameConflict,
    );
    // A computer's sAMAccountName counts too.
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('server1'))).type).toBe(
      FailureType.GmsaNameConflict,
    );
    expect(lab.findAccountsNamed('dc1.lab.local', 'svc-app').map((o) => o.samAccountName)).toEqual(['svc-app']);
    expect(lab.findAccountsNamed('dc1.lab.local', 'svc-remote').map((o) => o.objectClass)).toEqual([
      'msDS-GroupManagedServiceAccount',
    ]);
    // Another DC does not see the user until replication: the uniqueness check names its DC.
    expect(lab.findAccountsNamed('dc2.lab.local', 'svc-app')).toEqual([]);
  });

  it('rejects names that are too long or malformed', () => {
    const { lab } = clockedLab();
    expect(lab.createServiceAccount('dc1.lab.local', gmsaSpec('a234567890abcd')).samAccountName).toHaveLength(15);
    const long = caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('a234567890abcde')));
    expect(long.type).toBe(FailureType.RequestInvalid);
    expect(long.message).toMatch(/must not be longer than 15 characters/);
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('bad/name'))).type).toBe(
      FailureType.RequestInvalid,
    );
  });

  it('principals must resolve to a computer or group on that DC', () => {
    const { lab } = clockedLab();
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-a', ['GHOST$']))).type).toBe(
      FailureType.ObjectNotFound,
    );
    // Computers need their `$`; users are not principals here.
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-a', ['SERVER1']))).type).toBe(
      FailureType.ObjectNotFound,
    );
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-a', ['Administrator']))).type).toBe(
      FailureType.ObjectNotFound,
    );
    const sa = lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-a', ['SERVER1$']));
    expect(caught(() => lab.setServiceAccountPrincipals('dc1.lab.local', sa.objectGuid, ['NOPE$'])).type).toBe(
      FailureType.ObjectNotFound,
    );
    const updated = lab.setServiceAccountPrincipals('dc1.lab.local', sa.objectGuid, ['SERVER2$', 'SERVER3$']);
    expect(updated.principals).toEqual(['SERVER2$', 'SERVER3$']);
  });

  it('comparableState of a lab after create + remove + replicateNow equals a fresh lab', () => {
    const a = clockedLab();
    const b = clockedLab();
    const sa = a.lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    a.lab.replicateNow();
    expect(a.lab.comparableState()).not.toEqual(b.lab.comparableState());
    a.lab.removeServiceAccount('dc2.lab.local', sa.objectGuid);
    a.lab.replicateNow();
    expect(a.lab.comparableState()).toEqual(b.lab.comparableState());
    expect(a.lab.events().filter((e) => e.op === 'createServiceAccount')).toHaveLength(1);
  });

  it('reset returns to the topology', () => {
    const { lab } = clockedLab();
    const fresh = lab.comparableState();
    lab.createServiceAccount('dc1.lab.local', gmsaSpec());
    lab.addFault({ kind: 'dc-down', dc: 'dc2' });
    lab.reset();
    expect(lab.comparableState()).toEqual(fresh);
    expect(lab.listFaults()).toEqual([]);
    expect(lab.snapshot().deliveries).toEqual([]);
  });
});
