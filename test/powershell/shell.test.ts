/**
 * PowerShellRunner against a fake pwsh (test/support/fake-pwsh): node-powershell's real framing and process
 * handling, a stand-in for PowerShell itself. The fake logs every line it receives, so these tests can prove what
 * text reached the shell, not just what came back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWithCallContext } from '../../backends/call-context';
import { BackendError } from '../../backends/errors';
import { PowerShellRunner, type PowerShellRunnerOptions } from '../../backends/powershell/shell';
import { encodePayload, type ErrorRecord } from '../../backends/powershell/protocol';
import { FailureType } from '../../runbook/failures';

const FAKE = join(__dirname, '..', 'support', 'fake-pwsh', 'fake-pwsh.js');
const SCENARIOS = join(__dirname, '..', 'support', 'fake-pwsh', 'scenarios');
const SCRIPTS_DIR = '/opt/gmsa-runbooks/scripts';
const SETUP_LINE =
  "$ProgressPreference='SilentlyContinue'; $ErrorActionPreference='Stop'; " +
  '[Console]::OutputEncoding=[Text.Encoding]::UTF8; Import-Module ActiveDirectory';
const FRAMING = /^\[Console\]::(Out|Error)\.WriteLine\("[0-9A-Za-z]{16}"\)$/;

type LogEntry = { pid: number; event: 'start'; argv: string[] } | { pid: number; event: 'line'; line: string };

const saved = {
  NODE_POWERSHELL: process.env.NODE_POWERSHELL,
  FAKE_PWSH_SCENARIO: process.env.FAKE_PWSH_SCENARIO,
  FAKE_PWSH_LOG: process.env.FAKE_PWSH_LOG,
};
let dir: string;
let logFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-pwsh-'));
  logFile = join(dir, 'received.jsonl');
  process.env.NODE_POWERSHELL = FAKE;
  process.env.FAKE_PWSH_LOG = logFile;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

function useScenario(name: string): void {
  process.env.FAKE_PWSH_SCENARIO = join(SCENARIOS, name);
}

function scenario<T>(name: string): T {
  return JSON.parse(readFileSync(join(SCENARIOS, name), 'utf8')) as T;
}

function runner(overrides: Partial<PowerShellRunnerOptions> = {}): PowerShellRunner {
  // env explicitly: jest gives each test file its own copy of process.env, which child_process does not see.
  return new PowerShellRunner({
    executable: 'pwsh',
    scriptsDir: SCRIPTS_DIR,
    timeoutMs: 10_000,
    env: { ...process.env },
    ...overrides,
  });
}

function readLog(): LogEntry[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogEntry);
}

/** Lines that were not node-powershell's own delimiters: what our code sent. */
function sentLines(entries = readLog()): string[] {
  return entries.flatMap((e) => (e.event === 'line' && !FRAMING.test(e.line) ? [e.line] : []));
}

function pids(entries = readLog()): number[] {
  return entries.flatMap((e) => (e.event === 'start' ? [e.pid] : []));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM would mean "exists, not ours": still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

async function rejection(promise: Promise<unknown>): Promise<BackendError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BackendError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** Everything that has ever broken a quoted PowerShell string, a here-string or a single command line. */
const HOSTILE = {
  name: "svc'; Remove-Item C:\\ -Recurse -Force; '",
  doubled: 'a"b"; Stop-Computer; "',
  smartSingle: 'x\u2018; Stop-Computer; \u2019y\u201a z\u201b',
  smartDouble: 'x\u201c$(Stop-Computer)\u201d y\u201e',
  subexpression: '$(Remove-Item C:\\ -Recurse)',
  variables: '$env:USERNAME ${function:prompt} @args',
  backticks: 'a`nb`0c`"d``',
  separators: 'a; b | c & d && e || f > g 2>&1',
  newlines: "line1\r\nRemove-Item C:\\\rline3\nline4'",
  hereStringEnds: 'start\n\'@\nStop-Computer\n"@\n@\'\n@"\nend',
  nul: 'before\u0000after',
  stopParsing: '--% -Confirm:$false',
  unicode: 'Ünïcødé ☃ 𝄞 ﹩ ＄',
  big: `${'A'.repeat(100 * 1024)}'$(x)\`\u2019`,
  nested: [{ dn: "CN=O'Brien\\, Pat,OU=Ops,DC=lab,DC=example" }, ['-WhatIf', '@{a=1}']],
};

describe('PowerShellRunner (fake pwsh)', () => {
  it('round-trips a hostile payload, and sends only the setup line and one fixed invocation line', async () => {
    useScenario('echo.json');
    const outcome = await runner().run('Echo-Payload.ps1', HOSTILE);

    // What the script decoded is exactly what was sent.
    expect(outcome).toEqual({ kind: 'result', value: { payload: HOSTILE, result: { ok: true } } });

    const log = readLog();
    expect(pids(log)).toHaveLength(1);
    expect(sentLines(log)).toEqual([
      SETUP_LINE,
      `& '${join(SCRIPTS_DIR, 'Echo-Payload.ps1')}' -PayloadB64 '${encodePayload(HOSTILE)}'`,
    ]);
    // Every received line: 4 delimiter lines around each of the 2 commands, and those 2 commands.
    const received = log.flatMap((e) => (e.event === 'line' ? [e.line] : []));
    expect(received).toHaveLength(10);
    for (const line of received) expect(line).toMatch(/^[\x20-\x7e]*$/); // printable ASCII only, no CR/LF/NUL
    const text = received.join('\n');
    for (const value of stringsIn(HOSTILE)) expect(text.includes(value)).toBe(false);
  });

  it('starts the shell with -NoProfile -NonInteractive -ExecutionPolicy Bypass', async () => {
    useScenario('echo.json');
    await runner().run('Echo-Payload.ps1', {});
    const start = readLog().find((e) => e.event === 'start');
    expect(start).toBeDefined();
    if (start?.event !== 'start') return;
    expect(start.argv.join(' ')).toBe('-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -NoExit -Command -');
  });

  it('uses a fresh process for every run, also concurrent ones', async () => {
    useScenario('echo.json');
    const r = runner();
    const outcomes = await Promise.all([1, 2, 3].map((n) => r.run('Echo-Payload.ps1', { n })));
    expect(outcomes.map((o) => (o.kind === 'result' ? o.value : o))).toEqual(
      [1, 2, 3].map((n) => ({ payload: { n }, result: { ok: true } })),
    );
    const started = pids();
    expect(new Set(started).size).toBe(3);
    for (const pid of started) expect(isAlive(pid)).toBe(false);
  });

  it('imports the configured modules in the setup line', async () => {
    useScenario('echo.json');
    await runner({ importModules: ['ActiveDirectory', 'Microsoft.PowerShell.Security'] }).run('Echo-Payload.ps1', {});
    expect(sentLines()[0]).toBe(
      "$ProgressPreference='SilentlyContinue'; $ErrorActionPreference='Stop'; [Console]::OutputEncoding=[Text.Encoding]::UTF8; " +
        'Import-Module ActiveDirectory; Import-Module Microsoft.PowerShell.Security',
    );
    expect(() => runner({ importModules: ['AD; Stop-Computer'] })).toThrow(/invalid PowerShell module name/);
  });

  it('returns an error record with its fields', async () => {
    useScenario('ad-errors.json');
    const expected = scenario<Record<string, { error: ErrorRecord }>>('ad-errors.json');
    const r = runner();

    const exists = await r.run('New-GmsaAccount.ps1', { name: 'svc-remote' });
    expect(exists).toEqual({ kind: 'error', record: expected['New-GmsaAccount.ps1']?.error });
    expect(exists.kind === 'error' && exists.record.fullyQualifiedErrorId).toBe(
      'ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADIdentityAlreadyExistsException,Microsoft.ActiveDirectory.Management.Commands.NewADServiceAccount',
    );

    const kds = await r.run('New-GmsaAccount-NoKdsKey.ps1', {});
    expect(kds).toMatchObject({
      kind: 'error',
      record: { exceptionType: 'Microsoft.ActiveDirectory.Management.ADException', hresult: -2146893811 },
    });
  });

  it('follows a scenario sequence across processes (server down twice, then an answer)', async () => {
    useScenario('ad-errors.json');
    const r = runner();
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await r.run('Get-ServiceAccount.ps1', { name: 'svc-remote' });
      kinds.push(outcome.kind === 'error' ? (outcome.record.reason ?? '?') : JSON.stringify(outcome));
    }
    const answer = JSON.stringify({ kind: 'result', value: { exists: false } });
    expect(kinds).toEqual(['ADServerDownException', 'ADServerDownException', answer, answer]);
  });

  it('returns remoting errors with the reason that survived the remoting boundary', async () => {
    useScenario('winrm-errors.json');
    const r = runner();
    const broken = await r.run('Register-JeaEndpoint.ps1', {});
    const refused = await r.run('Register-JeaEndpoint.ps1', {});
    const done = await r.run('Register-JeaEndpoint.ps1', {});
    expect(broken).toMatchObject({ kind: 'error', record: { fullyQualifiedErrorId: 'PSSessionStateBroken' } });
    expect(refused).toMatchObject({
      kind: 'error',
      record: { fullyQualifiedErrorId: 'CannotConnect,PSSessionOpenFailed', reason: 'PSRemotingTransportException' },
    });
    expect(done).toMatchObject({ kind: 'result', value: { registered: true } });

    const denied = await r.run('Test-JeaIdentity.ps1', {});
    expect(denied).toMatchObject({
      kind: 'error',
      record: {
        exceptionType: 'System.Management.Automation.RemoteException',
        reason: 'UnauthorizedAccessException',
        category: 'PermissionDenied',
        origin: 'WEB01.lab.example',
      },
    });
  });

  it('ignores noise on stdout and stderr (stderr output does not hide the answer)', async () => {
    useScenario('noise.json');
    const outcome = await runner().run('Get-ServiceAccount.ps1', { name: 'svc-remote' });
    expect(outcome).toEqual({
      kind: 'result',
      value: scenario<Record<string, { result: unknown }>>('noise.json')['Get-ServiceAccount.ps1']?.result,
    });
  });

  it('reports a script that printed no answer as missing, with what pwsh said', async () => {
    useScenario('echo.json');
    const outcome = await runner().run('Not-Deployed.ps1', {});
    expect(outcome.kind).toBe('missing');
    expect(outcome.kind === 'missing' && outcome.output).toMatch(/Not-Deployed\.ps1' is not recognized/);
  });

  it('refuses script names that are not plain file names, before starting anything', async () => {
    useScenario('echo.json');
    const r = runner();
    for (const bad of ['../Echo-Payload.ps1', 'sub/Echo-Payload.ps1', "Echo'.ps1", 'Echo Payload.ps1', 'x.ps1; y']) {
      await expect(r.run(bad, {})).rejects.toThrow(/invalid script name/);
    }
    expect(readLog()).toEqual([]);
  });

  it('stops the process and fails with BackendUnavailable when the script outlives timeoutMs', async () => {
    useScenario('slow.json');
    const started = Date.now();
    const err = await rejection(runner({ timeoutMs: 800 }).run('Get-ServiceAccount.ps1', {}));
    expect(err.type).toBe(FailureType.BackendUnavailable);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('Get-ServiceAccount.ps1');
    expect(err.message).toContain('800 ms');
    expect(Date.now() - started).toBeLessThan(800 + 3000);
    const [pid] = pids();
    expect(pid).toBeDefined();
    expect(isAlive(pid)).toBe(false);
  });

  it('stops the process and fails with TransientFault when the call is cancelled', async () => {
    useScenario('slow.json');
    const controller = new AbortController();
    const run = runWithCallContext({ signal: controller.signal }, () =>
      runner({ timeoutMs: 60_000 }).run('Get-ServiceAccount.ps1', {}),
    );
    // Abort while the script is running, not before the shell is up.
    await waitFor('the invocation line', () => sentLines().some((l) => l.startsWith('& ')));
    const [pid] = pids();
    expect(isAlive(pid)).toBe(true);
    controller.abort();
    const err = await rejection(run);
    expect(err.type).toBe(FailureType.TransientFault);
    expect(err.message).toBe('cancelled; the PowerShell process was stopped');
    expect(isAlive(pid)).toBe(false);
  });

  it('does not start a process for a call that is already cancelled', async () => {
    useScenario('echo.json');
    const err = await rejection(
      runWithCallContext({ signal: AbortSignal.abort() }, () => runner().run('Echo-Payload.ps1', {})),
    );
    expect(err.type).toBe(FailureType.TransientFault);
    expect(readLog()).toEqual([]);
  });

  it('fails with BackendUnavailable naming the executable when it does not exist', async () => {
    process.env.NODE_POWERSHELL = join(dir, 'no-such-pwsh');
    const viaEnv = await rejection(runner().run('Echo-Payload.ps1', {}));
    expect(viaEnv.type).toBe(FailureType.BackendUnavailable);
    expect(viaEnv.message).toContain(join(dir, 'no-such-pwsh'));
    expect(viaEnv.message).toMatch(/not found/);

    delete process.env.NODE_POWERSHELL;
    const viaOption = await rejection(runner({ executable: 'pwsh-not-installed-here' }).run('Echo-Payload.ps1', {}));
    expect(viaOption.type).toBe(FailureType.BackendUnavailable);
    expect(viaOption.message).toContain("'pwsh-not-installed-here'");
  });

  it('fails with BackendUnavailable when the process dies mid-script', async () => {
    useScenario('slow.json');
    const err = await rejection(runner().run('Crash-Midway.ps1', {}));
    expect(err.type).toBe(FailureType.BackendUnavailable);
    expect(err.message).toMatch(/exited unexpectedly while running Crash-Midway\.ps1 \(exit code 3\)$/);
    expect(err.details).toMatchObject({ exitCode: 3 });
  });

  it('heartbeats while a slow script runs, and stops heartbeating after it', async () => {
    useScenario('slow.json');
    const beats: unknown[] = [];
    const outcome = await runWithCallContext({ heartbeat: (detail) => beats.push(detail) }, () =>
      runner({ heartbeatEveryMs: 200 }).run('Wait-Replication.ps1', {}),
    );
    expect(outcome).toEqual({ kind: 'result', value: { converged: true } });
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats[0]).toEqual({ script: 'Wait-Replication.ps1', elapsedMs: expect.any(Number) as number });
    const count = beats.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(beats).toHaveLength(count);
  });

  it('survives a heartbeat that throws', async () => {
    useScenario('slow.json');
    const outcome = await runWithCallContext(
      {
        heartbeat: () => {
          throw new Error('heartbeat broke');
        },
      },
      () => runner({ heartbeatEveryMs: 100 }).run('Wait-Replication.ps1', {}),
    );
    expect(outcome.kind).toBe('result');
  });
});
