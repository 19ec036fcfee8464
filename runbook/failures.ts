/**
 * Every failure a runbook can end with has a type. Backends raise them, activities turn them into
 * ApplicationFailures with the same type, and workflows and clients match on it.
 *
 * Pure TypeScript: imported by workflow code, so no Node APIs here.
 */
export const FailureType = {
  /** The request broke a rule of the contract (runbook/request.ts). */
  RequestInvalid: 'RequestInvalid',
  /** No KDS root key, or none effective for 10 hours yet ("Key does not exist", 0x8009000D). */
  KdsRootKeyMissing: 'KdsRootKeyMissing',
  /** The name is taken in the forest by an object that is not the wanted gMSA. */
  GmsaNameConflict: 'GmsaNameConflict',
  /** A target host has no computer account in the domain. */
  ComputerAccountMissing: 'ComputerAccountMissing',
  /** A target host enforces the DisableRunAs WinRM policy: no RunAs endpoint can be registered. */
  RunAsDisabledByPolicy: 'RunAsDisabledByPolicy',
  /** An endpoint with the wanted name exists on a host and is not the wanted one; we never overwrite it. */
  EndpointConflict: 'EndpointConflict',
  /** The principal lacks a right (creating gMSAs, writing msDS-GroupMSAMembership, admin on a host). */
  AccessDenied: 'AccessDenied',
  /** An object that must exist was not found. */
  ObjectNotFound: 'ObjectNotFound',
  /** A domain controller did not answer (ADServerDownException). Retryable. */
  ServerDown: 'ServerDown',
  /** A host could not be reached over WinRM, or WinRM is restarting. Retryable. */
  HostUnreachable: 'HostUnreachable',
  /** WinRM dropped or refused the call (restart after registration, StopPending hang). Retryable. */
  WinRmTransport: 'WinRmTransport',
  /** The backend itself (lab service, PowerShell process) could not be reached. Retryable. */
  BackendUnavailable: 'BackendUnavailable',
  /** Another registration is running on the host; they are serialized. Retryable. */
  RegistrationInProgress: 'RegistrationInProgress',
  /** The host cannot retrieve the gMSA password yet (replication, stale Kerberos ticket). Retryable. */
  GmsaNotUsableYet: 'GmsaNotUsableYet',
  /** Not every DC had the gMSA with the expected principals before the deadline. */
  ReplicationTimeout: 'ReplicationTimeout',
  /** The endpoint ran as a `WinRM Virtual Users\...` account instead of the gMSA. */
  VirtualAccountIdentity: 'VirtualAccountIdentity',
  /** The endpoint ran as some identity other than the gMSA. */
  IdentityMismatch: 'IdentityMismatch',
  /** The endpoint does not expose the identity probe (a NoLanguage session cannot run arbitrary code). */
  IdentityProbeMissing: 'IdentityProbeMissing',
  /** A transient fault (the lab injects these on demand). Retryable. */
  TransientFault: 'TransientFault',
  /** Rollback could not undo everything: the failure's details list what needs a human. */
  RollbackIncomplete: 'RollbackIncomplete',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures worth retrying: the world may look different in a moment. Everything else fails the step at once. */
export const RETRYABLE_FAILURES: ReadonlySet<FailureType> = new Set<FailureType>([
  FailureType.ServerDown,
  FailureType.HostUnreachable,
  FailureType.WinRmTransport,
  FailureType.BackendUnavailable,
  FailureType.RegistrationInProgress,
  FailureType.GmsaNotUsableYet,
  FailureType.TransientFault,
]);

export function isRetryableFailure(type: string): boolean {
  return RETRYABLE_FAILURES.has(type as FailureType);
}

export function isFailureType(value: unknown): value is FailureType {
  return typeof value === 'string' && Object.values(FailureType).includes(value as FailureType);
}
