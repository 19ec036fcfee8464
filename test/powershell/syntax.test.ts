/**
 * The PowerShell scripts cannot run here (no pwsh on Linux CI), but they can at least be proven to parse: a
 * missing brace found on the Windows host in the middle of a runbook is a failed change, found here it is a red test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePowerShell } from '../support/powershell-syntax';

const SCRIPTS_DIR = join(__dirname, '..', '..', 'backends', 'powershell', 'scripts');

/** Every script, module and data file under scripts/, subfolders included (host-side scripts live in host/). */
function listScripts(): string[] {
  try {
    return readdirSync(SCRIPTS_DIR, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ps[dm]?1$/i.test(f))
      .map((f) => f.split('\\').join('/'))
      .sort();
  } catch {
    return [];
  }
}

describe('backends/powershell/scripts', () => {
  const scripts = listScripts();

  // An empty folder would make the per-script tests vanish and the suite pass with nothing checked.
  it('has scripts to check', () => {
    expect(scripts.length).toBeGreaterThan(0);
  });

  it.each(scripts)('%s parses without syntax errors', async (name) => {
    const report = await parsePowerShell(readFileSync(join(SCRIPTS_DIR, name), 'utf8'));
    expect(report.errors).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('parsePowerShell', () => {
  it('accepts a script in the shape our scripts use', async () => {
    const report = await parsePowerShell(
      [
        "param([Parameter(Mandatory)][ValidatePattern('^[A-Za-z0-9+/=]+$')][string]$PayloadB64)",
        "$ErrorActionPreference = 'Stop'",
        'try {',
        '  $in = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($PayloadB64)) | ConvertFrom-Json',
        '  $p = @{ Name = [string]$in.name; PassThru = $true }',
        '  $acct = New-ADServiceAccount @p',
        '  [Console]::Out.WriteLine(\'@@RESULT@@\' + "$($acct.SID)")',
        '} catch [Microsoft.ActiveDirectory.Management.ADIdentityAlreadyExistsException] {',
        "  $text = @'",
        "it's a here-string",
        "'@",
        '}',
      ].join('\n'),
    );
    expect(report).toEqual({ ok: true, errors: [] });
  });

  it('accepts a session configuration hashtable (.pssc)', async () => {
    const report = await parsePowerShell(
      "@{\n  SchemaVersion = '2.0.0.0'\n  SessionType = 'RestrictedRemoteServer'\n" +
        "  GroupManagedServiceAccount = 'LAB\\svc-remote'\n  RoleDefinitions = @{ 'LAB\\ops' = @{ RoleCapabilities = 'Probe' } }\n}\n",
    );
    expect(report.ok).toBe(true);
  });

  it('finds an unclosed brace, with its line', async () => {
    const report = await parsePowerShell("$x = 1\nif ($x) {\n  Write-Output 'in'\n");
    expect(report.ok).toBe(false);
    expect(report.errors.length).toBeGreaterThan(0);
    // tree-sitter reports the missing `}` where it expected it: at or after the opening line.
    expect(report.errors.some((e) => e.text.includes('}') || e.text.startsWith('ERROR'))).toBe(true);
    expect(report.errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('finds an unclosed string, with its line', async () => {
    const report = await parsePowerShell("Write-Output 'ok'\n\nWrite-Output 'abc\n");
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.line)).toContain(3);
  });

  it('finds a broken hashtable entry, with its line', async () => {
    const report = await parsePowerShell("@{\n  SchemaVersion = '2.0.0.0'\n  SessionType =\n}\n");
    expect(report.ok).toBe(false);
    expect(report.errors[0]).toEqual(expect.objectContaining({ line: expect.any(Number) as number }));
    expect(report.errors.some((e) => e.line === 3 || e.line === 4)).toBe(true);
  });

  it('finds a bad operator', async () => {
    const report = await parsePowerShell('$a = 1 +* 2');
    expect(report.ok).toBe(false);
    expect(report.errors[0]).toMatchObject({ line: 1 });
  });
});
