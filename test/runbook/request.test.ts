/** Each rule of the request contract rejects its bad input with a message that names the field. */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access --
   these tests build deliberately ill-typed requests, as a file or a webhook would send them */
import { parseRunbookRequest, RunbookRequestError, type RunbookRequestInput } from '../../runbook/request';
import { sampleRequest } from '../support/runbook-env';

function problemsFor(mutate: (r: Record<string, any>) => void): { field: string; rule: string }[] {
  const request = structuredClone(sampleRequest()) as Record<string, any>;
  mutate(request);
  try {
    parseRunbookRequest(request);
  } catch (err) {
    expect(err).toBeInstanceOf(RunbookRequestError);
    expect((err as Error).message).toContain('invalid runbook request');
    return (err as RunbookRequestError).problems;
  }
  throw new Error('the request was accepted');
}

test('the sample request is valid and gets its defaults', () => {
  const r = parseRunbookRequest(sampleRequest());
  expect(r.endpoint.sessionType).toBe('RestrictedRemoteServer');
  expect(r.principals).toEqual({ mode: 'hosts' });
  expect(r.gmsa.kerberosEncryptionTypes).toEqual(['AES128', 'AES256']);
  expect(r.maxParallelHosts).toBe(4);
  expect(r.dryRun).toBe(false);
});

test('names are normalised: hosts and DNS lower-case, NetBIOS upper-case', () => {
  const input: RunbookRequestInput = {
    ...sampleRequest(),
    hosts: ['SERVER1.LAB.LOCAL'],
    domain: { netbios: 'lab', dns: 'LAB.local' },
  };
  const r = parseRunbookRequest(input);
  expect(r.hosts).toEqual(['server1.lab.local']);
  expect(r.domain).toEqual({ netbios: 'LAB', dns: 'lab.local' });
});

test.each<[string, (r: Record<string, any>) => void, string, RegExp]>([
  ['gMSA name longer than 14', (r) => (r.gmsa.name = 'abcdefghijklmno'), 'gmsa.name', /1-14 characters/],
  ['gMSA name with a $', (r) => (r.gmsa.name = 'svc$'), 'gmsa.name', /letters, digits and -/],
  ['gMSA name starting with -', (r) => (r.gmsa.name = '-svc'), 'gmsa.name', /starting with a letter or digit/],
  ['gMSA name with spaces', (r) => (r.gmsa.name = 'svc remote'), 'gmsa.name', /1-14 characters/],
  ['host that is not an FQDN', (r) => (r.hosts = ['server1']), 'hosts[0]', /fully qualified DNS name/],
  ['host outside the domain', (r) => (r.hosts = ['server1.other.local']), 'hosts[0]', /in the domain lab.local/],
  ['no hosts', (r) => (r.hosts = []), 'hosts', /at least one host/],
  ['the same host twice', (r) => (r.hosts = ['server1.lab.local', 'server1.lab.local']), 'hosts', /twice/],
  ['built-in endpoint name', (r) => (r.endpoint.name = 'Microsoft.PowerShell'), 'endpoint.name', /Microsoft\.\*/],
  [
    'built-in endpoint name, other case',
    (r) => (r.endpoint.name = 'microsoft.powershell32'),
    'endpoint.name',
    /built-in/,
  ],
  ['endpoint name with a quote', (r) => (r.endpoint.name = "x'; rm"), 'endpoint.name', /letters, digits/],
  [
    'session type other than RRS',
    (r) => (r.endpoint.sessionType = 'Default'),
    'endpoint.sessionType',
    /RestrictedRemoteServer unless/,
  ],
  [
    'unknown session type',
    (r) => (r.endpoint.sessionType = 'DefaultRemoteShell'),
    'endpoint.sessionType',
    /expected one of|Invalid option/i,
  ],
  [
    'no role definitions',
    (r) => (r.endpoint.roleDefinitions = {}),
    'endpoint.roleDefinitions',
    /at least one principal/,
  ],
  [
    'relative transcript directory',
    (r) => (r.endpoint.transcriptDirectory = 'transcripts'),
    'endpoint.transcriptDirectory',
    /absolute local Windows path/,
  ],
  ['NetBIOS name with a dot', (r) => (r.domain.netbios = 'lab.local'), 'domain.netbios', /NetBIOS/],
  ['DNS domain that is one label', (r) => (r.domain.dns = 'lab'), 'domain.dns', /fully qualified/],
  ['ticket key with spaces', (r) => (r.ticket.key = 'OPS 1'), 'ticket.key', /ticket key/],
  ['group mode without a group', (r) => (r.principals = { mode: 'group' }), 'principals.group', /./],
  ['fan-out of zero', (r) => (r.maxParallelHosts = 0), 'maxParallelHosts', /at least 1/],
  [
    'replication poll interval of zero',
    (r) => (r.replication = { pollIntervalSeconds: 0 }),
    'replication.pollIntervalSeconds',
    /at least 0.1/,
  ],
  [
    'description with a control character',
    (r) => (r.gmsa.description = 'a\u0007b'),
    'gmsa.description',
    /control characters/,
  ],
])('%s is refused, naming %s', (_what, mutate, field, rule) => {
  const problems = problemsFor(mutate);
  const problem = problems.find((p) => p.field === field);
  expect(problem).toBeDefined();
  expect(problem?.rule).toMatch(rule);
});

test('every failing field is reported at once', () => {
  const problems = problemsFor((r) => {
    r.gmsa.name = 'much-too-long-for-sam';
    r.hosts = ['not-an-fqdn'];
    r.endpoint.name = 'Microsoft.Exchange';
  });
  expect(problems.map((p) => p.field).sort()).toEqual(['endpoint.name', 'gmsa.name', 'hosts[0]']);
});

/** Characters a terminal would act on but the newline, and unpaired surrogates (UTF-8 cannot carry them). */
const UNSAFE = /[^\P{Cc}\n]|[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const roleKey = (key: string) => (r: Record<string, any>) =>
  (r.endpoint.roleDefinitions = { [key]: { roleCapabilities: ['GmsaRemotingOperator'] } });

function refusal(mutate: (r: Record<string, any>) => void): RunbookRequestError {
  const request = structuredClone(sampleRequest()) as Record<string, any>;
  mutate(request);
  try {
    parseRunbookRequest(request);
  } catch (err) {
    if (err instanceof RunbookRequestError) return err;
    throw err;
  }
  throw new Error('the request was accepted');
}

describe('a role principal key that breaks its rule (a key is not a field)', () => {
  test('is refused with the principal rule, naming the record and the key, not "Invalid key in record"', () => {
    expect(problemsFor(roleKey("a'b"))).toEqual([
      { field: 'endpoint.roleDefinitions', rule: 'must be a principal like LAB\\JEA-Operators (got "a\'b")' },
    ]);
  });

  test('two bad keys: two problems, each saying which key', () => {
    const problems = problemsFor((r) => {
      r.endpoint.roleDefinitions = {
        'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRemotingOperator'] },
        'LAB\\x;y': { roleCapabilities: ['A'] },
        '*': { roleCapabilities: ['B'] },
      };
    });
    expect(problems.map((p) => p.field)).toEqual(['endpoint.roleDefinitions', 'endpoint.roleDefinitions']);
    expect(problems.map((p) => p.rule)).toEqual([
      'must be a principal like LAB\\JEA-Operators (got "LAB\\\\x;y")',
      'must be a principal like LAB\\JEA-Operators (got "*")',
    ]);
  });

  test.each([
    ['an ESC/CSI sequence that clears the screen', '\u001b[2J\u001b[H', '\\u001b[2J\\u001b[H'],
    ['CR, BEL and a C1 control', 'a\rb\u0007c\u009b', 'a\\rb\\u0007c\\u009b'],
    ['an unpaired surrogate', 'a\ud800b', 'a\\ud800b'],
    ['a right-to-left override', 'Test\u202egMSA', 'Test\\u202egMSA'],
    ['a newline that would forge another problem line', 'x\n  - gmsa.name: ok', 'x\\n  - gmsa.name: ok'],
  ])('%s in the key comes out escaped, in the rule only', (_what, key, shown) => {
    const err = refusal(roleKey(key));
    expect(err.problems).toEqual([
      { field: 'endpoint.roleDefinitions', rule: `must be a principal like LAB\\JEA-Operators (got "${shown}")` },
    ]);
    expect(err.message).toBe(`invalid runbook request:\n  - endpoint.roleDefinitions: ${err.problems[0].rule}`);
    expect(err.message).not.toMatch(UNSAFE);
  });

  test('a megabyte key is shown cut short, with its length: a short error', () => {
    const err = refusal(roleKey('x'.repeat(1_000_000)));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0].field).toBe('endpoint.roleDefinitions');
    expect(err.problems[0].rule).toMatch(
      /^must be a principal like LAB\\JEA-Operators \(got "x{64}…" \(1000000 characters\)\)$/,
    );
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('a refused domain.dns is not echoed through the hosts rule', () => {
  test.each([
    ['terminal escapes', '\u001b[31mred\u001b[0m'],
    ['an unpaired surrogate', 'lab\ud800.local'],
    ['a megabyte', 'x'.repeat(1_000_000)],
  ])('%s: one problem, the domain rule, nothing of the value', (_what, dns) => {
    const err = refusal((r) => (r.domain.dns = dns));
    expect(err.problems).toEqual([
      { field: 'domain.dns', rule: 'must be a fully qualified DNS name (the AD domain), like server1.lab.local' },
    ]);
    expect(err.message).not.toMatch(UNSAFE);
    expect(err.message.length).toBeLessThan(200);
  });

  test('with a valid domain, hosts outside it are still named', () => {
    expect(problemsFor((r) => (r.hosts = ['server1.other.local']))).toEqual([
      { field: 'hosts[0]', rule: 'must be a host in the domain lab.local (got server1.other.local)' },
    ]);
  });
});

describe('endpoint.transcriptDirectory: no Win32 device name as a folder or file name', () => {
  test.each([
    'C:\\NUL',
    'C:\\CON\\',
    'C:\\AUX.txt',
    'C:\\ProgramData\\JEA\\Transcripts\\COM1',
    'C:\\prn',
    'C:\\Logs\\lpt9\\x',
    'C:\\NUL.',
    'C:\\NUL...',
    'C:\\NUL ',
    'C:\\nul .log',
    'C:\\COM0',
    'C:\\CON.tar.gz',
    'C:\\COM\u00b9',
    'C:\\CONIN$',
    'C:\\conout$\\',
  ])('%s is refused, naming the rule', (path) => {
    const problems = problemsFor((r) => (r.endpoint.transcriptDirectory = path));
    expect(problems.map((p) => p.field)).toContain('endpoint.transcriptDirectory');
    expect(problems.find((p) => /Win32 device name/.test(p.rule))).toEqual({
      field: 'endpoint.transcriptDirectory',
      rule: expect.stringMatching(
        /^must not contain a Win32 device name \(CON, PRN, AUX, NUL, COM0-9, LPT0-9/,
      ) as unknown,
    });
  });

  test.each(['C:\\NULL', 'C:\\CONSOLE', 'C:\\COM10', 'C:\\Logs\\AUXILIARY', 'C:\\ProgramData\\JEA\\Transcripts'])(
    '%s is accepted (not a device)',
    (path) => {
      const input = { ...sampleRequest(), endpoint: { ...sampleRequest().endpoint, transcriptDirectory: path } };
      expect(parseRunbookRequest(input).endpoint.transcriptDirectory).toBe(path);
    },
  );

  test('a long path that fails the pattern is refused at once (no backtracking blow-up)', () => {
    const started = Date.now();
    const problems = problemsFor((r) => (r.endpoint.transcriptDirectory = `C:\\${'a'.repeat(5000)}*`));
    expect(problems.map((p) => p.field)).toEqual(['endpoint.transcriptDirectory']);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

test('a refusal lists at most 100 problems and says how many more there are', () => {
  const err = refusal((r) => (r.hosts = Array.from({ length: 150 }, (_, i) => `host${i}`)));
  expect(err.problems).toHaveLength(150);
  const lines = err.message.split('\n');
  expect(lines).toHaveLength(1 + 100 + 1);
  expect(lines[100]).toBe(`  - hosts[99]: ${err.problems[99].rule}`);
  expect(lines[101]).toBe('  … and 50 more problems');
});
