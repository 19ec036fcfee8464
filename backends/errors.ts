import { FailureType, isRetryableFailure } from '../runbook/failures';

/**
 * What every backend throws: a failure type from the runbook's vocabulary and a message for humans.
 * Activities turn it into an ApplicationFailure of the same type (retryable or not by the type).
 */
export class BackendError extends Error {
  constructor(
    readonly type: FailureType,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'BackendError';
  }

  get retryable(): boolean {
    return isRetryableFailure(this.type);
  }
}

export function isBackendError(err: unknown): err is BackendError {
  return err instanceof BackendError;
}
