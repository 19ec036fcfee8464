/**
 * Heartbeats for activities that are usually quick. Every heartbeat the server receives is a write to the run's
 * mutable state, and the SDK sends an attempt's first heartbeat at once; a directory or host look that is done in
 * milliseconds gains nothing from it: its 30 s heartbeat timeout cannot expire, and a cancel can simply wait for it
 * to finish. An attempt that has been running for QUIET_MS heartbeats on every call, so a long poll (a WinRM
 * restart, a slow DC) is still watched and still learns about a cancel within about a second.
 */
import { activityInfo, heartbeat } from '@temporalio/activity';

export const QUIET_MS = 1_000;

export function heartbeatOnceBusy(details?: unknown): void {
  if (Date.now() - activityInfo().currentAttemptScheduledTimestampMs >= QUIET_MS) heartbeat(details);
}
