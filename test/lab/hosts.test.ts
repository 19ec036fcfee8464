/** Host semantics of the lab model: registration jobs, WinRM restarts, identity, faults (hand-driven clock). */
import { FailureType } from '../../runbook/failures';
import { IDENTITY_PROBE_FUNCTION } from '../../runbook/session-configuration';
import { LabHangError } from '../../backends/lab/model';
import { caught, clockedLab, gmsaSpec, pssc } from './helpers';

const HOUR = 60 * 60 * 1000;
const S1 = 'server1.lab.local';

describe('lab hosts: registration', () => {
  it('runs a detached job, then WinRM restarts (calls fail with WinRmTransport), then the endpoint shows the gMSA with $', () => {
    const { lab, advance } = clockedLab();
    lab.startRegistration(S1, pssc());
    expect(lab.getSessionConfiguration(S1, 'JEA-Remote')).toBeNull();
    advance(1_999);
    expect(lab.getSessionConfiguration(S1, 'JEA-Remote')).toBeNull();
    advance(1);
    const during = caught(() => lab.getSessionConfiguration(S1, 'JEA-Remote'));
    expect(during.type).toBe(FailureType.WinRmTransport);
    expect(during.message).toMatch(/connection was dropped while WinRM restarted/);
    expect(caught(() => lab.probeHost(S1)).type).toBe(FailureType.WinRmTransport);
    advance(7_999);
    expect(caught(() => lab.probeHost(S1)).type).toBe(FailureType.WinRmTransport);
    // Other hosts are unaffected.
    expect(lab.probeHost('server2.lab.local').winrmRunning).toBe(true);
    advance(1);
    expect(lab.getSessionConfiguration(S1, 'jea-remote')).toEqual({
      name: 'JEA-Remote',
      groupManagedServiceAccount: 'LAB\\svc-remote$',
      runAsVirtualAccount: false,
      sessionType: 'RestrictedRemoteServer',
      description: 'Managed by gmsa-runbooks [gmsa-runbooks:test]',
      roleDefinitions: { 'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRunbookOps'] } },
      transcriptDirectory: 'C:\\Transcripts\\',
      visibleFunctions: [IDENTITY_PROBE_FUNCTION],
    });
    expect(lab.events().map((e) => e.op)).toEqual(['startRegistration', 'registrationCompleted']);
  });

  it('serializes jobs per host: RegistrationInProgress while one runs', () => {
    const { lab, advance } = clockedLab();
    lab.startRegistration(S1, pssc());
    const err = caught(() => lab.startRegistration(S1, pssc('svc-other', 'Other')));
    expect(err.type).toBe(FailureType.RegistrationInProgress);
    expect(err.retryable).toBe(true);
    lab.startRegistration('server2.lab.local', pssc());
    advance(10_000);
    lab.startUnregistration(S1, 'JEA-Remote');
    expect(caught(() => lab.startUnregistration(S1, 'JEA-Remote')).type).toBe(FailureType.RegistrationInProgress);
    advance(2_000);
    expect(caught(() => lab.getSessionConfiguration(S1, 'JEA-Remote')).type).toBe(FailureType.WinRmTransport);
    advance(8_000);
    expect(lab.getSessionConfiguration(S1, 'JEA-Remote')).toBeNull();
    expect(caught(() => lab.startUnregistration(S1, 'JEA-Remote')).type).toBe(FailureType.ObjectNotFound);
  });

  it('DisableRunAs policy refuses the registration; probeHost reports it', () => {
    const { lab } = clockedLab();
    lab.addFault({ kind: 'disable-runas', host: 'server3' });
    expect(lab.probeHost('server3.lab.local')).toEqual({
      hostName: 'server3.lab.local',
      domainJoined: true,
      domain: 'lab.local',
      site: 'Branch',
      winrmRunning: true,
      disableRunAs: true,
      psVersion: '5.1',
    });
    const err = caught(() => lab.startRegistration('server3.lab.local', pssc()));
    expect(err.type).toBe(FailureType.RunAsDisabledByPolicy);
    expect(err.message).toMatch(/The supplied plugin.*DisableRunAs/);
    expect(caught(() => lab.startRegistration(S1, { ...pssc(), groupManagedServiceAccount: '' })).type).toBe(
      FailureType.RequestInvalid,
    );
  });
});

describe('lab hosts: identity', () => {
  function registered(principals: string[], host = S1) {
    const c = clockedLab();
    c.lab.createServiceAccount('dc1.lab.local', gmsaSpec('svc-remote', principals));
    c.lab.startRegistration(host, pssc());
    c.advance(10_000);
    return c;
  }

  it('runs as the gMSA when the host is a direct principal and its site DC has it', () => {
    const { lab } = registered(['SERVER1$']);
    expect(lab.invokeIdentityProbe(S1, 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe('LAB\\svc-remote$');
    expect(lab.testServiceAccount(S1, 'svc-remote')).toBe(true);
    expect(lab.testServiceAccount(S1, 'nope')).toBe(false);
    expect(lab.testServiceAccount('server2.lab.local', 'svc-remote')).toBe(false);
  });

  it('GmsaNotUsableYet before the host site DC has the gMSA (server3 is in Branch)', () => {
    const { lab, advance } = registered(['SERVER3$'], 'server3.lab.local');
    const err = caught(() => lab.invokeIdentityProbe('server3.lab.local', 'JEA-Remote', IDENTITY_PROBE_FUNCTION));
    expect(err.type).toBe(FailureType.GmsaNotUsableYet);
    expect(err.message).toMatch(/cannot retrieve the managed password/);
    expect(lab.testServiceAccount('server3.lab.local', 'svc-remote')).toBe(false);
    advance(915_000);
    expect(lab.invokeIdentityProbe('server3.lab.local', 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe(
      'LAB\\svc-remote$',
    );
  });

  it('falls back to another DC when the site DCs are down', () => {
    const { lab } = registered(['SERVER3$'], 'server3.lab.local');
    lab.addFault({ kind: 'dc-down', dc: 'dc4.lab.local' });
    expect(lab.invokeIdentityProbe('server3.lab.local', 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe(
      'LAB\\svc-remote$',
    );
  });

  it('group mode needs a Kerberos ticket purge after the membership change', () => {
    const { lab } = registered(['gMSA-Remoting-Hosts']);
    lab.addGroupMember('dc1.lab.local', 'gMSA-Remoting-Hosts', 'SERVER1$');
    lab.replicateNow();
    expect(caught(() => lab.invokeIdentityProbe(S1, 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).type).toBe(
      FailureType.GmsaNotUsableYet,
    );
    expect(lab.testServiceAccount(S1, 'svc-remote')).toBe(false);
    lab.purgeKerberosTickets(S1);
    expect(lab.snapshot().hosts[S1].ticketGroups).toEqual(['gMSA-Remoting-Hosts']);
    expect(lab.invokeIdentityProbe(S1, 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe('LAB\\svc-remote$');
  });

  it('a purge before the site DC has the membership does not help', () => {
    const { lab, advance } = registered(['gMSA-Remoting-Hosts'], 'server3.lab.local');
    lab.addGroupMember('dc1.lab.local', 'gMSA-Remoting-Hosts', 'SERVER3$');
    lab.purgeKerberosTickets('server3.lab.local');
    advance(HOUR);
    expect(lab.testServiceAccount('server3.lab.local', 'svc-remote')).toBe(false);
    lab.purgeKerberosTickets('server3.lab.local');
    expect(lab.testServiceAccount('server3.lab.local', 'svc-remote')).toBe(true);
  });

  it('virtual-account fault: the session runs as a WinRM virtual account', () => {
    const { lab } = registered(['SERVER1$']);
    lab.addFault({ kind: 'virtual-account', host: S1, remaining: 1 });
    expect(lab.invokeIdentityProbe(S1, 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe(
      'WinRM Virtual Users\\WinRM VA_1_LAB_Administrator',
    );
    expect(lab.invokeIdentityProbe(S1, 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe('LAB\\svc-remote$');
  });

  it('missing endpoint → ObjectNotFound; probe not exposed → IdentityProbeMissing; no usable KDS key → not usable', () => {
    const { lab } = registered(['SERVER1$']);
    expect(caught(() => lab.invokeIdentityProbe(S1, 'Nope', IDENTITY_PROBE_FUNCTION)).type).toBe(
      FailureType.ObjectNotFound,
    );
    const missing = caught(() => lab.invokeIdentityProbe(S1, 'JEA-Remote', 'whoami'));
    expect(missing.type).toBe(FailureType.IdentityProbeMissing);
    expect(missing.message).toMatch(/The term 'whoami' is not recognized/);
    lab.clearKdsRootKeys();
    expect(caught(() => lab.invokeIdentityProbe(S1, 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).type).toBe(
      FailureType.GmsaNotUsableYet,
    );
  });
});

describe('lab faults', () => {
  it("fail-operation 'after' does the work, then fails; `times` limits it", () => {
    const { lab } = clockedLab();
    lab.addFault({
      kind: 'fail-operation',
      operation: 'createServiceAccount',
      failureType: 'TransientFault',
      when: 'after',
      times: 1,
    });
    const err = caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec()));
    expect(err.type).toBe(FailureType.TransientFault);
    expect(lab.getServiceAccount('dc1.lab.local', 'svc-remote')).not.toBeNull();
    expect(lab.listFaults()).toEqual([]);
    expect(lab.events().filter((e) => e.op === 'createServiceAccount')).toHaveLength(1);
    // The retry now meets the object it created.
    expect(caught(() => lab.createServiceAccount('dc1.lab.local', gmsaSpec())).type).toBe(FailureType.GmsaNameConflict);
  });

  it("fail-operation 'before' fails `times` times without doing the work, only for its target", () => {
    const { lab } = clockedLab();
    const id = lab.addFault({
      kind: 'fail-operation',
      operation: 'getServiceAccount',
      failureType: 'ServerDown',
      times: 2,
      target: 'dc2.lab.local',
      message: 'boom',
    });
    expect(lab.getServiceAccount('dc1.lab.local', 'x')).toBeNull();
    expect(caught(() => lab.getServiceAccount('dc2', 'x')).message).toBe('boom');
    expect(lab.listFaults()).toEqual([expect.objectContaining({ id, remaining: 1 })]);
    expect(caught(() => lab.getServiceAccount('dc2.lab.local', 'x')).type).toBe(FailureType.ServerDown);
    expect(lab.getServiceAccount('dc2.lab.local', 'x')).toBeNull();
  });

  it('fail-operation without times fails forever; host faults; expiry after durationMs', () => {
    const c = clockedLab();
    const { lab } = c;
    lab.addFault({ kind: 'fail-operation', operation: 'startRegistration', failureType: 'AccessDenied' });
    for (let i = 0; i < 3; i++)
      expect(caught(() => lab.startRegistration(S1, pssc())).type).toBe(FailureType.AccessDenied);
    lab.clearFaults();

    lab.addFault({ kind: 'host-unreachable', host: S1, durationMs: 5_000 });
    expect(caught(() => lab.probeHost(S1)).type).toBe(FailureType.HostUnreachable);
    c.advance(5_000);
    expect(lab.probeHost(S1).hostName).toBe(S1);

    lab.addFault({ kind: 'winrm-hang', host: S1, hangMs: 250, remaining: 1 });
    const hang = caught(() => lab.probeHost(S1));
    expect(hang).toBeInstanceOf(LabHangError);
    expect(hang.type).toBe(FailureType.WinRmTransport);
    expect(hang.message).toMatch(/StopPending/);
    expect((hang as LabHangError).hangMs).toBe(250);
    expect(lab.probeHost(S1).winrmRunning).toBe(true);
    expect(caught(() => lab.probeHost('server9.lab.local')).type).toBe(FailureType.HostUnreachable);
  });

  it('rejects malformed fault specs', () => {
    const { lab } = clockedLab();
    expect(() => lab.addFault({ kind: 'winrm-hang', host: S1 } as never)).toThrow(/hangMs/);
    expect(() =>
      lab.addFault({ kind: 'fail-operation', operation: 'x', failureType: 'NotAType' as never, when: 'before' }),
    ).toThrow(/failureType/);
  });
});
