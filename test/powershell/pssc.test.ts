/** The .pssc is rendered from the typed object, parses as PowerShell, and the lint refuses what breaks JEA. */
import { lintSessionConfiguration, psSingleQuoted, renderPssc } from '../../backends/powershell/pssc';
import { parseRunbookRequest } from '../../runbook/request';
import { buildSessionConfiguration, type SessionConfigurationFile } from '../../runbook/session-configuration';
import { HOSTILE_VALUES } from '../support/hostile-values';
import { parsePowerShell } from '../support/powershell-syntax';
import { sampleRequest } from '../support/runbook-env';

function sampleConfiguration(overrides: Partial<SessionConfigurationFile> = {}): SessionConfigurationFile {
  const request = parseRunbookRequest(sampleRequest());
  return {
    ...buildSessionConfiguration({
      endpoint: request.endpoint,
      domainNetbios: 'LAB',
      gmsaName: 'TestgMSA',
      mark: '[gmsa-runbooks:gmsa-provision-OPS-1/run-1]',
    }),
    ...overrides,
  };
}

test('the rendered .pssc parses, and carries the gMSA, roles, transcripts and the identity probe', async () => {
  const text = renderPssc(sampleConfiguration());
  expect((await parsePowerShell(text)).errors).toEqual([]);
  expect(text).toContain("SessionType = 'RestrictedRemoteServer'");
  expect(text).toContain("GroupManagedServiceAccount = 'LAB\\TestgMSA'");
  expect(text).toContain("TranscriptDirectory = 'C:\\ProgramData\\JEA\\Transcripts'");
  expect(text).toContain("'LAB\\JEA-Operators' = @{ RoleCapabilities = @('GmsaRemotingOperator') }");
  expect(text).toContain("VisibleFunctions = @('Get-GmsaRunbookIdentity')");
  expect(text).toContain('[System.Security.Principal.WindowsIdentity]::GetCurrent().Name');
  expect(text).not.toMatch(/RunAsVirtualAccount|RunAsCredential/);
});

const PS_SINGLE_QUOTES = new Set(["'", '\u2018', '\u2019', '\u201a', '\u201b']);

function scanSingleQuoted(text: string): { end: number; value: string } {
  if (!PS_SINGLE_QUOTES.has(text[0])) throw new Error('not a single-quoted literal');
  let value = '';
  for (let i = 1; i < text.length; i++) {
    if (!PS_SINGLE_QUOTES.has(text[i])) {
      value += text[i];
    } else if (PS_SINGLE_QUOTES.has(text[i + 1])) {
      value += text[i];
      i++;
    } else {
      return { end: i + 1, value };
    }
  }
  throw new Error('unterminated string');
}

test('every hostile value without control characters renders as one inert single-quoted literal', async () => {
  for (const value of HOSTILE_VALUES.filter((v) => !/\p{Cc}/u.test(v))) {
    const literal = psSingleQuoted(value);
    const report = await parsePowerShell(`$x = ${literal}`);
    expect(report.errors).toEqual([]);
    // Tokenize as PowerShell does (tokenizer.cs: a single-quote character followed by another one is an escaped
    // quote, any other one ends the string): the string must end exactly at the literal's last character and
    // yield the value. The grammar above does not know the typographic quotes, so this is the real check.
    expect(scanSingleQuoted(literal)).toEqual({ end: literal.length, value });
  }
});

test('control characters (newlines, NUL) are refused, not rendered', () => {
  expect(() => psSingleQuoted('a\nb')).toThrow(/control character/);
  expect(() => psSingleQuoted('a\u0000b')).toThrow(/control character/);
});

test('only the project’s own function bodies are rendered', () => {
  expect(() =>
    renderPssc(
      sampleConfiguration({
        functionDefinitions: [{ name: 'Get-GmsaRunbookIdentity', scriptBlock: 'Remove-Item C:\\' }],
      }),
    ),
  ).toThrow(/only the project's own function bodies/);
});

test('the lint refuses a virtual account, a RunAs credential, a built-in name, no transcripts, an unrestricted session', () => {
  const cfg = sampleConfiguration({ name: 'Microsoft.PowerShell', transcriptDirectory: ' ', sessionType: 'Default' });
  const rendered = `${renderPssc(cfg)}\nRunAsVirtualAccount = $true\n# -RunAsCredential LAB\\TestgMSA$`;
  const rules = lintSessionConfiguration(cfg, rendered, { allowUnrestrictedSessionType: false }).map((p) => p.rule);
  expect(rules.sort()).toEqual([
    'no-builtin-endpoint',
    'no-runas-credential',
    'no-virtual-account',
    'restricted-session',
    'transcripts-required',
  ]);
  expect(
    lintSessionConfiguration(sampleConfiguration(), renderPssc(sampleConfiguration()), {
      allowUnrestrictedSessionType: false,
    }),
  ).toEqual([]);
  const allowed = sampleConfiguration({ sessionType: 'Default' });
  expect(lintSessionConfiguration(allowed, renderPssc(allowed), { allowUnrestrictedSessionType: true })).toEqual([]);
});
