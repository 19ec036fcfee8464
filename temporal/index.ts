/** Finding, building and running the Temporal CLI's dev server, and preparing any server for the runbooks. */
export {
  cachedTemporalCliPath,
  HOW_TO_GET_TEMPORAL,
  locateTemporalCli,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
  userCacheDir,
  type LocateTemporalCliOptions,
} from './cli-locator';
export {
  DevServerStartError,
  findFreePort,
  isPortFree,
  startDevServer,
  type DevServer,
  type DevServerOptions,
} from './dev-server';
export { ensureSearchAttributes, searchAttributeCliArgs } from './search-attributes';
export { obtainTemporalServer, type ObtainTemporalServerOptions, type TemporalServer } from './server';
