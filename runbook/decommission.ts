/**
 * What decommissioning did to a provisioned target, item by item. Every item that provisioning may have left is
 * listed with how it ended, so a re-run after a partial failure shows what the first run already took away, and
 * a human sees exactly what is left for them. Pure TypeScript.
 */

export type DecommissionItemKind = 'endpoint' | 'group-member' | 'principal' | 'gmsa' | 'schedule';

/**
 * removed: this run took it away. absent: already gone (an earlier run, or a human). left-alone: present but not
 * this tool's (no mark of the provisioning run, or adopted), so it stays. kept: the schedule, held (paused) while
 * something else failed, so the decommission can be re-run from it. failed: still there after the retries.
 */
export type DecommissionOutcome = 'removed' | 'absent' | 'left-alone' | 'kept' | 'failed';

export interface DecommissionItem {
  kind: DecommissionItemKind;
  /** What it is: the host for an endpoint, the account for a principal or member, the gMSA, the schedule id. */
  subject: string;
  /** Where it was acted on: the host or the DC (empty when not applicable). */
  where: string;
  outcome: DecommissionOutcome;
  detail?: string;
}

export interface DecommissionReport {
  gmsaName: string;
  workflowId: string;
  /** incomplete: at least one item failed; the run ends failed (RollbackIncomplete) with this report. */
  status: 'decommissioned' | 'incomplete';
  /** The writable DC the directory changes were made on (null when none answered). */
  dc: string | null;
  items: DecommissionItem[];
  startedAt: string;
  finishedAt: string;
}

export function decommissionWorkflowId(gmsaName: string): string {
  return `gmsa-decommission-${gmsaName}`;
}

export function itemsWith(report: DecommissionReport, outcome: DecommissionOutcome): DecommissionItem[] {
  return report.items.filter((i) => i.outcome === outcome);
}

export function describeItem(item: DecommissionItem): string {
  const where = item.where ? ` on ${item.where}` : '';
  return `${item.kind} ${item.subject}${where}${item.detail ? ` (${item.detail})` : ''}`;
}

/** The report as terminal or ticket lines, removed first, then what stays and why, then what failed. */
export function describeDecommission(report: DecommissionReport): string[] {
  const section = (title: string, outcome: DecommissionOutcome) => {
    const items = itemsWith(report, outcome);
    return items.length ? [`${title}:`, ...items.map((i) => `  - ${describeItem(i)}`)] : [];
  };
  return [
    ...section('Removed', 'removed'),
    ...section('Already gone', 'absent'),
    ...section('Left alone (not created by this tool)', 'left-alone'),
    ...section('Kept for a re-run', 'kept'),
    ...section('FAILED, needs a human', 'failed'),
  ];
}
