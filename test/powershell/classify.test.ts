/** Error records, as the scripts report them, land on the runbook's failure types (and so on retry or not). */
import { classifyErrorRecord } from '../../backends/powershell/classify';
import type { ErrorRecord } from '../../backends/powershell/protocol';
import { isRetryableFailure } from '../../runbook/failures';

const record = (r: Partial<ErrorRecord> & Pick<ErrorRecord, 'exceptionType' | 'message'>): ErrorRecord => ({
  fullyQualifiedErrorId: null,
  reason: null,
  category: null,
  hresult: null,
  errorCode: null,
  origin: null,
  ...r,
});

test.each<[string, ErrorRecord, string, boolean]>([
  [
    'a duplicate gMSA',
    record({
      exceptionType: 'Microsoft.ActiveDirectory.Management.ADIdentityAlreadyExistsException',
      message: 'The specified account already exists',
      fullyQualifiedErrorId:
        'ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADIdentityAlreadyExistsException,Microsoft.ActiveDirectory.Management.Commands.NewADServiceAccount',
    }),
    'GmsaNameConflict',
    false,
  ],
  [
    'no usable KDS root key',
    record({
      exceptionType: 'Microsoft.ActiveDirectory.Management.ADException',
      message: 'Key does not exist',
      hresult: -2146893811,
    }),
    'KdsRootKeyMissing',
    false,
  ],
  [
    'a DC that is down',
    record({
      exceptionType: 'Microsoft.ActiveDirectory.Management.ADServerDownException',
      message: 'Unable to contact the server.',
    }),
    'ServerDown',
    true,
  ],
  [
    'an unknown identity',
    record({
      exceptionType: 'Microsoft.ActiveDirectory.Management.ADIdentityNotFoundException',
      message: "Cannot find an object with identity: 'SERVER9$'",
    }),
    'ObjectNotFound',
    false,
  ],
  [
    'access denied on the host, wrapped by remoting',
    record({
      exceptionType: 'System.Management.Automation.RemoteException',
      message: 'Access is denied.',
      reason: 'UnauthorizedAccessException',
      origin: 'server1.lab.local',
    }),
    'AccessDenied',
    false,
  ],
  [
    'a host name that does not resolve',
    record({
      exceptionType: 'System.Management.Automation.Remoting.PSRemotingTransportException',
      message: 'WinRM cannot complete the operation. Verify that the specified computer name is valid',
      fullyQualifiedErrorId: 'CannotConnect,PSSessionOpenFailed',
    }),
    'HostUnreachable',
    true,
  ],
  [
    'a session dropped by a WinRM restart',
    record({
      exceptionType: 'System.Management.Automation.Remoting.PSRemotingTransportException',
      message: 'The I/O operation has been aborted',
      fullyQualifiedErrorId: 'PSSessionStateBroken',
    }),
    'WinRmTransport',
    true,
  ],
  [
    'another endpoint job on the host',
    record({
      exceptionType: 'System.InvalidOperationException',
      message: 'RegistrationInProgress: another endpoint job runs on SERVER1',
    }),
    'RegistrationInProgress',
    true,
  ],
  [
    'a hardened host (DisableRunAs)',
    record({
      exceptionType: 'System.Management.Automation.RemoteException',
      message: 'The supplied plugin is not valid',
    }),
    'RunAsDisabledByPolicy',
    false,
  ],
  [
    'a name over 15 characters',
    record({
      exceptionType: 'System.ArgumentException',
      message: "The service account has a samAccountName attribute of 'abcdefghijklmnop$' which is too long",
    }),
    'RequestInvalid',
    false,
  ],
  [
    'something nobody foresaw',
    record({ exceptionType: 'System.Exception', message: 'gremlins' }),
    'TransientFault',
    true,
  ],
])('%s → %s', (_what, rec, type, retryable) => {
  expect(classifyErrorRecord(rec)).toBe(type);
  expect(isRetryableFailure(type)).toBe(retryable);
});
