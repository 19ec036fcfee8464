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
