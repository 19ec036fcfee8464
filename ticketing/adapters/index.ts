/**
 * Which adapter serves which ticket, from the worker's environment. Credentials live only here (read from env at
 * worker start, never from workflow arguments or history) and never appear in errors or log lines.
 *
 * A system without credentials falls back to the log adapter (the lab needs nothing configured). A system with
 * SOME of its variables set is a half-finished configuration, and tickets would silently get nothing: that is an
 * error at startup, naming what is missing.
 */
import { z } from 'zod';
import { TICKET_MILESTONES, type TicketRef } from '../../runbook/ticket';
import type { TicketPort } from '../port';
import { JiraAdapter } from './jira';
import { LogAdapter, type LogSink } from './log';
import { ServiceNowAdapter } from './servicenow';
import type { TicketAdapterReport } from './shared';

export { JiraAdapter, type JiraAdapterConfig, toAdf } from './jira';
export { LogAdapter, type LogSink } from './log';
export { ServiceNowAdapter, type ServiceNowAdapterConfig, tableForNumber } from './servicenow';
export type { TicketAdapterReport, TicketHttpErrorDetails } from './shared';

/** A bad ticketing variable; `variable` names it, and the message never repeats its value (it may be a secret). */
export class TicketConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'TicketConfigError';
  }
}

export interface TicketPorts {
  forTicket(ref: TicketRef): TicketPort;
  /** For createTicketActivities: where run links point. uiUrl is null when no UI address is configured. */
  readonly links: { uiUrl: string | null; namespace: string };
  /** Which adapter each system gets, for a startup log line (names only, no secrets). */
  describe(): Record<TicketRef['system'], string>;
}

export interface TicketPortOptions {
  /** Where the log adapter writes; process.stdout by default. */
  log?: LogSink;
  /** Non-fatal adapter problems (a Jira transition not available); stderr JSON by default. */
  report?: (report: TicketAdapterReport) => void;
}

const JIRA_VARS = ['GMSA_JIRA_BASE_URL', 'GMSA_JIRA_EMAIL', 'GMSA_JIRA_API_TOKEN'] as const;
const SNOW_VARS = ['GMSA_SNOW_INSTANCE_URL', 'GMSA_SNOW_USER', 'GMSA_SNOW_PASSWORD'] as const;

const httpUrl = z.url({ protocol: /^https?$/ });
const milestoneKey = z.enum(TICKET_MILESTONES);
// partialRecord: in zod 4 a record keyed by an enum is exhaustive; a map names only the milestones that move.
const transitionMap = z.partialRecord(milestoneKey, z.string().trim().min(1));
// State values are choice values ("2"); accept JSON numbers too, since that is how people will write them.
const stateMap = z.partialRecord(
  milestoneKey,
  z.union([z.string().trim().min(1), z.number().int()]).transform((v) => String(v)),
);
const tableName = z.string().regex(/^[a-z0-9_]+$/, 'a ServiceNow table name (lowercase letters, digits, _)');
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export function createTicketPorts(env: NodeJS.ProcessEnv, options: TicketPortOptions = {}): TicketPorts {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const log = new LogAdapter(options.log);
  const jira = completeGroup(JIRA_VARS, get)
    ? new JiraAdapter({
        baseUrl: parse('GMSA_JIRA_BASE_URL', httpUrl, get('GMSA_JIRA_BASE_URL')),
        email: get('GMSA_JIRA_EMAIL') ?? '',
        apiToken: get('GMSA_JIRA_API_TOKEN') ?? '',
        transitions: parseJson('GMSA_JIRA_TRANSITIONS', transitionMap, get('GMSA_JIRA_TRANSITIONS')),
        internalNotes: parseOptional('GMSA_JIRA_INTERNAL_NOTES', flag, get('GMSA_JIRA_INTERNAL_NOTES')),
        report: options.report,
      })
    : null;
  const servicenow = completeGroup(SNOW_VARS, get)
    ? new ServiceNowAdapter({
        instanceUrl: parse('GMSA_SNOW_INSTANCE_URL', httpUrl, get('GMSA_SNOW_INSTANCE_URL')),
        user: get('GMSA_SNOW_USER') ?? '',
        password: get('GMSA_SNOW_PASSWORD') ?? '',
        table: parseOptional('GMSA_SNOW_TABLE', tableName, get('GMSA_SNOW_TABLE')),
        states: parseJson('GMSA_SNOW_STATES', stateMap, get('GMSA_SNOW_STATES')),
      })
    : null;

  const uiUrl = parseOptional('GMSA_TEMPORAL_UI_URL', httpUrl, get('GMSA_TEMPORAL_UI_URL')) ?? null;
  const namespace = get('TEMPORAL_NAMESPACE') ?? 'default';

  const forTicket = (ref: TicketRef): TicketPort => {
    if (ref.system === 'jira' && jira) return jira;
    if (ref.system === 'servicenow' && servicenow) return servicenow;
    return log;
  };

  return {
    forTicket,
    links: { uiUrl, namespace },
    describe: () => ({
      jira: (jira ?? log).name,
      servicenow: (servicenow ?? log).name,
      generic: log.name,
      cli: log.name,
    }),
  };
}

/** All set: use the system. None set: not configured. Some set: refuse, naming the missing ones. */
function completeGroup(names: readonly string[], get: (name: string) => string | undefined): boolean {
  const missing = names.filter((n) => get(n) === undefined);
  if (missing.length === 0) return true;
  if (missing.length === names.length) return false;
  const set = names.filter((n) => !missing.includes(n));
  const also = missing.length > 1 ? ` (nor ${missing.slice(1).join(', ')})` : '';
  throw new TicketConfigError(
    missing[0],
    `not set${also}, but ${set.join(', ')} is; set all of ${names.join(', ')} or none`,
  );
}

function parse<T>(variable: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new TicketConfigError(variable, describeIssues(result.error));
  return result.data;
}

function parseOptional<T>(variable: string, schema: z.ZodType<T>, value: string | undefined): T | undefined {
  return value === undefined ? undefined : parse(variable, schema, value);
}

function parseJson<T>(variable: string, schema: z.ZodType<T>, value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new TicketConfigError(variable, 'not valid JSON (expected an object of milestone → value)');
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    // The usual mistake is a milestone name; listing them saves a trip to the source.
    throw new TicketConfigError(
      variable,
      `${describeIssues(result.error)} (milestones: ${TICKET_MILESTONES.join(', ')})`,
    );
  }
  return result.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
      return `${where}${issue.message}`;
    })
    .join('; ');
}
