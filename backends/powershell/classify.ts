/**
 * PowerShell error records in the runbook's failure vocabulary. The decision uses the exception type, the
 * FullyQualifiedErrorId and CategoryInfo.Reason (which is what survives when an error crossed a remoting
 * boundary: the remote exception arrives as a RemoteException, with the original type name in Reason), and the
 * HResult where Windows gives nothing better ("Key does not exist" is only recognisable by 0x8009000D).
 */
import { BackendError } from '../errors';
import { FailureType } from '../../runbook/failures';
import type { ErrorRecord } from './protocol';

/** 0x8009000D NTE_NO_KEY: New-ADServiceAccount without a usable KDS root key. */
const HRESULT_KEY_DOES_NOT_EXIST = -2146893811;

interface Rule {
  type: FailureType;
  /** Matched against exception type, Reason and FullyQualifiedErrorId. */
  names?: RegExp;
  message?: RegExp;
  hresult?: number;
}

/** First match wins: specific before general. */
const RULES: Rule[] = [
  { type: FailureType.KdsRootKeyMissing, hresult: HRESULT_KEY_DOES_NOT_EXIST },
  { type: FailureType.KdsRootKeyMissing, message: /Key does not exist/i },
  { type: FailureType.GmsaNameConflict, names: /ADIdentityAlreadyExistsException/ },
  { type: FailureType.GmsaNameConflict, message: /specified account already exists|name that is already in use/i },
  { type: FailureType.RegistrationInProgress, message: /^RegistrationInProgress:/ },
  {
    type: FailureType.ObjectNotFound,
    names: /ADIdentityNotFoundException|ADIdentityResolutionException|ItemNotFoundException/,
  },
  { type: FailureType.ServerDown, names: /ADServerDownException/ },
  { type: FailureType.AccessDenied, names: /UnauthorizedAccessException|ADAccessDeniedException|AccessDenied/ },
  { type: FailureType.AccessDenied, message: /Access is denied|Insufficient access rights/i },
  { type: FailureType.RunAsDisabledByPolicy, message: /DisableRunAs|supplied plugin/i },
  {
    type: FailureType.RequestInvalid,
    names: /ArgumentException|ParameterBindingException|ParameterArgumentValidationError/,
    message: /samAccountName|not a properly formed|cannot be found that matches parameter name|invalid/i,
  },
  // WinRM: name resolution or no listener is "unreachable"; a dropped or refused session is transport (restart).
  {
    type: FailureType.HostUnreachable,
    names: /PSRemotingTransportException|PSSessionOpenFailed|CannotConnect/,
    message:
      /cannot find the computer|verify that the specified computer name is valid|network path was not found|no such host/i,
  },
  {
    type: FailureType.WinRmTransport,
    names:
      /PSRemotingTransportException|PSSessionStateBroken|PSSessionOpenFailed|WinRMOperationTimeout|CannotConnect|PSRemotingDataStructureException/,
  },
];

function matches(rule: Rule, record: ErrorRecord): boolean {
  const names = [record.exceptionType, record.reason ?? '', record.fullyQualifiedErrorId ?? ''].join(' ');
  if (rule.hresult !== undefined && record.hresult !== rule.hresult && record.errorCode !== rule.hresult) return false;
  if (rule.names && !rule.names.test(names)) return false;
  if (rule.message && !rule.message.test(record.message)) return false;
  return rule.hresult !== undefined || rule.names !== undefined || rule.message !== undefined;
}

export function classifyErrorRecord(record: ErrorRecord): FailureType {
  // An error we cannot place is retried a bounded number of times, then the step fails with its message.
  return RULES.find((rule) => matches(rule, record))?.type ?? FailureType.TransientFault;
}

export function toBackendErrorFromRecord(record: ErrorRecord, what: string): BackendError {
  const where = record.origin ? ` (on ${record.origin})` : '';
  return new BackendError(classifyErrorRecord(record), `${what}${where}: ${record.message}`, {
    exceptionType: record.exceptionType,
    fullyQualifiedErrorId: record.fullyQualifiedErrorId,
    reason: record.reason,
  });
}
