/**
 * What the hostile-input suites found and left for production code to fix. Each finding explains some violations
 * (by their text) at some entry points and fields; the matrix tests fail on any violation no finding explains, and
 * every finding has a `test.failing` of its own that asserts the correct behaviour on exactly its cases, so it
 * starts to "fail" (and must be removed from here) the day the fix lands.
 */
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

/**
 * A path segment Win32 opens as a device whatever the directory: CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the
 * superscript digits), CONIN$, CONOUT$, also with an extension or trailing dots and spaces. The suite's own oracle,
 * written apart from the request schema's rule (runbook/request.ts WIN32_DEVICE_SEGMENT), which must refuse at least
 * these: policyFlaws reports an accepted path that holds one.
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

/**
 * None open: F1-F6 (a role principal key refused without its rule, refused keys and domains echoed raw into the CLI's
 * stderr and the workflow's failure, an unpaired surrogate in a URL template answered 503, device names accepted as
 * the transcript directory) are fixed in production code and guarded by the matrix tests and the unit tests of
 * test/runbook, test/cli and test/ticketing.
 */
export const FINDINGS: readonly KnownFinding[] = [];

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
