/**
 * Hostile values in every string field of a request: the schema refuses what it must (naming the field), and what
 * it lets through reaches PowerShell only as base64 data.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   the corpus writes values into arbitrary fields of an untyped request, as a webhook or a file would */
import { parseRunbookRequest, RunbookRequestError, type RunbookRequest } from '../../runbook/request';
import { encodePayload, invocationLine } from '../../backends/powershell/protocol';
import { HOSTILE_VALUES } from '../support/hostile-values';
import { sampleRequest } from '../support/runbook-env';

const FIELDS: [string, (r: any, v: string) => void][] = [
  ['ticket.key', (r, v) => (r.ticket.key = v)],
  ['domain.netbios', (r, v) => (r.domain.netbios = v)],
  ['domain.dns', (r, v) => (r.domain.dns = v)],
  ['gmsa.name', (r, v) => (r.gmsa.name = v)],
  ['gmsa.description', (r, v) => (r.gmsa.description = v)],
  ['hosts[0]', (r, v) => (r.hosts = [v])],
  ['endpoint.name', (r, v) => (r.endpoint.name = v)],
  ['endpoint.transcriptDirectory', (r, v) => (r.endpoint.transcriptDirectory = v)],
  ['endpoint.roleDefinitions', (r, v) => (r.endpoint.roleDefinitions = { [v]: { roleCapabilities: ['X'] } })],
  [
    'endpoint.roleDefinitions.LAB\\JEA-Operators.roleCapabilities[0]',
    (r, v) => (r.endpoint.roleDefinitions = { 'LAB\\JEA-Operators': { roleCapabilities: [v] } }),
  ],
  ['principals.group', (r, v) => (r.principals = { mode: 'group', group: v })],
  ['requestedBy', (r, v) => (r.requestedBy = v)],
];

/** Fields whose values reach AD or a host; free text is allowed only where the rules allow it. */
const FREE_TEXT = new Set(['gmsa.description', 'requestedBy']);

test.each(FIELDS)('%s: every hostile value is refused naming the field, or is inert data', (field, set) => {
  let accepted = 0;
  for (const value of HOSTILE_VALUES) {
    const input = structuredClone(sampleRequest()) as any;
    set(input, value);
    let request: RunbookRequest;
    try {
      request = parseRunbookRequest(input);
    } catch (err) {
      expect(err).toBeInstanceOf(RunbookRequestError);
      const fields = (err as RunbookRequestError).problems.map((p) => p.field);
      expect(fields.some((f) => f.startsWith(field.split('.')[0]))).toBe(true);
      continue;
    }
    accepted++;
    expect(FREE_TEXT.has(field)).toBe(true); // identifiers never accept hostile text
    // What would be sent for it: one line with the script path and base64; the value only inside the base64.
    const line = invocationLine('C:\\gmsa-runbooks\\scripts\\New-ServiceAccount.ps1', { request });
    expect(line).not.toContain(value);
    expect(line).toContain(encodePayload({ request }));
  }
  if (!FREE_TEXT.has(field)) expect(accepted).toBe(0);
});
