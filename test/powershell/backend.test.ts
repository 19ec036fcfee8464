/**
 * The PowerShell backend end to end on this side of the wire: backend → real node-powershell runner → fake pwsh.
 * What reaches the shell is one fixed script line with base64 data; answers are validated; errors are classified.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../../backends/errors';
import { PowerShellBackend } from '../../backends/powershell';
import { defaultScriptsDir } from '../../backends/powershell/config';
import { PowerShellRunner } from '../../backends/powershell/shell';
import { parseRunbookRequest } from '../../runbook/request';
import { buildSessionConfiguration } from '../../runbook/session-configuration';
import { HOSTILE_VALUES } from '../support/hostile-values';
import { sampleRequest } from '../support/runbook-env';

const FAKE = join(__dirname, '..', 'support', 'fake-pwsh', 'fake-pwsh.js');
const SCENARIO = join(__dirname, '..', 'support', 'fake-pwsh', 'scenarios', 'backend.json');
const saved = { ...process.env };
let dir: string;
let log: string;
let backend: PowerShellBackend;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-backend-'));
  log = join(dir, 'received.jsonl');
  Object.assign(process.env, { NODE_POWERSHELL: FAKE, FAKE_PWSH_SCENARIO: SCENARIO, FAKE_PWSH_LOG: log });
  backend = new PowerShellBackend(
    new PowerShellRunner({
      executable: 'pwsh',
      scriptsDir: defaultScriptsDir(),
      timeoutMs: 10_000,
      env: { ...process.env },
    }),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
afterAll(() => {
  for (const key of ['NODE_POWERSHELL', 'FAKE_PWSH_SCENARIO', 'FAKE_PWSH_LOG']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

/** The script lines the shell received: `& '<path>' -PayloadB64 '<b64>'`, decoded. */
function scriptCalls(): { line: string; script: string; payload: Record<string, unknown> }[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; line?: string })
    .filter((e): e is { event: string; line: string } => e.event === 'line' && !!e.line?.startsWith('& '))
    .map(({ line }) => {
      const m = /^& '([^']+)' -PayloadB64 '([A-Za-z0-9+/=]+)'$/.exec(line);
      if (!m) throw new Error(`unexpected line: ${line}`);
      const payload = JSON.parse(Buffer.from(m[2], 'base64').toString('utf8')) as Record<string, unknown>;
      return { line, script: m[1].split(/[\\/]/).pop() ?? '', payload };
    });
}

const spec = (description: string) => ({
  name: 'TestgMSA',
  dnsHostName: 'testgmsa.corp.example',
  description,
  principals: ['SERVER1$', 'SERVER2$'],
  kerberosEncryptionTypes: ['AES128', 'AES256'],
  managedPasswordIntervalInDays: 30,
});

test('hostile values travel as data: the shell sees a fixed script path and base64, never the value', async () => {
  const values = HOSTILE_VALUES;
  for (const value of values) await backend.directory.createServiceAccount('dc1.corp.example', spec(value));
  const calls = scriptCalls();
  expect(calls.map((c) => c.script)).toEqual(values.map(() => 'New-ServiceAccount.ps1'));
  calls.forEach((call, i) => {
    expect(call.line).not.toContain(values[i]);
    expect(call.line).toMatch(/^[\x20-\x7e]+$/); // printable ASCII only: no quote of any kind but the fixed ones
    expect(call.payload).toEqual({ dc: 'dc1.corp.example', spec: spec(values[i]) });
  });
});

test('answers are validated, including Windows PowerShell 5.1’s unwrapped one-element arrays', async () => {
  const sa = await backend.directory.getServiceAccount('dc1.corp.example', 'TestgMSA');
  expect(sa).toMatchObject({ principals: ['SERVER1$'], kerberosEncryptionTypes: ['AES256'], description: null });
});

test('error records become typed failures', async () => {
  const err = await backend.directory
    .removeServiceAccount('dc1.corp.example', '0f8fad5b-d9cb-469f-a165-70867728950e')
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BackendError);
  expect((err as BackendError).type).toBe('ObjectNotFound');
  const stuck = await backend.hosts
    .getSessionConfiguration('server1.corp.example', 'GmsaRemoting')
    .catch((e: unknown) => e);
  expect((stuck as BackendError).type).toBe('WinRmTransport');
  expect((stuck as BackendError).message).toMatch(/StopPending/);
});

test('registration sends the rendered .pssc as data; a configuration the lint refuses never reaches the shell', async () => {
  const request = parseRunbookRequest(sampleRequest());
  const cfg = buildSessionConfiguration({
    endpoint: request.endpoint,
    domainNetbios: 'CORP',
    gmsaName: 'TestgMSA',
    mark: '[m]',
  });
  await backend.hosts.startRegistration('server1.corp.example', cfg);
  const [call] = scriptCalls();
  expect(call.script).toBe('Start-Registration.ps1');
  expect(call.payload.pssc).toContain("GroupManagedServiceAccount = 'CORP\\TestgMSA'");
  expect(call.line).not.toContain('GroupManagedServiceAccount');

  const refused = await backend.hosts
    .startRegistration('server1.corp.example', { ...cfg, name: 'Microsoft.PowerShell' })
    .catch((e: unknown) => e);
  expect((refused as BackendError).type).toBe('RequestInvalid');
  expect(scriptCalls()).toHaveLength(1);
});
