/**
 * temporal/connection-config.ts: the environment (and TOML profiles) → ConnectionOptions / NativeConnectionOptions,
 * every bad value named with its rule, secrets never in a message; then over the wire: TLS against the plaintext
 * dev server fails with a message that says so, the API key arrives as `authorization: Bearer …` (client and
 * worker connections, plaintext and TLS), and mTLS presents the client certificate to a real TLS server.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import {
  clientConnectionOptions,
  ConnectionConfigError,
  connectClientConnection,
  describeConnection,
  loadConnectionConfig,
  nativeConnectionOptions,
  probeConnection,
  redactSecrets,
  type TemporalConnectionConfig,
} from '../../temporal/connection-config';
import { connectNativeConnection } from '../../temporal/worker-connection';

const API_KEY = 'tmprl-test-key.QkVBUkVSLXNlY3JldC12YWx1ZQ';
let dir: string;
/** A home without ~/.config/temporalio/temporal.toml, so the developer's own profile never leaks into a test. */
let home: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmsa-conncfg-'));
  home = join(dir, 'home');
  mkdirSync(home);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(vars: Record<string, string>, options?: Parameters<typeof loadConnectionConfig>[1]) {
  return loadConnectionConfig({ HOME: home, ...vars }, options);
}

/** The problems of a config that must not load, as `VARIABLE: rule` lines. */
function problems(vars: Record<string, string>): string[] {
  try {
    load(vars);
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectionConfigError);
    return (err as ConnectionConfigError).problems.map((p) => `${p.variable}: ${p.rule}`);
  }
  throw new Error(`expected ${JSON.stringify(Object.keys(vars))} to be refused`);
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const FAKE_CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const FAKE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END PRIVATE KEY-----\n';

describe('environment → connection options', () => {
  test('nothing set: the local default, plaintext, no credentials', () => {
    const config = load({});
    expect(config).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', tls: false, profile: null });
    expect(config.apiKey).toBeUndefined();
    expect(clientConnectionOptions(config)).toEqual({ address: '127.0.0.1:7233', tls: false });
    expect(nativeConnectionOptions(config)).toEqual({ address: '127.0.0.1:7233', tls: false });
    expect(config.source).toEqual({ address: 'default', namespace: 'default' });
  });

  test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE', () => {
    const config = load({ TEMPORAL_ADDRESS: 'temporal.corp.example:7233', TEMPORAL_NAMESPACE: 'runbooks' });
    expect(clientConnectionOptions(config)).toEqual({ address: 'temporal.corp.example:7233', tls: false });
    expect(config.namespace).toBe('runbooks');
    expect(config.source).toEqual({ address: 'TEMPORAL_ADDRESS', namespace: 'TEMPORAL_NAMESPACE' });
  });

  test('an API key implies TLS and goes to both kinds of connection', () => {
    const config = load({ TEMPORAL_ADDRESS: 'temporal.corp.example:7233', TEMPORAL_API_KEY: API_KEY });
    expect(config.tls).toEqual({});
    expect(clientConnectionOptions(config)).toEqual({
      address: 'temporal.corp.example:7233',
      tls: {},
      apiKey: API_KEY,
    });
    expect(nativeConnectionOptions(config)).toEqual({
      address: 'temporal.corp.example:7233',
      tls: {},
      apiKey: API_KEY,
    });
  });

  test('TEMPORAL_TLS=false keeps an API key on plaintext (a local proxy), except for Temporal Cloud', () => {
    expect(load({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }).tls).toBe(false);
    expect(problems({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_TLS: 'false' })).toEqual([
      'TEMPORAL_TLS: must not turn TLS off: Temporal Cloud (ns.acct.tmprl.cloud:7233) accepts only TLS',
    ]);
  });

  test('a Temporal Cloud endpoint implies TLS', () => {
    expect(load({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' }).tls).toEqual({});
    expect(load({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: API_KEY }).tls).toEqual({});
  });

  test('TEMPORAL_TLS=true turns TLS on with the system roots', () => {
    expect(load({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(load({ TEMPORAL_TLS: '1' }).tls).toEqual({});
    expect(load({ TEMPORAL_TLS: '0' }).tls).toBe(false);
  });

  test('mTLS: client certificate and key, the server CA and name, from files or inline PEM', () => {
    const cert = file('client.pem', FAKE_CERT);
    const key = file('client.key', FAKE_KEY);
    const ca = file('ca.pem', FAKE_CERT);
    const config = load({
      TEMPORAL_ADDRESS: 'temporal.corp.example:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(config.tls).toEqual({
      serverNameOverride: 'frontend.temporal.internal',
      serverRootCACertificate: Buffer.from(FAKE_CERT),
      clientCertPair: { crt: Buffer.from(FAKE_CERT), key: Buffer.from(FAKE_KEY) },
    });
    expect(nativeConnectionOptions(config).tls).toEqual(config.tls);
    const inline = load({ TEMPORAL_TLS_CLIENT_CERT_DATA: FAKE_CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: FAKE_KEY });
    expect(inline.tls).toEqual({ clientCertPair: { crt: Buffer.from(FAKE_CERT), key: Buffer.from(FAKE_KEY) } });
  });

  test('an empty variable counts as unset (compose passes ${VAR:-} as "")', () => {
    const config = load({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_API_KEY: '',
      TEMPORAL_TLS: '',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
      TEMPORAL_NAMESPACE: '',
    });
    expect(config).toMatchObject({ address: 'temporal:7233', namespace: 'default', tls: false });
    expect(config.apiKey).toBeUndefined();
  });

  test('TEMPORAL_GRPC_META_* become gRPC headers', () => {
    expect(load({ TEMPORAL_GRPC_META_X_TENANT: 'ops' }).metadata).toEqual({ 'x-tenant': 'ops' });
  });
});

describe('bad values name the variable and the rule', () => {
  test.each([
    [{ TEMPORAL_ADDRESS: 'http://temporal:7233' }, 'TEMPORAL_ADDRESS: must be host:port of the Temporal frontend'],
    [{ TEMPORAL_ADDRESS: 'temporal' }, 'TEMPORAL_ADDRESS: must be host:port'],
    [
      { TEMPORAL_ADDRESS: 'temporal:99999' },
      'TEMPORAL_ADDRESS: must be host:port of the Temporal frontend, like temporal.example.com:7233 (no scheme); bad port',
    ],
    [{ TEMPORAL_NAMESPACE: 'my namespace' }, 'TEMPORAL_NAMESPACE: must be a namespace name'],
    [{ TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS: must be true or false (1 or 0)'],
    [{ TEMPORAL_TLS_SERVER_NAME: 'https://x' }, 'TEMPORAL_TLS_SERVER_NAME: must be a host name'],
    [{ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: is not supported'],
    [{ TEMPORAL_PROFILE: 'cloud' }, 'TEMPORAL_PROFILE: names profile "cloud", but there is no config file'],
    [{ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' }, 'TEMPORAL_CONFIG_FILE: must name an existing TOML file'],
  ])('%j', (vars, expected) => {
    expect(problems(vars).join('\n')).toContain(expected);
  });

  test('certificate and key must come in pairs, as readable PEM files, by path or data but not both', () => {
    const cert = file('pair.pem', FAKE_CERT);
    expect(problems({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toEqual([
      'TEMPORAL_TLS_CLIENT_KEY_PATH: must be set together with the client certificate (mTLS needs both)',
    ]);
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') })).toEqual([
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH: must name a readable file with a PEM certificate (-----BEGIN CERTIFICATE-----); ${join(dir, 'missing.pem')}: no such file`,
    ]);
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('notpem.txt', 'hello') })[0]).toMatch(
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: must be a PEM certificate/,
    );
    expect(
      problems({
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_CERT_DATA: FAKE_CERT,
        TEMPORAL_TLS_CLIENT_KEY_DATA: FAKE_KEY,
      }),
    ).toContain(
      'TEMPORAL_TLS_CLIENT_CERT_PATH: must not be set together with TEMPORAL_TLS_CLIENT_CERT_DATA (one or the other)',
    );
    expect(problems({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: cert })).toEqual([
      'TEMPORAL_TLS: turns TLS off, but TLS certificates or a server name are configured',
    ]);
  });

  test('every problem at once', () => {
    expect(problems({ TEMPORAL_ADDRESS: 'grpc://x', TEMPORAL_NAMESPACE: ' ', TEMPORAL_TLS: 'on' })).toHaveLength(2);
    expect(problems({ TEMPORAL_ADDRESS: 'grpc://x', TEMPORAL_NAMESPACE: 'a b', TEMPORAL_TLS: 'on' })).toHaveLength(3);
  });
});

describe('secrets stay out of messages', () => {
  test('a malformed API key is refused without being shown', () => {
    const bad = `${API_KEY} trailing-part`;
    const message = (() => {
      try {
        load({ TEMPORAL_API_KEY: bad });
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toContain('TEMPORAL_API_KEY: must be the API key on one line');
    expect(message).not.toContain(API_KEY);
  });

  test('key material that is not a key is refused without being shown', () => {
    const secretish = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-secret-bytes';
    const lines = problems({ TEMPORAL_TLS_CLIENT_CERT_DATA: FAKE_CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: secretish });
    expect(lines).toEqual(['TEMPORAL_TLS_CLIENT_KEY_DATA: must be a PEM private key']);
  });

  test('describeConnection says an API key and a certificate are set, never what they are', () => {
    const config = load({
      TEMPORAL_ADDRESS: 'temporal.corp.example:7233',
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_CLIENT_CERT_DATA: FAKE_CERT,
      TEMPORAL_TLS_CLIENT_KEY_DATA: FAKE_KEY,
    });
    const line = describeConnection(config);
    expect(line).toBe('temporal.corp.example:7233 (namespace default; TLS, client certificate; API key)');
    expect(redactSecrets(`failed with Bearer ${API_KEY}: ${FAKE_KEY}`, config)).toBe(
      'failed with Bearer [redacted]: [redacted key]\n',
    );
  });

  test('a TOML syntax error reports the position, not the line (which may hold api_key)', () => {
    const config = file('broken.toml', `[profile.default]\napi_key = "${API_KEY}\n`);
    const lines = problems({ TEMPORAL_CONFIG_FILE: config });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^TEMPORAL_CONFIG_FILE: must be a valid TOML client config file \(line \d+, column \d+\)$/,
    );
    expect(lines[0]).not.toContain(API_KEY);
  });
});

describe('TOML profiles (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE)', () => {
  let toml: string;
  beforeAll(() => {
    toml = file(
      'temporal.toml',
      [
        '[profile.default]',
        'address = "127.0.0.1:7233"',
        '',
        '[profile.cloud]',
        'address = "runbooks.acct.tmprl.cloud:7233"',
        'namespace = "runbooks.acct"',
        `api_key = "${API_KEY}"`,
        '',
        '[profile.mtls]',
        'address = "temporal.corp.example:7233"',
        '[profile.mtls.tls]',
        `client_cert_data = """${FAKE_CERT}"""`,
        `client_key_data = """${FAKE_KEY}"""`,
        'server_name = "frontend.temporal.internal"',
        '',
        '[profile.broken]',
        'address = "https://temporal.corp.example"',
      ].join('\n'),
    );
  });

  test('a profile gives address, namespace, API key (and so TLS)', () => {
    const config = load({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(config).toMatchObject({
      address: 'runbooks.acct.tmprl.cloud:7233',
      namespace: 'runbooks.acct',
      apiKey: API_KEY,
      tls: {},
      profile: { name: 'cloud', file: toml },
    });
    expect(config.source.address).toBe(`profile "cloud" in ${toml}`);
  });

  test('environment variables override the profile', () => {
    const config = load({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other.acct' });
    expect(config.namespace).toBe('other.acct');
    expect(config.address).toBe('runbooks.acct.tmprl.cloud:7233');
  });

  test('mTLS from a profile', () => {
    const config = load({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'mtls' });
    expect(config.tls).toEqual({
      serverNameOverride: 'frontend.temporal.internal',
      clientCertPair: { crt: Buffer.from(FAKE_CERT), key: Buffer.from(FAKE_KEY) },
    });
  });

  test('a missing profile and a bad value in a profile are named', () => {
    expect(problems({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toEqual([
      `TEMPORAL_PROFILE: no profile "nope" in ${toml}`,
    ]);
    expect(problems({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'broken' })[0]).toMatch(
      new RegExp(`^profile "broken" in ${toml.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: address: must be host:port`),
    );
  });

  test('the default-location file is read, but a fallback (a running dev stack) beats it unless chosen explicitly', () => {
    const xdg = join(dir, 'xdg');
    mkdirSync(join(xdg, 'temporalio'), { recursive: true });
    writeFileSync(join(xdg, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "from-file.example:7233"\n');
    const env = { XDG_CONFIG_HOME: xdg };
    expect(load(env).address).toBe('from-file.example:7233');
    const fallback = { address: '127.0.0.1:40000', namespace: 'dev', source: 'the running dev stack' };
    expect(load(env, { fallback })).toMatchObject({
      address: '127.0.0.1:40000',
      namespace: 'dev',
      source: { address: 'the running dev stack' },
    });
    expect(load({ ...env, TEMPORAL_PROFILE: 'default' }, { fallback }).address).toBe('from-file.example:7233');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Over the wire

interface SeenRequest {
  path: string;
  authorization: string | undefined;
  /** The client certificate's subject CN, when the server asked for one. */
  clientCn?: string;
}

/**
 * A stand-in Temporal frontend: an HTTP/2 server (plaintext, or TLS with a required client certificate) that records
 * each request's path and headers and answers every gRPC call with UNIMPLEMENTED (which the SDK's connect check
 * accepts, as from an old server).
 */
async function startFakeFrontend(tlsOptions?: http2.SecureServerOptions) {
  const seen: SeenRequest[] = [];
  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    const peer = tlsOptions && socket?.getPeerCertificate ? socket.getPeerCertificate() : undefined;
    seen.push({
      path: String(headers[':path']),
      authorization: headers.authorization,
      ...(peer?.subject ? { clientCn: String(peer.subject.CN) } : {}),
    });
    stream.on('error', () => undefined);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'fake' },
      { endStream: true },
    );
  };
  const server = tlsOptions ? http2.createSecureServer(tlsOptions) : http2.createServer();
  server.on('stream', onStream);
  server.on('sessionError', () => undefined);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('over the wire', () => {
  test('TLS against the plaintext dev server fails with a message that says so (client and worker)', async () => {
    const address = process.env.TEMPORAL_ADDRESS;
    expect(address).toBeTruthy();
    // A server name, so that TLS to an IP address does not draw Node's RFC 6066 warning.
    const config = load({
      TEMPORAL_ADDRESS: address!,
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    const client = connectClientConnection(config, { connectTimeout: '2s' });
    await expect(client).rejects.toThrow(/TLS is on, but the server does not speak TLS/);
    await expect(client).rejects.toThrow(
      /set TEMPORAL_TLS=false for a plaintext server \(TLS is on because of the API key\)/,
    );
    await expect(connectNativeConnection(config)).rejects.toThrow(
      /^cannot connect to Temporal at .*; TLS, server name localhost; API key\): .*\n {2}hint: TLS is on, but the server does not speak TLS/,
    );
    for (const err of await Promise.allSettled([client, connectNativeConnection(config)])) {
      expect(String((err as PromiseRejectedResult).reason)).not.toContain(API_KEY);
    }
    expect(await probeConnection(config)).toMatchObject({ tcp: true, tls: 'not-tls' });
  });

  test('nothing listening: the message says so', async () => {
    const fake = await startFakeFrontend();
    const port = fake.port;
    await fake.close();
    const config = load({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    await expect(connectClientConnection(config, { connectTimeout: '1s' })).rejects.toThrow(
      new RegExp(`hint: nothing accepts connections at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
    );
  });

  test('the API key reaches the server as `authorization: Bearer <key>` from the client and the worker connection', async () => {
    const fake = await startFakeFrontend();
    try {
      const config = load({
        TEMPORAL_ADDRESS: `127.0.0.1:${fake.port}`,
        TEMPORAL_API_KEY: API_KEY,
        TEMPORAL_TLS: 'false',
      });
      const connection = await connectClientConnection(config, { connectTimeout: '5s' });
      await connection.close();
      expect(fake.seen.length).toBeGreaterThan(0);
      expect(fake.seen.every((r) => r.authorization === `Bearer ${API_KEY}`)).toBe(true);

      const before = fake.seen.length;
      await connectNativeConnection(config).then(
        (c) => c.close(),
        () => undefined, // the fake answers UNIMPLEMENTED; only the request's headers matter here
      );
      const native = fake.seen.slice(before);
      expect(native.length).toBeGreaterThan(0);
      expect(native[0].path).toMatch(/^\/temporal\.api\.workflowservice\.v1\.WorkflowService\//);
      expect(native.every((r) => r.authorization === `Bearer ${API_KEY}`)).toBe(true);
    } finally {
      await fake.close();
    }
  });
});

/** A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, made with openssl (null without it). */
function makePki(pki: string): {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
} | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const p = (name: string) => join(pki, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=gmsa-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  for (const [name, cn, ext] of [
    [
      'server',
      'localhost',
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    ],
    ['client', 'gmsa-worker', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n'],
  ] as const) {
    writeFileSync(p(`${name}.ext`), ext);
    run(['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`]);
    run([
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      p(`${name}.ext`),
    ]);
  }
  return {
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}

describe('mTLS against a real TLS server', () => {
  // Decided while jest collects the tests (before any beforeAll), so the PKI gets a directory of its own.
  const pkiDir = mkdtempSync(join(tmpdir(), 'gmsa-pki-'));
  afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));
  const pki = makePki(pkiDir);
  const maybe = pki ? test : test.skip;

  maybe(
    'client and worker connections verify the server by our CA and present the client certificate and API key',
    async () => {
      const fake = await startFakeFrontend({
        key: readFileSync(pki!.serverKey),
        cert: readFileSync(pki!.serverCert),
        ca: readFileSync(pki!.ca),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      });
      try {
        const env = {
          TEMPORAL_ADDRESS: `127.0.0.1:${fake.port}`,
          TEMPORAL_TLS_SERVER_NAME: 'localhost',
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki!.ca,
          TEMPORAL_TLS_CLIENT_CERT_PATH: pki!.clientCert,
          TEMPORAL_TLS_CLIENT_KEY_PATH: pki!.clientKey,
          TEMPORAL_API_KEY: API_KEY,
        };
        const config: TemporalConnectionConfig = load(env);
        expect(await probeConnection(config)).toEqual({ tcp: true, tls: 'ok' });

        const connection = await connectClientConnection(config, { connectTimeout: '5s' });
        await connection.close();
        await connectNativeConnection(config).then(
          (c) => c.close(),
          () => undefined,
        );
        expect(fake.seen.length).toBeGreaterThan(1);
        for (const request of fake.seen) {
          expect(request).toMatchObject({ authorization: `Bearer ${API_KEY}`, clientCn: 'gmsa-worker' });
        }

        // Without our CA the server is not trusted, and the message says what to set.
        const untrusted = load({ ...env, TEMPORAL_TLS_SERVER_CA_CERT_PATH: '' });
        await expect(connectClientConnection(untrusted, { connectTimeout: '2s' })).rejects.toThrow(
          /hint: the server's certificate is not trusted .*TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
        );
        // Without the client certificate the server refuses the handshake.
        const noClientCert = load({ ...env, TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' });
        const probe = await probeConnection(noClientCert);
        expect(probe.tcp).toBe(true);
        expect(probe.tls === 'ok' || probe.tls === 'failed').toBe(true); // TLS 1.3 reports the refusal after the handshake
        await expect(connectClientConnection(noClientCert, { connectTimeout: '2s' })).rejects.toThrow(/cannot connect/);
      } finally {
        await fake.close();
      }
    },
  );
});
