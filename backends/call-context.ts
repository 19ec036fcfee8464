/**
 * An ambient context for one backend call: cancellation and liveness, without backends knowing about Temporal.
 *
 * Backends are plain classes behind ports (backends/ports.ts) and are also used outside activities (CLI, tests),
 * so they cannot import `@temporalio/activity`. The activity layer wraps each call in `runWithCallContext` with
 * Temporal's cancellation signal and heartbeat; a backend that runs something long (a PowerShell process) reads
 * them with `currentCallContext()`. AsyncLocalStorage carries the context through every await of that call and
 * never leaks it into concurrent calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallContext {
  /** Aborts when the caller gives up (activity cancelled, worker shutting down): stop the work and throw. */
  signal?: AbortSignal;
  /** Reports liveness so a long call is not declared dead by a heartbeat timeout. */
  heartbeat?: (detail?: unknown) => void;
}

const storage = new AsyncLocalStorage<CallContext>();

/** Frozen so a backend cannot change what later code in the same call sees. */
const EMPTY: CallContext = Object.freeze({});

export function runWithCallContext<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(ctx, fn);
}

/** The context of the call in progress, or an empty one (no cancellation, no heartbeat) outside any call. */
export function currentCallContext(): CallContext {
  return storage.getStore() ?? EMPTY;
}
