/** The embedded lab domain: model, persistence, HTTP server and client. */
export { createLabBackend, LabAdminClient, type LabClientOptions } from './client';
export { LabFaultSpecSchema, type LabFault, type LabFaultKind, type LabFaultSpec } from './faults';
export {
  LabDomain,
  LabHangError,
  type ComparableHost,
  type ComparableObject,
  type ComparableState,
  type LabDomainOptions,
  type SeedServiceAccount,
} from './model';
export { startLabServer, type LabServer, type LabServerOptions } from './server';
export type { LabEvent, LabObject, LabState, LabStateStore } from './state';
export { LabFileStore } from './store';
export {
  computerSamFor,
  DEFAULT_LATENCIES,
  DEFAULT_TIME_SCALE,
  defaultTopology,
  MAX_GENERATED_HOSTS,
  replicationDelays,
  topologyWithHosts,
  type LabLatencies,
  type LabTopology,
} from './topology';
