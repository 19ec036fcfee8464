/**
 * What the hostile-input suites found and left for production code to fix. Each finding explains some violations
 * (by their text) at some entry points and fields; the matrix tests fail on any violation no finding explains, and
 * every finding has a `test.failing` of its own that asserts the correct behaviour on exactly its cases, so it
 * starts to "fail" (and must be removed from here) the day the fix lands.
 */
import { FQDN_PATTERN, ROLE_PRINCIPAL_PATTERN } from '../../../runbook/request';

export type EntryPoint = 'cli' | 'generic' | 'jira' | 'servicenow' | 'workflow';

export interface KnownFinding {
  id: string;
  /** What happens, where, and what should happen instead. */
  summary: string;
  entries: readonly EntryPoint[];
  /** The request field, or for ticket sources the payload path. */
  fields: readonly string[];
  /** The values whose cases show it (the failing test runs only these). */
  values(value: string): boolean;
  /** Whether a violation's text is this finding. */
  explains(violation: string): boolean;
}

/** An unpaired UTF-16 surrogate: not encodable as UTF-8, refused by encodeURIComponent. */
export function hasLoneSurrogate(value: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

/**
 * A path segment Win32 opens as a device whatever the directory: CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the
 * superscript digits), CONIN$, CONOUT$, also with an extension or trailing dots and spaces.
 */
export function deviceSegment(path: string): string | undefined {
  return path
    .split(/[\\/]/)
    .find((segment) =>
      /^(CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3]|CONIN\$|CONOUT\$)(\.[^.]*)?[. ]*$/i.test(
        segment,
      ),
    );
}

export const FINDINGS: readonly KnownFinding[] = [
  {
    id: 'F1 role principal rule lost',
    summary:
      'endpoint.roleDefinitions: a principal key that fails ROLE_PRINCIPAL_PATTERN is refused with zod\'s generic "Invalid ' +
      'key in record" instead of the schema\'s rule ("must be a principal like LAB\\JEA-Operators"): the requester is not ' +
      'told what a principal must look like. Every entry point (CLI exit 2, webhook 422, workflow RequestInvalid).',
    entries: ['cli', 'generic', 'workflow'],
    fields: ['endpoint.roleDefinitions'],
    values: (v) => v !== '__proto__' && !ROLE_PRINCIPAL_PATTERN.test(v),
    explains: (violation) => violation.includes('no rule ("Invalid key in record")'),
  },
  {
    id: 'F2 refused principal key echoed raw',
    summary:
      'endpoint.roleDefinitions: the refused key itself becomes the problem\'s field name ("endpoint.roleDefinitions.<key>"), ' +
      'so `gmsa-runbook start` prints it raw to stderr: ESC/CSI sequences, CR, BEL and the C1 controls reach the ' +
      "operator's terminal (a key of \\u001b[2J clears the screen, \\r overwrites the line), an unpaired surrogate is " +
      'printed as U+FFFD (the field named is not the one sent), and a 1,000,000-character key makes a 1 MB error line. ' +
      'The field should be named without the key (or with it escaped and bounded).',
    entries: ['cli'],
    fields: ['endpoint.roleDefinitions'],
    values: (v) => !ROLE_PRINCIPAL_PATTERN.test(v),
    explains: (violation) => violation.startsWith('the refusal printed on stderr'),
  },
  {
    id: 'F5 refused domain echoed raw in the hosts rule',
    summary:
      "domain.dns: the request's cross-field rule (runbook/request.ts superRefine) still runs when domain.dns itself is " +
      'refused, and adds "hosts[i]: must be a host in the domain <domain.dns> (got …)" with the refused value inside: ' +
      '`gmsa-runbook start` prints it raw, so its ESC/CSI sequences, CR, BEL and C1 controls reach the terminal (an ' +
      'unpaired surrogate comes out as U+FFFD), and a ' +
      '1,000,000-character domain makes a 1 MB error line. The extra problem should be skipped when domain.dns is ' +
      'invalid (it only restates that problem), or the value escaped and bounded.',
    entries: ['cli'],
    fields: ['domain.dns'],
    values: (v) => !FQDN_PATTERN.test(v),
    explains: (violation) => violation.startsWith('the refusal printed on stderr'),
  },
  {
    id: 'F6 refused value echoed into the workflow failure',
    summary:
      'Direct workflow start: the refused role principal key (F2) and the refused domain (F5) are echoed into the ' +
      "RequestInvalid failure's message and details. An unpaired surrogate in them turns into U+FFFD in the message " +
      '(it no longer names the field that was sent), and a 1,000,000-character key makes the failure ~3 MB: the ' +
      'worker cannot complete the workflow task ("BadFailWorkflowExecutionAttributes: FailWorkflowExecutionCommand' +
      'Attributes.Failure exceeds size limit"), so the run ends without the typed, non-retryable RequestInvalid that ' +
      'callers match on. Fixing F2/F5 (not echoing the value) fixes this.',
    entries: ['workflow'],
    fields: ['endpoint.roleDefinitions', 'domain.dns'],
    values: (v) => v.length > 100_000 || hasLoneSurrogate(v),
    explains: (violation) =>
      /the message does not list (endpoint\.roleDefinitions\.|hosts\[)/.test(violation) ||
      /exceeds size limit|failed without an ApplicationFailure/.test(violation),
  },
  {
    id: 'F3 unpaired surrogate in a templated field is a 503',
    summary:
      'Jira issue.key and ServiceNow sys_id feed the ticket.url templates, which encodeURIComponent the value; an unpaired ' +
      'UTF-16 surrogate (valid JSON: "\\ud800") makes it throw URIError, which the server answers as 503 "could not reach ' +
      'the workflow service; retry later" with Retry-After and releases the delivery id: the sender retries a bad ' +
      'ticket forever and nobody is told which field is wrong. Expected: 422 naming ticket.key / ticket.url.',
    entries: ['jira', 'servicenow'],
    fields: ['issue.key', 'sys_id'],
    values: hasLoneSurrogate,
    explains: (violation) => violation.startsWith('answered 503'),
  },
  {
    id: 'F4 transcript directory may be a device',
    summary:
      'endpoint.transcriptDirectory: WINDOWS_PATH_PATTERN is documented as "an absolute local Windows path without ' +
      'wildcards or device names" but accepts C:\\NUL, C:\\CON\\, C:\\AUX.txt and C:\\ProgramData\\JEA\\Transcripts\\COM1: ' +
      'Win32 opens those as devices, so a JEA endpoint registered from such a request writes its transcripts to NUL (the ' +
      'audit trail silently discarded). The lab stores the text verbatim, so only the rule can catch it.',
    entries: ['cli', 'generic', 'workflow'],
    fields: ['endpoint.transcriptDirectory'],
    values: (v) => deviceSegment(v) !== undefined,
    explains: (violation) => violation.includes('Win32 device name'),
  },
];

/** The finding that explains a violation at this entry point and field, if any. */
export function explainedBy(entry: EntryPoint, field: string, violation: string): KnownFinding | undefined {
  return FINDINGS.find((f) => f.entries.includes(entry) && f.fields.includes(field) && f.explains(violation));
}

/** Accepted values that the request's own documented rules say must be refused. */
export function policyFlaws(field: string, value: string): string[] {
  if (field === 'endpoint.transcriptDirectory') {
    const device = deviceSegment(value);
    if (device !== undefined) return [`accepted a path whose segment ${JSON.stringify(device)} is a Win32 device name`];
  }
  return [];
}
