/**
 * The wire protocol between the worker and PowerShell. Values never become script text: each call is ONE line
 * that runs a fixed script file with one base64 argument (UTF-8 JSON), and the script answers with one marked
 * line of base64 JSON: a result, or the error record it caught. Base64 has no quotes, `$`, backticks or newlines,
 * so no value can change the meaning of the line (ecosystem.md §2).
 */
import { z } from 'zod';

export const RESULT_MARKER = '@@RESULT@@';
export const ERROR_MARKER = '@@ERROR@@';

/** What a script reports about an exception it caught (the parts classification needs). */
export const ErrorRecordSchema = z.object({
  /** .NET type of the exception, e.g. Microsoft.ActiveDirectory.Management.ADIdentityAlreadyExistsException. */
  exceptionType: z.string(),
  message: z.string(),
  /** $_.FullyQualifiedErrorId, e.g. ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADServerDownException,… */
  fullyQualifiedErrorId: z.string().nullable().default(null),
  /** $_.CategoryInfo.Reason: for errors that crossed a remoting boundary, the original exception's type name. */
  reason: z.string().nullable().default(null),
  category: z.string().nullable().default(null),
  hresult: z.number().nullable().default(null),
  /** ADException.ErrorCode and the like, when the exception has one. */
  errorCode: z.number().nullable().default(null),
  /** The computer the error came from, for remote errors. */
  origin: z.string().nullable().default(null),
});
export type ErrorRecord = z.output<typeof ErrorRecordSchema>;

export type ScriptOutcome =
  { kind: 'result'; value: unknown } | { kind: 'error'; record: ErrorRecord } | { kind: 'missing'; output: string };

export function encodePayload(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}

/** The single line sent to the shell: a fixed path and a base64 argument. */
export function invocationLine(scriptPath: string, payload: unknown): string {
  if (/['\u2018-\u201b\r\n]/.test(scriptPath)) throw new Error(`unsafe script path: ${scriptPath}`);
  return `& '${scriptPath}' -PayloadB64 '${encodePayload(payload)}'`;
}

/** Find the marked line in what the script printed; everything else is diagnostics. */
export function parseScriptOutput(stdout: string): ScriptOutcome {
  for (const raw of stdout.split(/\r?\n/).reverse()) {
    const line = raw.trim();
    for (const [marker, kind] of [
      [RESULT_MARKER, 'result'],
      [ERROR_MARKER, 'error'],
    ] as const) {
      if (!line.startsWith(marker)) continue;
      const json: unknown = JSON.parse(Buffer.from(line.slice(marker.length), 'base64').toString('utf8'));
      if (kind === 'result') return { kind, value: json };
      return { kind, record: ErrorRecordSchema.parse(json) };
    }
  }
  return { kind: 'missing', output: stdout.slice(-2000) };
}
