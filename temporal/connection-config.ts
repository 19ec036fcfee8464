/**
 * How every process of the project reaches Temporal, the Temporal way: the environment variables and TOML profiles
 * of `@temporalio/envconfig` (the same ones the `temporal` CLI and the other SDKs read), validated, turned into
 * `ConnectionOptions` (client) and `NativeConnectionOptions` (worker).
 *
 * - `TEMPORAL_ADDRESS` (host:port), `TEMPORAL_NAMESPACE`;
 * - `TEMPORAL_API_KEY` (sent as `authorization: Bearer …`; implies TLS);
 * - mTLS: `TEMPORAL_TLS_CLIENT_CERT_PATH` + `TEMPORAL_TLS_CLIENT_KEY_PATH` (or `…_DATA` with the PEM itself),
 *   `TEMPORAL_TLS_SERVER_CA_CERT_PATH` (or `…_DATA`), `TEMPORAL_TLS_SERVER_NAME`; `TEMPORAL_TLS=true|false`;
 * - `TEMPORAL_PROFILE` + `TEMPORAL_CONFIG_FILE`: a profile of a TOML file (default
 *   `~/.config/temporalio/temporal.toml`); environment variables override the profile's values;
 * - `TEMPORAL_GRPC_META_<NAME>`: extra gRPC headers.
 *
 * TLS is on when asked for, when there is TLS material, with an API key, and for Temporal Cloud endpoints
 * (`*.tmprl.cloud`, `*.api.temporal.io`); `TEMPORAL_TLS=false` turns it off except for Cloud. An empty variable
 * counts as unset (docker compose passes `${VAR:-}` through as ""). Every problem is reported at once, naming the
 * variable (or the profile key) and the rule. The API key and key material never appear in an error or a log
 * line: `describeConnection` says only whether they are set.
 */
import { readFileSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** Every variable this module reads by name (plus `TEMPORAL_GRPC_META_*`). The compose test checks against it. */
export const CONNECTION_ENV_VARS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;
export type ConnectionEnvVar = (typeof CONNECTION_ENV_VARS)[number];

/** The variables whose values are secrets: never logged, never in an error, never a literal in docker-compose.yml. */
export const SECRET_CONNECTION_ENV_VARS: readonly ConnectionEnvVar[] = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
];

const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

/** Temporal Cloud endpoints: namespace endpoints (mTLS or API key) and regional API-key endpoints. TLS only. */
export function isTemporalCloudAddress(address: string): boolean {
  const host = hostOf(address).toLowerCase();
  return host.endsWith('.tmprl.cloud') || host.endsWith('.api.temporal.io');
}

export interface TemporalConnectionConfig {
  /** host:port of the frontend. */
  address: string;
  namespace: string;
  /** Sent as `authorization: Bearer <key>`. Secret. */
  apiKey?: string;
  /** false: plaintext. Otherwise the TLS settings (an empty object is TLS with the system's roots). */
  tls: TLSConfig | false;
  /** Extra gRPC headers (`TEMPORAL_GRPC_META_*`, `grpc_meta` in a profile). Values may be secret. */
  metadata?: Record<string, string>;
  /** Where address and namespace came from, for messages: `TEMPORAL_ADDRESS`, `profile "x" in <file>`, `default`. */
  source: { address: string; namespace: string };
  /** The profile that was read, if any. */
  profile: { name: string; file: string } | null;
}

export interface LoadConnectionConfigOptions {
  /**
   * Used when neither the environment nor an explicitly chosen profile names an address / namespace (the CLI passes
   * a running dev stack's). When given, a config file is read only if TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE
   * asks for one: the default-location file does not override a running dev stack.
   */
  fallback?: { address?: string; namespace?: string; source?: string };
}

export interface ConnectionConfigProblem {
  /** The variable, or the profile key (`profile "cloud" in /x.toml: tls.client_key_path`). */
  variable: string;
  rule: string;
}

export class ConnectionConfigError extends Error {
  override name = 'ConnectionConfigError';
  constructor(readonly problems: ConnectionConfigProblem[]) {
    super(
      'invalid Temporal connection configuration:\n' + problems.map((p) => `  - ${p.variable}: ${p.rule}`).join('\n'),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

const HOST_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;
const ADDRESS_RULE = 'must be host:port of the Temporal frontend, like temporal.example.com:7233 (no scheme)';
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const NAMESPACE_RULE = 'must be a namespace name: letters, digits, ".", "_" and "-", starting with a letter or digit';
const BOOL_RULE = 'must be true or false (1 or 0)';
const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

function addressProblem(value: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `${ADDRESS_RULE}; drop the "${value.split('://')[0]}://"`;
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return ADDRESS_RULE;
  const host = value.slice(0, colon);
  const port = value.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `${ADDRESS_RULE}; bad port`;
  if (!HOSTNAME.test(host) && !IPV6_LITERAL.test(host)) return `${ADDRESS_RULE}; bad host`;
  return null;
}

function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return colon > 0 ? address.slice(0, colon) : address;
}

const boolText = z.enum(['true', 'false', '1', '0'], { error: BOOL_RULE }).transform((v) => v === 'true' || v === '1');

/** The variables' own rules (values from a profile file get the same checks after the merge, below). */
const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .superRefine((v, ctx) => {
      const problem = addressProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  TEMPORAL_NAMESPACE: z.string().regex(NAMESPACE, NAMESPACE_RULE).optional(),
  // The value never appears in a message: only its shape is described.
  TEMPORAL_API_KEY: z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'must be the API key on one line, without spaces or control characters')
    .optional(),
  TEMPORAL_TLS: boolText.optional(),
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: boolText.optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().regex(HOSTNAME, 'must be a host name, like temporal.example.com').optional(),
  TEMPORAL_PROFILE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be a profile name: letters, digits, ".", "_" and "-"')
    .optional(),
  TEMPORAL_CONFIG_FILE: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// Loading

/** The environment with the TEMPORAL_* variables that are set to "" removed: an empty variable counts as unset. */
function withoutEmptyTemporalVars(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (key.startsWith('TEMPORAL_') && value.trim() === '') continue;
    out[key] = value;
  }
  return out;
}

/** Where `temporal` and the SDKs look for the config file when TEMPORAL_CONFIG_FILE is not set (envconfig's rule). */
export function defaultConfigFilePath(env: NodeJS.ProcessEnv = process.env): string | null {
  const platform = os.platform();
  let dir: string | undefined;
  if (platform === 'win32') dir = env.APPDATA;
  else if (platform === 'darwin') dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else {
    const xdg = env.XDG_CONFIG_HOME;
    if (xdg && path.isAbsolute(xdg)) dir = xdg;
    else if (!xdg && env.HOME) dir = path.join(env.HOME, '.config');
  }
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : null;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A TOML parse error's position, never its excerpt (which would show the line, maybe an api_key). */
function tomlErrorPosition(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'line' in err && 'column' in err) {
    return ` (line ${String(err.line)}, column ${String(err.column)})`;
  }
  return '';
}

/**
 * Reads the connection settings from `env` (default: process.env) and the selected profile, checks all of them and
 * returns them, or throws a ConnectionConfigError listing every problem.
 */
export function loadConnectionConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadConnectionConfigOptions = {},
): TemporalConnectionConfig {
  const vars = withoutEmptyTemporalVars(env);
  const problems: ConnectionConfigProblem[] = [];

  const parsed = EnvSchema.safeParse(vars);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ variable: String(issue.path[0] ?? 'environment'), rule: issue.message });
    }
  }
  const envValues = parsed.success ? parsed.data : ({} as z.output<typeof EnvSchema>);

  for (const base of ['CLIENT_CERT', 'CLIENT_KEY', 'SERVER_CA_CERT']) {
    if (vars[`TEMPORAL_TLS_${base}_PATH`] !== undefined && vars[`TEMPORAL_TLS_${base}_DATA`] !== undefined) {
      problems.push({
        variable: `TEMPORAL_TLS_${base}_PATH`,
        rule: `must not be set together with TEMPORAL_TLS_${base}_DATA (one or the other)`,
      });
    }
  }

  // Which file, if any.
  const explicitFile = vars.TEMPORAL_CONFIG_FILE;
  const explicitProfile = vars.TEMPORAL_PROFILE;
  let configFile: string | null = null;
  if (explicitFile) {
    if (!isFile(explicitFile)) {
      problems.push({
        variable: 'TEMPORAL_CONFIG_FILE',
        rule: `must name an existing TOML file; ${explicitFile} is not one`,
      });
    } else configFile = explicitFile;
  } else if (explicitProfile || !options.fallback) {
    const candidate = defaultConfigFilePath(vars);
    if (candidate && isFile(candidate)) configFile = candidate;
    else if (explicitProfile) {
      problems.push({
        variable: 'TEMPORAL_PROFILE',
        rule: `names profile "${explicitProfile}", but there is no config file (${candidate ?? 'no default location'}); set TEMPORAL_CONFIG_FILE`,
      });
    }
  }
  if (problems.length > 0) throw new ConnectionConfigError(problems);

  const profileName = explicitProfile ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      profile: explicitProfile,
      overrideEnvVars: vars,
      ...(configFile ? { configSource: { path: configFile } } : { disableFile: true }),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Profile '.*' not found/.test(message)) {
      throw new ConnectionConfigError([
        { variable: 'TEMPORAL_PROFILE', rule: `no profile "${profileName}" in ${configFile ?? 'the config file'}` },
      ]);
    }
    if (/Cannot specify both/.test(message)) {
      throw new ConnectionConfigError([
        { variable: `profile "${profileName}" in ${configFile ?? '(none)'}`, rule: message.replace(/^Error: /, '') },
      ]);
    }
    throw new ConnectionConfigError([
      {
        variable: explicitFile ? 'TEMPORAL_CONFIG_FILE' : `config file ${configFile ?? ''}`,
        rule: `must be a valid TOML client config file${tomlErrorPosition(err)}`,
      },
    ]);
  }

  // Names for messages: the variable when the environment set the value, else the profile key.
  const fromProfile = (key: string): string => `profile "${profileName}" in ${configFile ?? '(no file)'}: ${key}`;
  const nameOf = (variable: ConnectionEnvVar, profileKey: string): string =>
    vars[variable] !== undefined ? variable : fromProfile(profileKey);

  // Values that came from the profile get the same rules the variables got.
  if (profile.address !== undefined && vars.TEMPORAL_ADDRESS === undefined) {
    const problem = addressProblem(profile.address);
    if (problem) problems.push({ variable: fromProfile('address'), rule: problem });
  }
  if (profile.namespace !== undefined && vars.TEMPORAL_NAMESPACE === undefined && !NAMESPACE.test(profile.namespace)) {
    problems.push({ variable: fromProfile('namespace'), rule: NAMESPACE_RULE });
  }
  if (profile.apiKey !== undefined && vars.TEMPORAL_API_KEY === undefined && !/^[\x21-\x7e]+$/.test(profile.apiKey)) {
    problems.push({ variable: fromProfile('api_key'), rule: 'must be the API key on one line, without spaces' });
  }

  const address = profile.address ?? options.fallback?.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const namespace = profile.namespace ?? options.fallback?.namespace ?? DEFAULT_TEMPORAL_NAMESPACE;
  const sourceOf = (variable: ConnectionEnvVar, value: string | undefined, fallback: string | undefined): string =>
    vars[variable] !== undefined
      ? variable
      : value !== undefined
        ? `profile "${profileName}" in ${configFile ?? '(no file)'}`
        : fallback !== undefined
          ? (options.fallback?.source ?? 'fallback')
          : 'default';

  // TLS.
  const tlsProfile = profile.tls;
  const tlsFromEnv = Object.keys(vars).some((k) => /^TEMPORAL_TLS_CLIENT_(CERT|KEY)_(PATH|DATA)$/.test(k));
  /** The variable that set a certificate or key, or the profile key (`tls.client_key_path` / `…_data`). */
  const materialName = (base: 'CLIENT_CERT' | 'CLIENT_KEY' | 'SERVER_CA_CERT', source?: ConfigDataSource): string => {
    const pathVar = `TEMPORAL_TLS_${base}_PATH`;
    const dataVar = `TEMPORAL_TLS_${base}_DATA`;
    if (vars[pathVar] !== undefined) return pathVar;
    if (vars[dataVar] !== undefined) return dataVar;
    // Not set at all (the missing half of a pair): name the variable, unless the other half came from a profile.
    if (!source && (!configFile || tlsFromEnv)) return pathVar;
    return fromProfile(`tls.${base.toLowerCase()}_${source && 'data' in source ? 'data' : 'path'}`);
  };
  const cert = readMaterial(
    tlsProfile?.clientCert,
    materialName('CLIENT_CERT', tlsProfile?.clientCert),
    'cert',
    problems,
  );
  const key = readMaterial(tlsProfile?.clientKey, materialName('CLIENT_KEY', tlsProfile?.clientKey), 'key', problems);
  const ca = readMaterial(
    tlsProfile?.serverCACert,
    materialName('SERVER_CA_CERT', tlsProfile?.serverCACert),
    'cert',
    problems,
  );
  if (tlsProfile?.clientCert && !tlsProfile.clientKey) {
    problems.push({
      variable: materialName('CLIENT_KEY'),
      rule: 'must be set together with the client certificate (mTLS needs both)',
    });
  }
  if (tlsProfile?.clientKey && !tlsProfile.clientCert) {
    problems.push({
      variable: materialName('CLIENT_CERT'),
      rule: 'must be set together with the client key (mTLS needs both)',
    });
  }
  if (envValues.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === true) {
    problems.push({
      variable: 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
      rule: 'is not supported by the TypeScript SDK 1.24; set TEMPORAL_TLS_SERVER_NAME to the name in the server certificate',
    });
  }
  const serverName = tlsProfile?.serverName;
  if (serverName !== undefined && vars.TEMPORAL_TLS_SERVER_NAME === undefined && !HOSTNAME.test(serverName)) {
    problems.push({ variable: fromProfile('tls.server_name'), rule: 'must be a host name' });
  }

  const hasMaterial = Boolean(
    tlsProfile?.clientCert || tlsProfile?.clientKey || tlsProfile?.serverCACert || serverName,
  );
  const cloud = isTemporalCloudAddress(address);
  const tlsVariable = nameOf('TEMPORAL_TLS', 'tls.disabled');
  let tls: TLSConfig | false;
  if (tlsProfile?.disabled === true) {
    if (cloud)
      problems.push({
        variable: tlsVariable,
        rule: `must not turn TLS off: Temporal Cloud (${address}) accepts only TLS`,
      });
    if (hasMaterial) {
      problems.push({
        variable: tlsVariable,
        rule: 'turns TLS off, but TLS certificates or a server name are configured',
      });
    }
    tls = false;
  } else if (tlsProfile?.disabled === false || hasMaterial || profile.apiKey !== undefined || cloud) {
    tls = {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
    };
  } else tls = false;

  // Metadata: an authorization header and an API key would fight over the same header.
  const metadata = profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0 ? { ...profile.grpcMeta } : undefined;
  if (
    metadata &&
    profile.apiKey !== undefined &&
    Object.keys(metadata).some((k) => k.toLowerCase() === 'authorization')
  ) {
    problems.push({
      variable: `${GRPC_META_PREFIX}AUTHORIZATION`,
      rule: 'must not be set together with an API key (both become the authorization header)',
    });
  }

  if (problems.length > 0) throw new ConnectionConfigError(problems);
  return {
    address,
    namespace,
    ...(profile.apiKey !== undefined ? { apiKey: profile.apiKey } : {}),
    tls,
    ...(metadata ? { metadata } : {}),
    source: {
      address: sourceOf('TEMPORAL_ADDRESS', profile.address, options.fallback?.address),
      namespace: sourceOf('TEMPORAL_NAMESPACE', profile.namespace, options.fallback?.namespace),
    },
    profile: configFile ? { name: profileName, file: configFile } : null,
  };
}

/** Reads a certificate or key from a path or inline data and checks it is PEM; problems name `variable`, never content. */
function readMaterial(
  source: ConfigDataSource | undefined,
  variable: string,
  kind: 'cert' | 'key',
  problems: ConnectionConfigProblem[],
): Uint8Array | undefined {
  if (!source) return undefined;
  const what = kind === 'cert' ? 'a PEM certificate (-----BEGIN CERTIFICATE-----)' : 'a PEM private key';
  let bytes: Uint8Array;
  if ('path' in source) {
    try {
      bytes = readFileSync(source.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({
        variable,
        rule: `must name a readable file with ${what}; ${source.path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')}`,
      });
      return undefined;
    }
  } else bytes = typeof source.data === 'string' ? Buffer.from(source.data) : source.data;
  const text = Buffer.from(bytes).toString('utf8');
  if (!(kind === 'cert' ? PEM_CERT : PEM_KEY).test(text)) {
    problems.push({ variable, rule: `must be ${what}${'path' in source ? ` (${source.path} is not)` : ''}` });
    return undefined;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// Options for the SDK

/** For `Connection.connect` / `Connection.lazy` (clients: CLI, webhook server, setup). */
export function clientConnectionOptions(
  config: TemporalConnectionConfig,
  extra: Omit<ConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'> = {},
): ConnectionOptions {
  return {
    ...extra,
    address: config.address,
    tls: config.tls,
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    ...(config.metadata ? { metadata: { ...config.metadata } } : {}),
  };
}

/** For `NativeConnection.connect` (the worker). */
export function nativeConnectionOptions(config: TemporalConnectionConfig): NativeConnectionOptions {
  return {
    address: config.address,
    tls: config.tls,
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    ...(config.metadata ? { metadata: { ...config.metadata } } : {}),
  };
}

/** Plaintext, no credentials: a dev server the project started itself. */
export function plainConnectionConfig(address: string, namespace: string): TemporalConnectionConfig {
  return { address, namespace, tls: false, source: { address: 'dev stack', namespace: 'dev stack' }, profile: null };
}

/** One line for logs and messages: where, which namespace, how authenticated. Never a secret's value. */
export function describeConnection(config: TemporalConnectionConfig): string {
  const parts = [`${config.address} (namespace ${config.namespace}`];
  if (config.tls === false) parts.push('plaintext');
  else {
    const tls = ['TLS'];
    if (config.tls.clientCertPair) tls.push('client certificate');
    if (config.tls.serverRootCACertificate) tls.push('own CA');
    if (config.tls.serverNameOverride) tls.push(`server name ${config.tls.serverNameOverride}`);
    parts.push(tls.join(', '));
  }
  if (config.apiKey !== undefined) parts.push('API key');
  if (config.profile) parts.push(`profile ${config.profile.name}`);
  return `${parts.join('; ')})`;
}

/** Removes the API key, metadata values and key material from a message that is about to be shown or logged. */
export function redactSecrets(message: string, config: TemporalConnectionConfig): string {
  const secrets = [config.apiKey, ...Object.values(config.metadata ?? {})].filter(
    (s): s is string => typeof s === 'string' && s.length >= 4,
  );
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[redacted key]');
}

/** What a direct look at the address found: a TCP connect, then (when TLS is on) a TLS handshake. */
export interface ConnectionProbe {
  /** Something accepts TCP connections there. */
  tcp: boolean;
  /** With TLS on: the handshake's outcome. */
  tls?: 'ok' | 'not-tls' | 'untrusted' | 'failed';
  /** The socket's own error text (never contains a secret: only the address and the TLS library's words). */
  detail?: string;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}

/**
 * Looks at the address directly, because grpc-js reports every failed connect as "Failed to connect before the
 * deadline": is anything listening, and does it complete a TLS handshake with our CA, name and client certificate?
 */
export async function probeConnection(config: TemporalConnectionConfig, timeoutMs = 3_000): Promise<ConnectionProbe> {
  const { host, port } = splitAddress(config.address);
  const tcpError = await new Promise<string | null>((resolve) => {
    const socket = net.connect({ host, port });
    const done = (error: string | null) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
  if (tcpError !== null) return { tcp: false, detail: tcpError };
  if (config.tls === false) return { tcp: true };
  const tlsConfig = config.tls;
  const outcome = await new Promise<{ tls: ConnectionProbe['tls']; detail?: string }>((resolve) => {
    const servername = tlsConfig.serverNameOverride ?? (net.isIP(host) ? undefined : host);
    const socket = tls.connect({
      host,
      port,
      ...(servername ? { servername } : {}),
      ALPNProtocols: ['h2'],
      ...(tlsConfig.serverRootCACertificate ? { ca: Buffer.from(tlsConfig.serverRootCACertificate) } : {}),
      ...(tlsConfig.clientCertPair
        ? { cert: Buffer.from(tlsConfig.clientCertPair.crt), key: Buffer.from(tlsConfig.clientCertPair.key) }
        : {}),
      // With an IP address and no server name, Node checks the IP against the certificate's SANs itself.
      ...(servername ? { checkServerIdentity: (name, cert) => tls.checkServerIdentity(servername ?? name, cert) } : {}),
    });
    const done = (result: { tls: ConnectionProbe['tls']; detail?: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ tls: 'failed', detail: `no TLS handshake within ${timeoutMs} ms` }));
    socket.once('secureConnect', () => done({ tls: 'ok' }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const text = `${err.code ?? ''} ${err.message}`.trim();
      if (
        /WRONG_VERSION_NUMBER|wrong version number|packet length too long|unknown protocol|ECONNRESET|socket disconnected/i.test(
          text,
        )
      ) {
        done({ tls: 'not-tls', detail: text });
      } else if (/CERT|certificate|self.signed|altname|issuer/i.test(text)) done({ tls: 'untrusted', detail: text });
      else done({ tls: 'failed', detail: text });
    });
  });
  return { tcp: true, ...outcome };
}

/** What most likely went wrong, from the probe and the error's text, in words a user can act on. */
export function connectionFailureHint(
  config: TemporalConnectionConfig,
  message: string,
  probe?: ConnectionProbe,
): string {
  const m = message.toLowerCase();
  if (probe && !probe.tcp) {
    return `nothing accepts connections at ${config.address} (${probe.detail ?? 'refused'}): is the server running and the address right?`;
  }
  if (probe?.tls === 'not-tls' || (config.tls !== false && /invalidcontenttype|wrong version number/.test(m))) {
    return (
      'TLS is on, but the server does not speak TLS (a local dev server does not): set TEMPORAL_TLS=false for a ' +
      'plaintext server (TLS is on because of ' +
      tlsReason(config) +
      ')'
    );
  }
  if (
    probe?.tls === 'untrusted' ||
    (config.tls !== false && /certificate|unknownissuer|unknown ca|self.signed/.test(m))
  ) {
    return (
      `the server's certificate is not trusted (${probe?.detail ?? 'certificate check failed'}): set ` +
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA and TEMPORAL_TLS_SERVER_NAME to the name it carries'
    );
  }
  if (probe?.tls === 'failed') {
    return `the TLS handshake failed (${probe.detail ?? 'unknown reason'}): check the client certificate and key`;
  }
  if (/unauthenticated|permission denied|unauthorized|request unauthorized/.test(m)) {
    return 'the server refused the credentials: check TEMPORAL_API_KEY or the client certificate, and TEMPORAL_NAMESPACE';
  }
  if (config.tls === false && probe?.tcp) {
    return 'something listens there but does not answer as a plaintext Temporal frontend: if it requires TLS, set TEMPORAL_TLS=true (and its certificates or API key)';
  }
  return 'check TEMPORAL_ADDRESS and the TLS / API key settings';
}

function tlsReason(config: TemporalConnectionConfig): string {
  if (config.apiKey !== undefined) return 'the API key';
  if (isTemporalCloudAddress(config.address)) return 'the Temporal Cloud address';
  if (config.tls !== false && (config.tls.clientCertPair || config.tls.serverRootCACertificate)) {
    return 'the TLS certificates';
  }
  return 'TEMPORAL_TLS or the profile';
}

/** A connection attempt failed; the message names the target and a likely cause, never a secret. */
export class TemporalConnectError extends Error {
  override name = 'TemporalConnectError';
}

/** The error to show for a failed connect: target, the SDK's reason (secrets removed), and a hint from a probe. */
export async function connectError(config: TemporalConnectionConfig, err: unknown): Promise<TemporalConnectError> {
  const raw = err instanceof Error ? errorText(err) : String(err);
  const probe = await probeConnection(config).catch(() => undefined);
  return new TemporalConnectError(
    `cannot connect to Temporal at ${describeConnection(config)}: ${redactSecrets(raw, config)}\n` +
      `  hint: ${redactSecrets(connectionFailureHint(config, raw, probe), config)}`,
  );
}

/** An error's message with its causes (the SDK wraps the gRPC error in `cause`). */
function errorText(err: Error): string {
  const parts = [err.message];
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (!parts.includes(cause.message)) parts.push(cause.message);
    cause = cause.cause;
  }
  return parts.join(': ');
}

/**
 * A connected client `Connection`, or a TemporalConnectError. lazy + ensureConnected so that a failed attempt can
 * be closed (a failed `Connection.connect` leaks its channel, which keeps the process alive).
 */
export async function connectClientConnection(
  config: TemporalConnectionConfig,
  extra: Omit<ConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'> = {},
): Promise<Connection> {
  const connection = Connection.lazy(clientConnectionOptions(config, extra));
  try {
    await connection.ensureConnected();
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw await connectError(config, err);
  }
  return connection;
}
