/**
 * Starting a provisioning run: validate first (nothing starts on a bad request), one run per ticket (the workflow
 * id is the idempotency key), searchable by ticket and gMSA in the UI.
 */
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { parseRunbookRequest, provisionWorkflowId, type RunbookRequest } from '../runbook/request';
import { GmsaName, RunbookState, RunbookStep, TicketKey } from '../runbook/search-attributes';
import type { provisionGmsaRemoting } from '../workflows';

export interface StartOptions {
  taskQueue: string;
}

export interface StartedRun {
  request: RunbookRequest;
  handle: WorkflowHandle<typeof provisionGmsaRemoting>;
  /** False when a run for this ticket was already going and this call attached to it. */
  started: boolean;
}

/** Throws RunbookRequestError (every bad field) before talking to Temporal at all. */
export async function startProvisioning(client: Client, input: unknown, opts: StartOptions): Promise<StartedRun> {
  const request = parseRunbookRequest(input);
  const workflowId = provisionWorkflowId(request.ticket.key);
  // The 1.24 client does not say whether USE_EXISTING started a run or attached to one (it drops the server's
  // `started` flag), so look first: a run that was already running keeps its run id.
  const runningBefore = await runningRunId(client, workflowId);
  const handle = await client.workflow.start('provisionGmsaRemoting', {
    taskQueue: opts.taskQueue,
    workflowId,
    args: [request],
    // A duplicate delivery of the same ticket attaches to the running run instead of starting a second one.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: [
      { key: TicketKey, value: request.ticket.key },
      { key: GmsaName, value: request.gmsa.name },
      { key: RunbookStep, value: 'queued' },
      { key: RunbookState, value: 'running' },
    ],
    staticSummary: `gMSA ${request.gmsa.name} → ${request.endpoint.name} on ${request.hosts.length} host(s) (${request.ticket.key})`,
    staticDetails: [
      `**Ticket** ${request.ticket.key}${request.ticket.url ? ` (${request.ticket.url})` : ''}`,
      `**gMSA** ${request.domain.netbios}\\${request.gmsa.name}$`,
      `**Endpoint** ${request.endpoint.name} (${request.endpoint.sessionType})`,
      `**Hosts** ${request.hosts.join(', ')}`,
      request.dryRun ? '**Dry run**: plan only' : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  });
  const description = await handle.describe();
  const started = description.runId !== runningBefore;
  return { request, handle: client.workflow.getHandle(workflowId, description.runId), started };
}

async function runningRunId(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return d.status.name === 'RUNNING' ? d.runId : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
