/**
 * The command line as a user runs it: the compiled `gmsa-runbook` in its own process, against the test run's
 * Temporal server (TEMPORAL_ADDRESS from global setup).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTemporal, uniqueTaskQueue } from '../support/runbook-env';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
let dir: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'gmsa-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GMSA_STATE_DIR: join(dir, 'state'), ...env },
    timeout: 120_000,
  });
}

test('start refuses a bad request file, naming every field, and starts nothing', async () => {
  const file = join(dir, 'bad.json');
  writeFileSync(
    file,
    JSON.stringify({
      ticket: { key: 'BAD-1' },
      domain: { netbios: 'LAB', dns: 'lab.local' },
      gmsa: { name: 'this-name-is-too-long' },
      hosts: ['server1'],
      endpoint: { name: 'Microsoft.PowerShell', roleDefinitions: {}, transcriptDirectory: 'C:\\T' },
    }),
  );
  const run = cli(['start', '--file', file]);

  expect(run.status).toBe(2);
  for (const field of ['gmsa.name', 'hosts[0]', 'endpoint.name', 'endpoint.roleDefinitions']) {
    expect(run.stderr).toContain(`- ${field}:`);
  }
  const env = await connectTemporal();
  try {
    await expect(env.client.workflow.getHandle('gmsa-provision-BAD-1').describe()).rejects.toThrow(/not found/i);
  } finally {
    await env.close();
  }
});

/** What a terminal would act on (ESC/CSI, CR, BEL, C1, bidi and zero-width characters) but the newline; U+FFFD is what an unpaired surrogate turns into when written. */
const TERMINAL_UNSAFE = /[^\P{Cc}\n]|[\p{Cf}\p{Zl}\p{Zp}\ufffd]/u;

test('start: refused values are never echoed raw to stderr (escapes, CR, BEL, surrogates; a megabyte)', () => {
  const file = join(dir, 'hostile.json');
  const request = {
    ticket: { key: 'HOSTILE-1' },
    domain: { netbios: 'LAB', dns: '\u001b[31mred\u001b[0m' },
    gmsa: { name: 'svc-hostile' },
    hosts: ['server1.lab.local'],
    endpoint: {
      name: 'HostileEp',
      roleDefinitions: {
        '\u001b[2J\u001b[H': { roleCapabilities: ['GmsaRemotingOperator'] },
        'a\rb\u0007c\u009b\ud800': { roleCapabilities: ['GmsaRemotingOperator'] },
      },
      transcriptDirectory: 'C:\\NUL',
    },
  };
  writeFileSync(file, JSON.stringify(request));
  const run = cli(['start', '--file', file]);

  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).not.toMatch(TERMINAL_UNSAFE);
  expect(run.stderr).toBe(
    [
      'invalid runbook request:',
      '  - domain.dns: must be a fully qualified DNS name (the AD domain), like server1.lab.local',
      '  - endpoint.roleDefinitions: must be a principal like LAB\\JEA-Operators (got "\\u001b[2J\\u001b[H")',
      '  - endpoint.roleDefinitions: must be a principal like LAB\\JEA-Operators (got "a\\rb\\u0007c\\u009b\\ud800")',
      '  - endpoint.transcriptDirectory: must not contain a Win32 device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$, CONOUT$, also with an extension) as a folder or file name',
      '',
    ].join('\n'),
  );

  // A megabyte key and a megabyte domain: one short line each.
  const big = join(dir, 'big.json');
  const x = 'x'.repeat(1_000_000);
  writeFileSync(
    big,
    JSON.stringify({
      ...request,
      domain: { netbios: 'LAB', dns: x },
      endpoint: { ...request.endpoint, roleDefinitions: { [x]: { roleCapabilities: ['GmsaRemotingOperator'] } } },
    }),
  );
  const bigRun = cli(['start', '--file', big]);
  expect(bigRun.status).toBe(2);
  expect(bigRun.stderr.length).toBeLessThan(1000);
  expect(bigRun.stderr).toContain('(1000000 characters)');
});

test('start: a file that is not JSON is exit 1, and what JSON.parse quotes of it is escaped', () => {
  const file = join(dir, 'escapes.txt');
  writeFileSync(file, '\u001b[2J\u001b[H\u0007not json');
  const run = cli(['start', '--file', file]);
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/^error: .*\\u001b\[2J/);
  expect(run.stderr).not.toMatch(TERMINAL_UNSAFE);
});

test('demo --once (what `npm start` runs) provisions the sample and prints the verified identity', () => {
  const run = cli(['demo', '--once', '--time-scale', '0.002', '--state-dir', join(dir, 'demo')], {
    GMSA_TASK_QUEUE: uniqueTaskQueue('demo'),
  });

  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/Succeeded in [\d.]+ s: gMSA TestgMSA \(created on dc\d\.lab\.local\)/);
  expect(run.stdout).toContain('server1.lab.local: remote identity LAB\\TestgMSA$');
  expect(run.stdout).toContain('server2.lab.local: remote identity LAB\\TestgMSA$');
});

test('schedules list shows what the demo provisioned; pause and unpause change its state', async () => {
  // The demo test above provisioned TestgMSA, which left its gmsa-verify-TestgMSA schedule on the test server.
  const list = cli(['schedules', 'list']);
  expect(list.status).toBe(0);
  expect(list.stdout).toMatch(/^TestgMSA\s+active\b/m);

  expect(cli(['schedules', 'pause', 'TestgMSA', '--note', 'maintenance']).status).toBe(0);
  expect(cli(['schedules', 'list']).stdout).toMatch(/^TestgMSA\s+paused\b.*maintenance/m);
  expect(cli(['schedules', 'unpause', 'TestgMSA']).status).toBe(0);

  const env = await connectTemporal();
  try {
    expect((await env.client.schedule.getHandle('gmsa-verify-TestgMSA').describe()).state.paused).toBe(false);
  } finally {
    await env.close();
  }
});
