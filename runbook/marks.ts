/**
 * The mark a run leaves on what it creates (gMSA description, pssc description). Rollback removes only objects
 * that carry the run's own mark, so nothing that existed before the run is ever removed.
 */
export function runMark(workflowId: string, runId: string): string {
  // The run id matters: a ticket re-run reuses the workflow id, and must not mistake a leftover of the earlier
  // run for its own work.
  return `[gmsa-runbooks:${workflowId}/${runId}]`;
}

export function carriesMark(text: string | null | undefined, mark: string): boolean {
  return typeof text === 'string' && text.includes(mark);
}

/** Any gmsa-runbooks mark, whichever run left it. */
export function carriesAnyMark(text: string | null | undefined): boolean {
  return typeof text === 'string' && /\[gmsa-runbooks:[^\]]+\]/.test(text);
}
