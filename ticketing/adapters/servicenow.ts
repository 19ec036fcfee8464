/**
 * ServiceNow (Table API): find the record by its number, then PATCH `work_notes` (a journal field, so every PATCH
 * appends a note rather than overwriting one) and, when the milestone maps to one, `state` (ecosystem.md §4.3).
 *
 * State values are configuration, not code: incident uses 1/2/3/6/7/8, but sc_req_item and sc_task have their own
 * choice lists, and instances customise all of them (and may require close_code/close_notes to resolve).
 */
import { BackendError } from '../../backends/errors';
import { FailureType } from '../../runbook/failures';
import type { TicketMilestone, TicketUpdate } from '../../runbook/ticket';
import type { TicketPort, TicketUpdateContext } from '../port';
import { basicAuth, DEFAULT_HTTP_TIMEOUT_MS, isRecord, renderPlainText, requestJson, type HttpTarget } from './shared';

export interface ServiceNowAdapterConfig {
  /** `https://your-instance.service-now.com` */
  instanceUrl: string;
  user: string;
  password: string;
  /** The table for numbers whose prefix is not one of the well-known ones (see TABLE_BY_PREFIX). Default incident. */
  table?: string;
  /** Milestone → state value, as stored on the instance (e.g. incident "2" = In Progress). */
  states?: Partial<Record<TicketMilestone, string>>;
  timeoutMs?: number;
}

/** The number prefixes ServiceNow ships with; the number alone says which table the record lives in. */
export const TABLE_BY_PREFIX: Readonly<Record<string, string>> = {
  INC: 'incident',
  RITM: 'sc_req_item',
  SCTASK: 'sc_task',
  REQ: 'sc_request',
  CHG: 'change_request',
  PRB: 'problem',
};

export const DEFAULT_SERVICENOW_TABLE = 'incident';

export function tableForNumber(number: string, fallback: string = DEFAULT_SERVICENOW_TABLE): string {
  const prefix = /^([A-Za-z]+)\d/.exec(number.trim())?.[1]?.toUpperCase();
  return (prefix && TABLE_BY_PREFIX[prefix]) || fallback;
}

interface ServiceNowRecord {
  sysId: string;
  state: string | undefined;
}

export class ServiceNowAdapter implements TicketPort {
  readonly name = 'servicenow';
  private readonly target: HttpTarget;

  constructor(private readonly config: ServiceNowAdapterConfig) {
    this.target = {
      adapter: 'servicenow',
      baseUrl: config.instanceUrl,
      authorization: basicAuth(config.user, config.password),
      timeoutMs: config.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS,
    };
  }

  async postUpdate(update: TicketUpdate, context: TicketUpdateContext): Promise<void> {
    const number = update.ticket.key;
    const table = tableForNumber(number, this.config.table ?? DEFAULT_SERVICENOW_TABLE);
    const record = await this.find(table, number);

    const body: { work_notes: string; state?: string } = { work_notes: renderPlainText(update, context) };
    const state = this.config.states?.[update.milestone];
    // Setting the state it already has would only add a no-op entry to the record's history.
    if (state !== undefined && state !== record.state) body.state = state;

    await requestJson(this.target, {
      method: 'PATCH',
      path: `/api/now/table/${encodeURIComponent(table)}/${encodeURIComponent(record.sysId)}`,
      body,
    });
  }

  private async find(table: string, number: string): Promise<ServiceNowRecord> {
    // The request schema already restricts ticket keys, but check anyway: URL encoding only protects the URL, and
    // ServiceNow decodes the value before parsing it as an encoded query, where `^` would add conditions (`^OR...`).
    if (number.includes('^')) {
      throw new BackendError(FailureType.RequestInvalid, `servicenow: "${number}" is not a record number`, {
        adapter: 'servicenow',
      });
    }
    const condition = encodeURIComponent(`number=${number}`);
    const query = `sysparm_query=${condition}&sysparm_fields=sys_id,number,state&sysparm_limit=1`;
    const answer = await requestJson(this.target, {
      method: 'GET',
      path: `/api/now/table/${encodeURIComponent(table)}?${query}`,
    });
    const rows = isRecord(answer) && Array.isArray(answer.result) ? (answer.result as unknown[]) : null;
    if (rows === null) {
      throw new BackendError(FailureType.BackendUnavailable, `servicenow: the ${table} query answer has no result`, {
        adapter: 'servicenow',
      });
    }
    const row = rows[0];
    if (!isRecord(row) || typeof row.sys_id !== 'string' || row.sys_id === '') {
      // ServiceNow answers 200 with an empty result (not 404) when nothing matches the query.
      throw new BackendError(FailureType.ObjectNotFound, `servicenow: no ${table} record numbered ${number}`, {
        adapter: 'servicenow',
        table,
        number,
      });
    }
    return { sysId: row.sys_id, state: typeof row.state === 'string' ? row.state : undefined };
  }
}
