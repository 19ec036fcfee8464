/**
 * The saga: every step pushes its undo *before* it runs (a step can do its work and still time out before it
 * reports), and on failure or cancellation the undos run in reverse inside a non-cancellable scope. An undo that
 * still fails after its retries is collected, never swallowed: the caller reports it as needing a human.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope } from '@temporalio/workflow';

export interface Compensation {
  name: string;
  run: () => Promise<unknown>;
}

export interface CompensationOutcome {
  name: string;
  ok: boolean;
  error?: string;
}

export function describeError(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeError(err.cause);
  if (err instanceof Error) return err.message;
  return String(err);
}

export class Saga {
  private readonly undos: Compensation[] = [];

  /** Register an undo; call before the step it undoes. */
  add(name: string, run: () => Promise<unknown>): void {
    this.undos.push({ name, run });
  }

  get size(): number {
    return this.undos.length;
  }

  /**
   * Run every undo, newest first, even when the run was cancelled. `onProgress` sees each undo start and end.
   */
  async compensate(onProgress?: (name: string, status: 'running' | 'done' | 'failed', detail?: string) => void) {
    return CancellationScope.nonCancellable(async () => {
      const outcomes: CompensationOutcome[] = [];
      for (const undo of [...this.undos].reverse()) {
        onProgress?.(undo.name, 'running');
        try {
          await undo.run();
          outcomes.push({ name: undo.name, ok: true });
          onProgress?.(undo.name, 'done');
        } catch (err) {
          const error = describeError(err);
          outcomes.push({ name: undo.name, ok: false, error });
          onProgress?.(undo.name, 'failed', error);
        }
      }
      this.undos.length = 0;
      return outcomes;
    });
  }
}

/** The failure type and message of whatever ended a step, as the run's final failure should carry them. */
export function failureOf(err: unknown): { type: string; message: string } {
  if (err instanceof ActivityFailure && err.cause) return failureOf(err.cause);
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'Error', message: err.message };
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { type: 'Error', message: String(err) };
}
