import { ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import { runWithCallContext } from '../backends/call-context';
import { BackendError } from '../backends/errors';
import { FailureType, isRetryableFailure } from '../runbook/failures';

/** A typed failure raised by activity code itself (not by a backend). */
export function stepFailure(type: FailureType, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !isRetryableFailure(type),
    details: details ? [details] : undefined,
  });
}

/**
 * Every failure leaves an activity with a type: backend errors keep theirs, and whether Temporal retries follows
 * from the type (transport: yes; configuration and validation: no).
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof BackendError) return stepFailure(err.type, err.message, err.details);
  return err;
}

/**
 * Run an activity body so that whatever it throws carries a failure type, and so that the backend underneath
 * sees this attempt's cancellation and can report liveness (a PowerShell call heartbeats while it runs and is
 * killed when the activity is cancelled) without knowing about Temporal.
 */
export async function typed<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await runWithCallContext({ signal: cancellationSignal(), heartbeat: (d) => heartbeat(d) }, body);
  } catch (err) {
    throw toActivityFailure(err);
  }
}

/** The failure type of an error, if it has one. */
export function failureTypeOf(err: unknown): string | undefined {
  if (err instanceof BackendError) return err.type;
  if (err instanceof ApplicationFailure) return err.type ?? undefined;
  return undefined;
}
