/**
 * Jest global teardown: stop what global-setup started. For an external server (TEMPORAL_ADDRESS was set before
 * the run) stop() is a no-op: it is not ours to stop.
 */
export default async function globalTeardown(): Promise<void> {
  const handle = globalThis.__gmsaTemporal;
  globalThis.__gmsaTemporal = undefined;
  if (!handle) return;
  await handle.server.stop();
  restore('TEMPORAL_ADDRESS', handle.previousEnv.address);
  restore('TEMPORAL_NAMESPACE', handle.previousEnv.namespace);
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
