/**
 * What a runbook tells its ticket, and when. The workflow decides the milestone and the words; adapters
 * (ticketing/) turn an update into a Jira comment, a ServiceNow work note, or a log line. Pure TypeScript.
 */
export const TICKET_MILESTONES = [
  'started',
  'awaiting-approval',
  'host-done',
  'succeeded',
  'failed',
  'needs-human',
  'rejected',
  'cancelled',
  'drift',
  'decommissioned',
] as const;
export type TicketMilestone = (typeof TICKET_MILESTONES)[number];

export interface TicketRef {
  system: 'jira' | 'servicenow' | 'generic' | 'cli';
  key: string;
  url?: string;
}

export interface TicketUpdate {
  ticket: TicketRef;
  milestone: TicketMilestone;
  /** One line for the top of the comment. */
  headline: string;
  /** Further lines, plain text (adapters format them: ADF paragraphs, work-note lines). */
  lines: string[];
  /** The step that produced it, so a duplicate comment after a retry is recognisable. */
  step: string;
}
