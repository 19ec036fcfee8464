/**
 * The worker's side of temporal/connection-config.ts: a `NativeConnection` (the Rust core's) from the same settings.
 * Its own module so that clients (CLI, webhook server) do not load the worker's native bridge.
 */
import { NativeConnection } from '@temporalio/worker';
import { connectError, nativeConnectionOptions, type TemporalConnectionConfig } from './connection-config';

/** A connected worker `NativeConnection`, or a TemporalConnectError that names the target and a likely cause. */
export async function connectNativeConnection(config: TemporalConnectionConfig): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(nativeConnectionOptions(config));
  } catch (err) {
    throw await connectError(config, err);
  }
}
