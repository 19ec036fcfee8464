/**
 * LDAP result codes in the runbook's failure vocabulary. Transport trouble (a DC that does not answer) is
 * ServerDown and retried; what the directory refused is not.
 */
import {
  AlreadyExistsError,
  ConstraintViolationError,
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchObjectError,
  ResultCodeError,
  UnwillingToPerformError,
} from 'ldapts';
import { BackendError } from '../errors';
import { FailureType } from '../../runbook/failures';

export function toBackendError(err: unknown, dc: string, what: string): BackendError {
  if (err instanceof BackendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const at = `${what} on ${dc}: ${message}`;
  if (err instanceof NoSuchObjectError) return new BackendError(FailureType.ObjectNotFound, at);
  if (err instanceof InsufficientAccessError || err instanceof InvalidCredentialsError) {
    return new BackendError(FailureType.AccessDenied, at);
  }
  if (err instanceof AlreadyExistsError) return new BackendError(FailureType.GmsaNameConflict, at);
  if (err instanceof ConstraintViolationError || err instanceof UnwillingToPerformError) {
    // Samba reports a duplicate sAMAccountName as a constraint violation; other refusals are configuration problems.
    return /sAMAccountName|already|in use|unique/i.test(message)
      ? new BackendError(FailureType.GmsaNameConflict, at)
      : new BackendError(FailureType.RequestInvalid, at);
  }
  if (err instanceof ResultCodeError) return new BackendError(FailureType.RequestInvalid, at, { code: err.code });
  // Socket errors, TLS errors, timeouts: the DC did not answer.
  return new BackendError(FailureType.ServerDown, `Unable to contact the server ${dc} (${what}): ${message}`);
}
